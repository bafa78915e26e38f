"""CIFAR-10 from its python batches (``cifar-10-python.tar.gz`` extracted).

The folder (``cifar-10-batches-py``, or a folder holding it) has ``data_batch_1`` … ``data_batch_5``
(split ``train``), ``test_batch`` (split ``test``) and ``batches.meta`` (the class names). Each batch is a
pickled dict: ``data`` (N x 3072 uint8: the red, green and blue 32x32 planes of each image), ``labels``
and ``filenames``.

The batches are pickles, and unpickling can run code: they are read with an unpickler that only builds
NumPy arrays and plain containers, so a doctored batch fails to load instead of running anything.
"""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Any

import numpy as np

from cutkit.data.classify.base import ArraySet, DataError

META = "batches.meta"
TEST_BATCH = "test_batch"
_TRAIN_BATCH = re.compile(r"data_batch_(\d+)")
SUBFOLDER = "cifar-10-batches-py"  # the folder the official archive extracts to
SIDE = 32

# The only globals a batch needs: NumPy's array reconstruction (numpy 1.x and 2.x module names), and the
# bytes encoder pickle protocol 2 uses when written by Python 3.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}

__all__ = ["cifar_root", "load_batch", "open_cifar10"]


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not part of a CIFAR batch")
        return super().find_class(module, name)


def load_batch(path: Path) -> dict[str, Any]:
    """The dict pickled in a CIFAR batch or meta file, with text keys (Python 2 and 3 pickles alike)."""
    try:
        # latin1 reads Python 2 byte strings (the official files) without touching the array bytes.
        obj = _ArrayUnpickler(io.BytesIO(Path(path).read_bytes()), encoding="latin1").load()
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError) as exc:
        raise DataError(f"{path}: not a readable CIFAR batch ({exc})") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{path}: a CIFAR batch holds a dict, found a {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else k: v for k, v in obj.items()}


def cifar_root(folder: Path) -> Path | None:
    """The folder with the batches: ``folder`` itself or its ``cifar-10-batches-py``; None if neither."""
    for candidate in (folder, folder / SUBFOLDER):
        if (candidate / META).is_file():
            return candidate
    return None


def _batch_files(root: Path, split: str) -> list[Path]:
    if split == "test":
        return [root / TEST_BATCH] if (root / TEST_BATCH).is_file() else []
    if split != "train":
        return []
    numbered = [(int(m.group(1)), p) for p in root.iterdir() if (m := _TRAIN_BATCH.fullmatch(p.name))]
    return [p for _, p in sorted(numbered)]


def _field(batch: dict[str, Any], key: str, path: Path) -> Any:
    if key not in batch:
        raise DataError(f"{path}: no '{key}' entry (found: {', '.join(map(str, batch))})")
    return batch[key]


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    batch = load_batch(path)
    data = np.asarray(_field(batch, "data", path))
    labels = np.asarray(_field(batch, "labels", path), dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE:
        raise DataError(f"{path}: 'data' must be N x {3 * SIDE * SIDE} uint8, got {data.dtype} {data.shape}")
    if labels.shape != (len(data),):
        raise DataError(f"{path}: {labels.size} labels for {len(data)} images")
    names = batch.get("filenames")
    names = [f"{path.name}/{i:05d}" for i in range(len(data))] if names is None else list(names)
    if len(names) != len(data):
        raise DataError(f"{path}: {len(names)} file names for {len(data)} images")
    names = [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]
    # Each row is three 32x32 planes (R, G, B): to N x 32 x 32 x 3.
    images = data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels, names


def class_names(root: Path) -> list[str]:
    """The class names in ``batches.meta``."""
    names = _field(load_batch(root / META), "label_names", root / META)
    return [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]


def open_cifar10(folder: Path, split: str, *, channels: int | None = None) -> ArraySet:
    """The ``split`` (``train``: every ``data_batch_N``; ``test``: ``test_batch``) of a CIFAR-10 folder."""
    root = cifar_root(folder)
    if root is None:
        raise DataError(f"{folder}: no CIFAR-10 '{META}' here or in {SUBFOLDER}/")
    files = _batch_files(root, split)
    if not files:
        raise DataError(f"{root}: no CIFAR-10 '{split}' batches (train: data_batch_N, test: {TEST_BATCH})")
    parts = [_read_batch(p) for p in files]
    return ArraySet(
        np.concatenate([p[0] for p in parts]),
        channels=channels,
        classes=class_names(root),
        labels=np.concatenate([p[1] for p in parts]),
        names=[n for p in parts for n in p[2]],
        source=root,
        split=split,
    )
