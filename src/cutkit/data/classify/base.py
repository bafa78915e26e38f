"""The classification dataset: samples of an image, an integer label and a name, and views of a subset.

A *sample* is ``{"image": HxW (grey) or HxWx3 (RGB) uint8, "label": int, "name": str}``. Every set knows
its ``classes`` (label ``i`` is ``classes[i]``) and all its ``labels`` up front, so samplers and class
weights need no decoding. Images are read on access: from an in-memory array (MNIST, CIFAR-10) or from
files (image folders, CSV lists).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from cutkit.data.pairs import DataError
from cutkit.io.image import open_image, to_rgb_array

Sample = dict[str, Any]

__all__ = [
    "ArraySet",
    "ClassificationSet",
    "DataError",
    "FileSet",
    "Sample",
    "SubsetView",
    "convert_channels",
]


def convert_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """``image`` (HxW grey or HxWx3 RGB uint8) with ``channels`` channels: 1 gives HxW, 3 gives HxWx3."""
    if channels == 1:
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)


class ClassificationSet:
    """A map-style dataset of classification samples (usable directly by a ``DataLoader``).

    Attributes:
        classes: the class names; label ``i`` means ``classes[i]``.
        labels: every sample's label, an int64 array.
        names: every sample's name (a file's relative path, or ``split/index`` for arrays).
        source: the file or folder the samples come from.
        split: the named split these samples are (``"train"``, ``"val"``, ``"test"``), or None when the
            source has no named splits and the whole of it was read.
        channels: 1 (images are HxW grey) or 3 (HxWx3 RGB).
    """

    def __init__(
        self,
        *,
        classes: Sequence[str],
        labels: np.ndarray,
        names: Sequence[str],
        source: Path,
        split: str | None,
        channels: int,
    ) -> None:
        self.classes = list(classes)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.names = list(names)
        self.source, self.split, self.channels = Path(source), split, channels
        self._check()

    def _check(self) -> None:
        if self.channels not in (1, 3):
            raise ValueError(f"{self.source}: channels must be 1 or 3, got {self.channels!r}")
        if self.labels.ndim != 1 or len(self.labels) != len(self.names):
            raise DataError(f"{self.source}: {len(self.labels)} labels for {len(self.names)} samples")
        if len(self.labels) and not (self.labels.min() >= 0 and self.labels.max() < len(self.classes)):
            raise DataError(
                f"{self.source}: labels must lie in [0, {len(self.classes)}), "
                f"got [{self.labels.min()}, {self.labels.max()}]"
            )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Sample:
        i = range(len(self))[index]  # IndexError out of range; negative indices count from the end
        return {"image": self.image(i), "label": int(self.labels[i]), "name": self.names[i]}

    def image(self, index: int) -> np.ndarray:
        """The uint8 image of sample ``index`` (HxW when ``channels`` is 1, else HxWx3)."""
        raise NotImplementedError(f"{type(self).__name__} does not read images")

    def counts(self) -> np.ndarray:
        """Samples per class, an int64 array of ``len(classes)`` entries."""
        return np.bincount(self.labels, minlength=len(self.classes))

    def subset(self, indices: Sequence[int] | np.ndarray) -> SubsetView:
        """A view of the samples at ``indices`` (in that order), with the same classes."""
        return SubsetView(self, indices)

    def record(self) -> dict[str, Any]:
        """A JSON-serialisable description: source, split, size, classes and samples per class."""
        return {
            "source": str(self.source),
            "split": self.split,
            "count": len(self),
            "channels": self.channels,
            "classes": self.classes,
            "counts": self.counts().tolist(),
        }

    def __repr__(self) -> str:
        split = f", split={self.split!r}" if self.split else ""
        size = f"{len(self)} samples, {len(self.classes)} classes"
        return f"{type(self).__name__}({str(self.source)!r}{split}, {size})"


class ArraySet(ClassificationSet):
    """Samples held in memory as an ``N x H x W`` (grey) or ``N x H x W x 3`` (RGB) uint8 array.

    Args:
        images: the images.
        channels: the channels to serve (converted on access); None: the array's own.
        **meta: ``classes``, ``labels``, ``names``, ``source`` and ``split`` of :class:`ClassificationSet`.
    """

    def __init__(self, images: np.ndarray, *, channels: int | None = None, **meta: Any) -> None:
        native = _array_channels(images, meta.get("source", "<array>"))
        self.images = images
        super().__init__(channels=native if channels is None else channels, **meta)
        if len(images) != len(self.labels):
            raise DataError(f"{self.source}: {len(images)} images but {len(self.labels)} labels")

    def image(self, index: int) -> np.ndarray:
        return convert_channels(self.images[index], self.channels)


def _array_channels(images: np.ndarray, source: Any) -> int:
    if images.dtype != np.uint8 or not (images.ndim == 3 or (images.ndim == 4 and images.shape[3] == 3)):
        raise DataError(
            f"{source}: images must be an N x H x W or N x H x W x 3 uint8 array, "
            f"got {images.dtype} of shape {images.shape}"
        )
    return 1 if images.ndim == 3 else 3


class FileSet(ClassificationSet):
    """Samples read from image files on access (any format :func:`cutkit.io.image.open_image` reads).

    Args:
        paths: the image files, one per sample.
        channels: 3 (RGB, the default) or 1 (grey).
        **meta: ``classes``, ``labels``, ``names``, ``source`` and ``split`` of :class:`ClassificationSet`.
    """

    def __init__(self, paths: Sequence[Path], *, channels: int | None = None, **meta: Any) -> None:
        self.paths = [Path(p) for p in paths]
        super().__init__(channels=3 if channels is None else channels, **meta)
        if len(self.paths) != len(self.labels):
            raise DataError(f"{self.source}: {len(self.paths)} files but {len(self.labels)} labels")

    def image(self, index: int) -> np.ndarray:
        return convert_channels(to_rgb_array(open_image(self.paths[index])), self.channels)


class SubsetView(ClassificationSet):
    """The samples of ``base`` at ``indices``, read through ``base`` (nothing is copied)."""

    def __init__(self, base: ClassificationSet, indices: Sequence[int] | np.ndarray) -> None:
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if len(idx) and not (-len(base) <= idx.min() and idx.max() < len(base)):
            raise IndexError(f"{base.source}: subset indices must lie in [0, {len(base)})")
        self.base, self.indices = base, idx % max(1, len(base))
        super().__init__(
            classes=base.classes,
            labels=base.labels[self.indices],
            names=[base.names[i] for i in self.indices],
            source=base.source,
            split=base.split,
            channels=base.channels,
        )

    def image(self, index: int) -> np.ndarray:
        return self.base.image(int(self.indices[index]))
