"""Command-line flags generated from typed config dataclasses, so each option is declared once.

A field's ``metadata`` holds its help (``help``), an optional short flag (``short``) and choices
(``choices``). ``bool`` fields become ``--flag/--no-flag``, tuples take several values, ``dict`` fields take
``key=value`` pairs. The values the user typed are kept apart from the defaults (see :func:`explicit`).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any

from cutkit._util.suggest import did_you_mean


def opt(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with its CLI help; ``default`` may be a list/dict (copied per instance)."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(
            default_factory=lambda: type(default)(default), metadata={"help": help, **meta}
        )
    return dataclasses.field(default=default, metadata={"help": help, **meta})


def add_fields(parser: argparse.ArgumentParser, cls: type, *, title: str | None = None) -> None:
    """Add one flag per field of ``cls``; their defaults are ``SUPPRESS`` so only typed values appear."""
    group = parser.add_argument_group(title) if title else parser
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli", True):
            _add(group, f, hints[f.name])


def _add(group: Any, f: dataclasses.Field, hint: Any) -> None:
    flags = [f"--{f.name.replace('_', '-')}", *([f.metadata["short"]] if "short" in f.metadata else [])]
    base, optional = _unwrap(hint)
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    kw: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": _help(f, default)}
    if base is bool:
        kw["action"] = argparse.BooleanOptionalAction
    elif typing.get_origin(base) in (tuple, list):
        kw |= {"nargs": "+", "type": typing.get_args(base)[0], "metavar": "VALUE"}
    elif typing.get_origin(base) is dict or base is dict:
        kw |= {"nargs": "+", "type": _key_value, "metavar": "KEY=VALUE"}
    else:
        kw |= {"type": _none_or(base) if optional else base, "metavar": f.name.upper()}
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
    group.add_argument(*flags, **kw)


def _help(f: dataclasses.Field, default: Any) -> str:
    text = f.metadata.get("help", "")
    if "choices" in f.metadata:
        text += f"; one of {', '.join(map(str, f.metadata['choices']))}"
    return f"{text} (default: {default})" if default not in (None, {}, (), []) else text


def _unwrap(hint: Any) -> tuple[Any, bool]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def _none_or(kind: type) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() in ("none", "null") else kind(text)

    parse.__name__ = kind.__name__
    return parse


def _key_value(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got '{text}'")
    key, value = text.split("=", 1)
    return key.strip(), parse_scalar(value.strip())


def parse_scalar(text: str) -> Any:
    """``"1"`` → 1, ``"0.5"`` → 0.5, ``"true"`` → True, ``"1,2"`` → (1, 2), anything else stays text."""
    if "," in text:
        return tuple(parse_scalar(t) for t in text.split(","))
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def explicit(ns: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The values of ``cls``'s fields that the user typed (absent ones were suppressed)."""
    names = {f.name for f in dataclasses.fields(cls)}
    out = {k: v for k, v in vars(ns).items() if k in names}
    for k, v in out.items():
        if isinstance(v, list) and v and isinstance(v[0], tuple) and len(v[0]) == 2:
            out[k] = dict(v)
        elif isinstance(v, list):
            out[k] = tuple(v)
    return out


def build(cls: type, values: dict[str, Any], *, where: str = "config") -> Any:
    """Construct ``cls`` from ``values``, rejecting unknown keys with the closest valid name."""
    names = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in names:
            raise ValueError(f"{where}: unknown option '{key}'{did_you_mean(key, names)}")
    return cls(**values)


def reject_unknown(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; an unknown flag is an error that suggests the closest known flag."""
    ns, rest = parser.parse_known_args(argv)
    if rest:
        known = _flags(parser)
        bad = next((r for r in rest if r.startswith("-")), rest[0])
        hint = did_you_mean(bad.split("=")[0], known) if bad.startswith("-") else ""
        parser.error(f"unrecognized argument '{bad}'{hint}")
    return ns


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    """Every option string of ``parser`` and its sub-commands (argparse has no public API for this)."""
    out: list[str] = []
    for action in parser._actions:
        out += action.option_strings
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                out += _flags(sub)
    return out
