"""Augmentation configs whose every number is checked against its bounds, shared by all tasks' configs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

from cutkit._util.suggest import did_you_mean

C = TypeVar("C", bound="BoundedConfig")


class Bound(NamedTuple):
    """Where a field's number (or both ends of a ``(low, high)`` range field) must lie."""

    low: float
    high: float
    low_open: bool = False  # the lowest value itself is excluded
    whole: bool = False  # ints only


class BoundedConfig:
    """A mixin for frozen dataclasses: each field is checked against ``BOUNDS[name]`` on construction.

    A field whose default is a tuple is a ``(low, high)`` range: both ends are checked, they must be in
    order, and a list (from JSON) becomes a tuple. ``from_dict`` rejects unknown keys with the closest name.
    """

    BOUNDS: ClassVar[Mapping[str, Bound]]

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(f.default, tuple):
                object.__setattr__(self, f.name, self._checked_range(f.name, value))
            else:
                self._check_number(f.name, value)

    @classmethod
    def from_dict(cls: type[C], d: Mapping[str, Any]) -> C:
        """The defaults with ``d``'s values over them; unknown keys are rejected with the closest name."""
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        for key in d:
            if key not in names:
                raise ValueError(f"unknown augmentation option '{key}'{did_you_mean(key, names)}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        """Every field by name (ranges as lists), e.g. to record with a run."""
        values = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}

    def _check_number(self, name: str, value: Any) -> None:
        low, high, low_open, whole = self.BOUNDS[name]
        where = f"{type(self).__name__}.{name}"
        if isinstance(value, bool) or not isinstance(value, (int,) if whole else (int, float)):
            raise ValueError(f"{where} must be {'an int' if whole else 'a number'}, got {value!r}")
        if not (low < value if low_open else low <= value) or not value <= high:
            raise ValueError(
                f"{where} must lie in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}"
            )

    def _checked_range(self, name: str, value: Any) -> tuple[Any, Any]:
        where = f"{type(self).__name__}.{name}"
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValueError(f"{where} must be a (low, high) pair, got {value!r}")
        for end in value:
            self._check_number(name, end)
        if value[0] > value[1]:
            raise ValueError(f"{where} must be ordered (low <= high), got {tuple(value)!r}")
        return (value[0], value[1])
