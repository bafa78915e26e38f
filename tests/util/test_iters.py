"""``batched``: consecutive lists, the last one shorter, lazily."""

from __future__ import annotations

import itertools

import pytest

from cutkit._util.iters import batched


def test_consecutive_lists_the_last_shorter() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batched([], 3)) == []


def test_lazy_on_an_endless_stream() -> None:
    assert next(iter(batched(itertools.count(), 2))) == [0, 1]


def test_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(batched(range(3), 0))
