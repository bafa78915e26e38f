"""Image-classification data: readers, a dataset with labels up front, augmentation and batch mixing.

:func:`open_classification` opens MNIST IDX files, CIFAR-10 python batches, image-folder trees and CSV
lists as a :class:`ClassificationSet`. Augmentation lives in :mod:`cutkit.data.classify.transforms`
(NumPy/OpenCV), batch-level mixup/cutmix and normalisation in :mod:`cutkit.data.classify.batch` (PyTorch),
per-epoch seeded augmentation of a set in :mod:`cutkit.data.classify.augmented`.
"""

from __future__ import annotations

from cutkit.data.classify.base import ArraySet, ClassificationSet, DataError, FileSet, SubsetView
from cutkit.data.classify.open import SPLITS, available_splits, detect_format, open_classification

__all__ = [
    "SPLITS",
    "ArraySet",
    "ClassificationSet",
    "DataError",
    "FileSet",
    "SubsetView",
    "available_splits",
    "detect_format",
    "open_classification",
]
