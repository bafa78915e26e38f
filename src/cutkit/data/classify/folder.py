"""Image-folder trees: ``root/<class>/**/*.jpg``, optionally split as ``root/{train,val,test}/<class>/``.

A tree is *split* when every subfolder of its root is a split folder (``train``/``training``,
``val``/``valid``/``validation``, ``test``/``testing``; case-insensitive); otherwise each subfolder is a
class. In a split tree the classes are the union over all splits, so a label means the same class in every
split even when one split lacks a class. Classes are sorted by name, numerically when every name is a
whole number (``2`` before ``10``). Hidden files and folders are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cutkit.data.classify.base import DataError, FileSet
from cutkit.io.paths import IMAGE_SUFFIXES, list_images

SPLIT_FOLDERS = {
    "train": ("train", "training"),
    "val": ("val", "valid", "validation"),
    "test": ("test", "testing"),
}

__all__ = ["class_order", "open_image_folder", "split_folders"]


def _subfolders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def split_folders(root: Path) -> dict[str, Path]:
    """``split -> folder`` when ``root`` is a split tree (see the module docstring), else ``{}``."""
    aliases = {alias: split for split, names in SPLIT_FOLDERS.items() for alias in names}
    subs = _subfolders(root)
    if not subs or any(p.name.lower() not in aliases for p in subs):
        return {}
    found: dict[str, Path] = {}
    for p in subs:
        split = aliases[p.name.lower()]
        if split in found:
            raise DataError(f"{root}: both {found[split].name}/ and {p.name}/ are the '{split}' split")
        found[split] = p
    return found


def class_order(names: Sequence[str]) -> list[str]:
    """Unique class names sorted by name, or numerically when every name is a whole number."""
    unique = set(names)
    if unique and all(n.isdecimal() for n in unique):
        return sorted(unique, key=lambda n: (int(n), n))
    return sorted(unique)


def _class_folders(root: Path) -> list[Path]:
    stray = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if stray:
        raise DataError(
            f"{root}: images directly in the folder ({', '.join(stray[:3])}); an image-folder tree keeps "
            "each class's images in a subfolder named after the class"
        )
    folders = _subfolders(root)
    if not folders:
        raise DataError(f"{root}: no class subfolders (expected {root}/<class>/*.jpg)")
    return folders


def _tree_classes(root: Path) -> list[str]:
    splits = split_folders(root)
    folders = [f for s in splits.values() for f in _class_folders(s)] if splits else _class_folders(root)
    return class_order([f.name for f in folders])


def open_image_folder(
    root: Path, split: str, *, classes: Sequence[str] | None = None, channels: int | None = None
) -> FileSet:
    """The samples of an image-folder tree (its ``split`` folder, if it is a split tree).

    Args:
        root: the tree's root.
        split: ``train``, ``val`` or ``test``; a tree without split folders is read whole whatever the
            split, and the set's ``split`` is then None.
        classes: the class list to label by (e.g. a trained model's); default: the tree's own.
        channels: 3 (RGB, default) or 1 (grey).
    """
    splits = split_folders(root)
    if splits and split not in splits:
        raise DataError(f"{root}: no '{split}' folder (found: {', '.join(f.name for f in splits.values())})")
    folder = splits.get(split, root)
    names = list(classes) if classes is not None else _tree_classes(root)
    index = {name: i for i, name in enumerate(names)}
    paths: list[Path] = []
    labels: list[int] = []
    for class_dir in _class_folders(folder):
        if class_dir.name not in index:
            raise DataError(f"{class_dir}: class '{class_dir.name}' is not one of the given classes {names}")
        files = list_images(class_dir)
        if not files:
            raise DataError(f"{class_dir}: a class folder without images")
        paths += files
        labels += [index[class_dir.name]] * len(files)
    return FileSet(
        paths,
        channels=channels,
        classes=names,
        labels=np.asarray(labels, dtype=np.int64),
        names=[p.relative_to(folder).as_posix() for p in paths],
        source=folder,
        split=split if splits else None,
    )
