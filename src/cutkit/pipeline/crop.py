"""Cropping the output to the subject: the box of the visible alpha, plus a margin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

# Alpha levels (of 255) at or below which a pixel does not count as subject: faint noise far from the
# subject would otherwise stretch the box to the whole photo.
CROP_THRESHOLD = 8


class EmptySubjectError(ValueError):
    """``crop`` was asked for, but the alpha has no subject to crop to."""


@dataclass(frozen=True)
class Margin:
    """Space kept around the subject: ``amount`` pixels, or percent of the subject box's longer side."""

    amount: float
    percent: bool = False

    def __str__(self) -> str:
        return f"{self.amount:g}%" if self.percent else f"{self.amount:g}"

    def pixels(self, box_w: int, box_h: int) -> int:
        """The margin in pixels for a subject box of ``box_w`` × ``box_h``."""
        return round(self.amount * max(box_w, box_h) / 100.0) if self.percent else round(self.amount)


def parse_margin(value: Any) -> Margin:
    """``20`` (pixels) or ``"5%"`` (of the subject box's longer side); never negative."""
    if isinstance(value, Margin):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(%?)", text)
    if match is None:
        raise ValueError(f"'{text}' is not a margin: give pixels (20) or a percent of the subject (5%)")
    return Margin(float(match.group(1)), percent=bool(match.group(2)))


def subject_box(alpha: np.ndarray, margin: Margin | float | str = 0) -> tuple[int, int, int, int]:
    """The box ``(left, top, right, bottom)`` (right, bottom exclusive) of the subject plus ``margin``.

    The margin stops at the edges of the image: nothing is padded.

    Args:
        alpha: ``HxW`` uint8 alpha.
        margin: a :class:`Margin`, or anything :func:`parse_margin` reads (``20``, ``"5%"``).

    Raises:
        EmptySubjectError: no pixel of ``alpha`` is above :data:`CROP_THRESHOLD`.
    """
    rows = np.flatnonzero((alpha > CROP_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((alpha > CROP_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise EmptySubjectError(
            f"nothing to crop to: no subject found (every alpha value is {CROP_THRESHOLD}/255 or less)"
        )
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    m = parse_margin(margin).pixels(right - left, bottom - top)
    h, w = alpha.shape
    return max(0, left - m), max(0, top - m), min(w, right + m), min(h, bottom + m)
