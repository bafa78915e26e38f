"""Helpers for error messages that suggest the closest valid name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Candidates scoring this close to the best one are equally plausible typos ('u2netq' is one edit from both
# 'u2net' and 'u2netp'): name them all rather than pick one by a hair of string similarity.
_TIE = 0.1


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice (``'x' or 'y'`` for near ties), or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    if not close:
        return ""
    best = _similarity(name, close[0])
    close = [c for c in close if _similarity(name, c) >= best - _TIE]
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def unknown(kind: str, name: str, choices: Iterable[str]) -> str:
    """Build the message for an unknown name: the suggestion and the valid names."""
    choices = sorted(choices)
    return f"unknown {kind} '{name}'{did_you_mean(name, choices)}; choose from: {', '.join(choices)}"
