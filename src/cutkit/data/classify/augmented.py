"""A classification set augmented reproducibly, epoch by epoch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cutkit.data.classify.base import ClassificationSet, Sample
from cutkit.data.stream import SharedEpoch, check_seed

__all__ = ["TransformedSet"]


class TransformedSet:
    """The samples of ``base`` passed through ``transform(sample, rng)``.

    Sample ``i`` of epoch ``e`` is transformed with ``np.random.default_rng([seed, e, i])``: the same
    whatever the number of DataLoader workers, so a resumed run sees the same data. The trainer calls
    :meth:`set_epoch`; the epoch lives in shared memory, so persistent workers see it too.

    Args:
        base: the samples.
        transform: e.g. :func:`cutkit.data.classify.transforms.build_train_transform`'s result.
        seed: the augmentation seed (an int >= 0).
    """

    def __init__(
        self,
        base: ClassificationSet,
        *,
        transform: Callable[[Sample, np.random.Generator], Sample],
        seed: int,
    ) -> None:
        self.base, self.transform, self.seed = base, transform, check_seed(seed)
        self._epoch = SharedEpoch()

    @property
    def classes(self) -> list[str]:
        return self.base.classes

    @property
    def labels(self) -> np.ndarray:
        return self.base.labels

    @property
    def epoch(self) -> int:
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch the augmentation is seeded with (shared with running workers)."""
        self._epoch.set(epoch)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> dict[str, Any]:
        i = range(len(self))[index]
        return self.transform(self.base[i], np.random.default_rng([self.seed, self.epoch, i]))
