"""Tiny-ImageNet (``tiny-imagenet-200.zip`` extracted): 64×64 JPEGs of ImageNet classes named by WordNet id.

The folder (``tiny-imagenet-200``, or a folder holding it) has ``wnids.txt`` (one class id per line),
``train/<wnid>/images/*.JPEG`` (split ``train``), and ``val/images/*.JPEG`` with
``val/val_annotations.txt`` (tab-separated ``file  wnid  x0 y0 x1 y1`` rows; split ``val``). The official
``test/`` images come without labels, so the labelled held-out split is ``val``: asking for ``test`` is an
error that says so. Classes are the ids of ``wnids.txt`` in sorted order (``words.txt`` has their readable
names).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cutkit.data.classify.base import DataError, FileSet
from cutkit.io.paths import list_images

WNIDS = "wnids.txt"
VAL_ANNOTATIONS = Path("val", "val_annotations.txt")
SUBFOLDER = "tiny-imagenet-200"  # the folder the official archive extracts to
SPLITS = ("train", "val")

__all__ = ["SPLITS", "open_tiny_imagenet", "tiny_imagenet_root"]


def tiny_imagenet_root(path: Path) -> Path | None:
    """The Tiny-ImageNet folder at or directly below ``path`` (it holds ``wnids.txt`` and ``train/``)."""
    for root in (path, path / SUBFOLDER):
        if (root / WNIDS).is_file() and (root / "train").is_dir():
            return root
    return None


def _wnids(root: Path) -> list[str]:
    ids = [line.strip() for line in (root / WNIDS).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not ids:
        raise DataError(f"{root / WNIDS}: no class ids")
    if len(set(ids)) != len(ids):
        raise DataError(f"{root / WNIDS}: a class id is listed twice")
    return sorted(ids)


def _train_samples(root: Path, index: dict[str, int]) -> tuple[list[Path], list[int]]:
    paths: list[Path] = []
    labels: list[int] = []
    for wnid, label in index.items():
        folder = root / "train" / wnid
        files = list_images(folder) if folder.is_dir() else []
        if not files:
            raise DataError(f"{folder}: class '{wnid}' of {WNIDS} has no training images")
        paths += files
        labels += [label] * len(files)
    return paths, labels


def _val_samples(root: Path, index: dict[str, int]) -> tuple[list[Path], list[int]]:
    table = root / VAL_ANNOTATIONS
    if not table.is_file():
        raise DataError(f"{table}: missing (the val split's labels)")
    paths: list[Path] = []
    labels: list[int] = []
    for number, line in enumerate(table.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[1] not in index:
            raise DataError(
                f"{table}, line {number}: expected 'file<TAB>wnid' with a wnid of {WNIDS}: {line!r}"
            )
        image = root / "val" / "images" / fields[0]
        if not image.is_file():
            raise DataError(f"{table}, line {number}: no such image {image}")
        paths.append(image)
        labels.append(index[fields[1]])
    return paths, labels


def open_tiny_imagenet(path: Path, split: str, *, channels: int | None = None) -> FileSet:
    """The ``train`` or ``val`` split of the Tiny-ImageNet folder at (or holding) ``path``."""
    root = tiny_imagenet_root(path)
    if root is None:
        raise DataError(f"{path}: no Tiny-ImageNet folder ({WNIDS} and train/)")
    if split not in SPLITS:
        raise DataError(
            f"{root}: Tiny-ImageNet has no labelled '{split}' split (its test labels are not public): "
            "use 'val' as the held-out set"
        )
    classes = _wnids(root)
    index = {wnid: i for i, wnid in enumerate(classes)}
    paths, labels = (_train_samples if split == "train" else _val_samples)(root, index)
    folder = root / split
    return FileSet(
        paths,
        channels=channels,
        classes=classes,
        labels=np.asarray(labels, dtype=np.int64),
        names=[p.relative_to(folder).as_posix() for p in paths],
        source=folder,
        split=split,
    )
