"""MNIST-style data: the IDX file format, and folders holding the four canonical MNIST files.

IDX (LeCun's format, as MNIST and Fashion-MNIST ship): two zero bytes, a type code, the number of
dimensions, each dimension as a big-endian uint32, then the values in C order. Files may be gzip-compressed
(``.gz``, detected by content).

An MNIST folder holds ``train-images-idx3-ubyte`` + ``train-labels-idx1-ubyte`` (split ``train``) and/or
``t10k-images-idx3-ubyte`` + ``t10k-labels-idx1-ubyte`` (split ``test``), each optionally ``.gz``; the
``train-images.idx3-ubyte`` spelling of some mirrors is accepted too. The classes are ``0`` … ``9`` (or up to
the largest label), unless the folder has a ``classes.txt`` with one name per line (Fashion-MNIST's, say).
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from cutkit.data.classify.base import ArraySet, DataError

# IDX type code -> (big-endian) dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MNIST_PREFIXES = {"train": "train", "test": "t10k"}
_GZIP_MAGIC = b"\x1f\x8b"

__all__ = ["find_mnist", "open_mnist", "read_idx"]


def read_idx(path: Path) -> np.ndarray:
    """The array in an IDX file (gzip-compressed or not), in native byte order.

    Raises:
        DataError: naming the file, when it is not IDX, is truncated, or has bytes left over.
    """
    data = _read_bytes(Path(path))
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES:
        raise DataError(f"{path}: not an IDX file (its first bytes are {data[:4].hex()})")
    dtype, ndim = np.dtype(IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated IDX header ({len(data)} bytes for {ndim} dimensions)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = math.prod(dims) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(
            f"{path}: IDX header announces shape {dims} ({expected} bytes of data) "
            f"but the file holds {len(data) - header} bytes"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if data[:2] == _GZIP_MAGIC else data
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"{path}: cannot read ({exc})") from exc


def _find_file(folder: Path, prefix: str, kind: str, ndim: int) -> Path | None:
    for sep in ("-", "."):
        for suffix in (".gz", ""):
            path = folder / f"{prefix}-{kind}{sep}idx{ndim}-ubyte{suffix}"
            if path.is_file():
                return path
    return None


def find_mnist(folder: Path) -> dict[str, tuple[Path, Path]]:
    """``split -> (images file, labels file)`` of the MNIST files in ``folder``; empty when there are none.

    Raises:
        DataError: a split with its images but not its labels, or the other way round.
    """
    found = {}
    for split, prefix in MNIST_PREFIXES.items():
        images, labels = _find_file(folder, prefix, "images", 3), _find_file(folder, prefix, "labels", 1)
        if (images is None) != (labels is None):
            have, lack = ("images", "labels") if images else ("labels", "images")
            raise DataError(f"{folder}: has the MNIST {prefix} {have} but not the {prefix} {lack} file")
        if images is not None and labels is not None:
            found[split] = (images, labels)
    return found


def open_mnist(folder: Path, split: str, *, channels: int | None = None) -> ArraySet:
    """The ``split`` (``train`` or ``test``) of the MNIST folder ``folder``, as grey 28x28 images.

    Classes are ``"0"`` … ``"9"`` (more if a label is 10 or higher, as in EMNIST-style sets).
    """
    files = find_mnist(folder)
    if split not in files:
        raise DataError(f"{folder}: no MNIST '{split}' split here (found: {', '.join(files) or 'none'})")
    images, labels = (read_idx(p) for p in files[split])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{files[split][0]}: expected N x H x W uint8 images, got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{files[split][1]}: {labels.shape} labels for {len(images)} images")
    return ArraySet(
        images,
        channels=channels,
        classes=_class_names(folder, int(labels.max(initial=0)) + 1),
        labels=labels.astype(np.int64),
        names=[f"{split}/{i:05d}" for i in range(len(labels))],
        source=folder,
        split=split,
    )


def _class_names(folder: Path, needed: int) -> list[str]:
    """The names in ``folder/classes.txt``, else ``"0"`` … ``"9"`` (more when a label is 10 or above)."""
    names_file = folder / "classes.txt"
    if not names_file.is_file():
        return [str(i) for i in range(max(10, needed))]
    names = [line.strip() for line in names_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(names) < needed or len(set(names)) != len(names):
        raise DataError(
            f"{names_file}: {len(names)} distinct class names needed for labels up to {needed - 1}"
        )
    return names
