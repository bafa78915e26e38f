"""One entry point for every classification source: :func:`open_classification`.

A source is a path, recognised by what it holds (in this order):

- ``mnist``: a folder with the MNIST IDX files (:mod:`cutkit.data.classify.idx`); splits train, test;
- ``cifar10``: a folder with CIFAR-10 python batches, or holding ``cifar-10-batches-py``
  (:mod:`cutkit.data.classify.cifar`); splits train, test;
- ``tiny-imagenet``: a Tiny-ImageNet folder (``wnids.txt``, ``train/``, ``val/``), or one holding
  ``tiny-imagenet-200`` (:mod:`cutkit.data.classify.tinyimagenet`); splits train, val;
- ``csv``: a ``.csv`` list, or a folder with ``train.csv``/``val.csv``/``test.csv``
  (:mod:`cutkit.data.classify.csvlist`);
- ``folder``: an image-folder tree, split or not (:mod:`cutkit.data.classify.folder`).

A registered dataset name that is not an existing path (``mnist``, ``fashion-mnist``, ``cifar10``) is
downloaded once into the cache (:mod:`cutkit.data.classify.named`) and read from there.

A source without named splits (a single CSV list, a tree of class folders) is read whole for any split;
the set's ``split`` is then None, so a caller that needs a separate validation set knows to carve one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cutkit._util.suggest import unknown
from cutkit.data.classify.base import ClassificationSet, DataError
from cutkit.data.classify.cifar import cifar_root, open_cifar10
from cutkit.data.classify.csvlist import csv_splits, open_csv
from cutkit.data.classify.folder import open_image_folder, split_folders
from cutkit.data.classify.idx import find_mnist, open_mnist
from cutkit.data.classify.tinyimagenet import open_tiny_imagenet, tiny_imagenet_root

SPLITS = ("train", "val", "test")
FORMATS = ("mnist", "cifar10", "tiny-imagenet", "csv", "folder")

__all__ = ["FORMATS", "SPLITS", "available_splits", "detect_format", "open_classification"]


def _existing(spec: str | Path) -> Path:
    """The path ``spec`` names, or the folder of the dataset it names (downloaded on first use)."""
    from cutkit.data.classify.named import DATASETS, fetch_dataset, named_dataset

    dataset = named_dataset(spec)
    if dataset is not None:
        return fetch_dataset(dataset)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(
            f"{spec}: no such file or folder (give a folder of MNIST IDX files, CIFAR-10 batches, "
            "Tiny-ImageNet or class subfolders, a path,label CSV list, or a dataset name: "
            f"{', '.join(DATASETS)})"
        )
    return path


def detect_format(spec: str | Path) -> str:
    """Which of :data:`FORMATS` the source ``spec`` is (see the module docstring)."""
    path = _existing(spec)
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return "csv"
        raise DataError(f"{path}: a classification source file must be a .csv list of path,label rows")
    if find_mnist(path):
        return "mnist"
    if cifar_root(path) is not None:
        return "cifar10"
    if tiny_imagenet_root(path) is not None:
        return "tiny-imagenet"
    if csv_splits(path):
        return "csv"
    return "folder"


def available_splits(spec: str | Path) -> tuple[str, ...]:
    """The named splits of a source, in :data:`SPLITS` order; ``()`` for a source without splits."""
    path = _existing(spec)
    fmt = detect_format(path)
    if fmt == "mnist":
        found: Sequence[str] = list(find_mnist(path))
    elif fmt == "cifar10":
        found = [s for s in ("train", "test") if _has_cifar_split(path, s)]
    elif fmt == "tiny-imagenet":
        found = ["train", "val"]
    elif fmt == "csv":
        found = list(csv_splits(path)) if path.is_dir() else []
    else:
        found = list(split_folders(path))
    return tuple(s for s in SPLITS if s in found)


def _has_cifar_split(path: Path, split: str) -> bool:
    root = cifar_root(path)
    if root is None:
        return False
    if split == "test":
        return (root / "test_batch").is_file()
    return any(root.glob("data_batch_*"))


def open_classification(
    spec: str | Path,
    split: str,
    *,
    classes: Sequence[str] | None = None,
    channels: int | None = None,
) -> ClassificationSet:
    """The ``split`` of classification source ``spec``.

    Args:
        spec: the source's path (see the module docstring for what is recognised).
        split: ``train``, ``val`` or ``test``.
        classes: the classes the labels must mean (e.g. those a model was trained on): folder and CSV
            labels are mapped to them by name; other sources must have exactly these classes.
        channels: 1 (grey HxW images) or 3 (RGB HxWx3); default: the source's own (MNIST grey, the rest
            RGB).

    Raises:
        DataError: naming the file or folder, for a missing source, split or class, or unreadable data.
    """
    if split not in SPLITS:
        raise ValueError(unknown("split", split, SPLITS))
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
    path = _existing(spec)
    fmt = detect_format(path)
    if fmt == "mnist":
        data: ClassificationSet = open_mnist(path, split, channels=channels)
    elif fmt == "cifar10":
        data = open_cifar10(path, split, channels=channels)
    elif fmt == "tiny-imagenet":
        data = open_tiny_imagenet(path, split, channels=channels)
    elif fmt == "csv":
        data = open_csv(path, split, classes=classes, channels=channels)
    else:
        data = open_image_folder(path, split, classes=classes, channels=channels)
    if classes is not None and data.classes != list(classes):
        raise DataError(f"{path}: its classes {data.classes} are not the expected {list(classes)}")
    return data
