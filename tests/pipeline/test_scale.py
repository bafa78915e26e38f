"""``shrink``: area averaging to a scale, sizes and a trailing channel axis kept."""

from __future__ import annotations

import numpy as np

from cutkit.pipeline.scale import shrink


def test_area_average_of_two_by_two_blocks() -> None:
    x = np.arange(16, dtype=np.float32).reshape(4, 4)
    expected = x.reshape(2, 2, 2, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(shrink(x, 0.5), expected)


def test_one_channel_axis_is_kept_and_sides_stay_at_least_one() -> None:
    assert shrink(np.ones((40, 3, 1), np.float32), 0.1).shape == (4, 1, 1)


def test_scale_one_or_more_returns_the_input_itself() -> None:
    x = np.zeros((5, 5, 3), np.uint8)
    assert shrink(x, 1.0) is x and shrink(x, 2.0) is x
