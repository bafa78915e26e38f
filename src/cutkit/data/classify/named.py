"""Datasets by name: ``--data mnist``, ``fashion-mnist`` or ``cifar10`` downloads the official files once.

A name that is not an existing path is looked up in :data:`DATASETS`. Its files go to
``<cache>/datasets/<name>/`` (the weights cache: ``$CUTKIT_HOME``, else the user cache folder) through the
same download as weight files: resumable, checked against the size and MD5 the dataset's authors publish,
and renamed into place only once checked, trying each mirror in turn. An archive is unpacked with
:mod:`tarfile`'s ``data`` filter (no absolute paths, no links out of the folder, no device files) into a
temporary folder that is renamed into place, so the dataset folder is whole or absent. Without a network, the
error names the URLs, the folder to put the files in by hand, and ``--data FOLDER``.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from cutkit.data.classify.base import DataError
from cutkit.zoo.spec import WeightsFile

CLASS_NAMES = "classes.txt"  # one class name per line, for readers whose files only number the classes

__all__ = ["CLASS_NAMES", "DATASETS", "NamedDataset", "dataset_folder", "fetch_dataset", "named_dataset"]


@dataclass(frozen=True)
class NamedDataset:
    """A public dataset cutkit can download.

    Attributes:
        name: what ``--data`` takes.
        files: the files to download (names relative to the dataset's folder), with URLs and checksums.
        unpack: the one file is a ``.tar.gz`` to unpack into the dataset's folder (and then deleted).
        folder: the folder, relative to the dataset's, that holds the data once ready.
        classes: class names, written as :data:`CLASS_NAMES` when the files only number the classes.
        licence: who publishes it and under which terms.
    """

    name: str
    files: tuple[WeightsFile, ...]
    unpack: bool = False
    folder: str = "."
    classes: tuple[str, ...] = ()
    licence: str = ""


def _idx_files(
    mirrors: tuple[str, ...], md5: tuple[str, ...], sizes: tuple[int, ...]
) -> tuple[WeightsFile, ...]:
    """The four MNIST-layout files, in :data:`_MNIST_NAMES` order, each from every mirror."""
    return tuple(
        WeightsFile(filename=name, urls=tuple(m + name for m in mirrors), md5=digest, size=size)
        for name, digest, size in zip(_MNIST_NAMES, md5, sizes, strict=True)
    )


_MNIST_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_MNIST_MD5 = (
    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "d53e105ee54ea40749a09fcbcd1e9432",
    "9fb629c4189551a2d022fa330f9573f3",
    "ec29112dd5afa0611ce80d1b7f02629c",
)
_FASHION_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
_FASHION_MD5 = (
    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "25c81989df183df01b3e8a0aad5dffbe",
    "bef4ecab320f06d8554ea6380940ec79",
    "bb300cfdad3c16e7a12a480ee83cd310",
)
_FASHION_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

DATASETS: dict[str, NamedDataset] = {
    "mnist": NamedDataset(
        name="mnist",
        files=_idx_files(_MNIST_MIRRORS, _MNIST_MD5, (9912422, 28881, 1648877, 4542)),
        licence="Yann LeCun and Corinna Cortes; CC BY-SA 3.0",
    ),
    "fashion-mnist": NamedDataset(
        name="fashion-mnist",
        files=_idx_files(_FASHION_MIRRORS, _FASHION_MD5, (26421880, 29515, 4422102, 5148)),
        classes=_FASHION_CLASSES,
        licence="Zalando Research; MIT",
    ),
    "cifar10": NamedDataset(
        name="cifar10",
        files=(
            WeightsFile(
                filename="cifar-10-python.tar.gz",
                urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
                md5="c58f30108f718f92721af3b95e74349a",
                size=170498071,
            ),
        ),
        unpack=True,
        folder="cifar-10-batches-py",
        licence="Alex Krizhevsky, Vinod Nair and Geoffrey Hinton; no licence stated, cite their report",
    ),
}


def named_dataset(spec: str | Path) -> NamedDataset | None:
    """The dataset ``spec`` names, when it is a registered name and not an existing path."""
    text = str(spec)
    if Path(text).expanduser().exists():
        return None
    return DATASETS.get(text.lower())


def dataset_folder(name: str) -> Path:
    """Where dataset ``name`` is kept: ``<cache>/datasets/<name>``."""
    from cutkit.zoo.weights import cache_dir

    return cache_dir() / "datasets" / name


def fetch_dataset(dataset: NamedDataset, *, progress: bool = True) -> Path:
    """The folder holding ``dataset``, downloading (and unpacking) it first if it is not there yet.

    Raises:
        DataError: a file could not be downloaded from any mirror, failed its checksum, or an archive holds
            a path that would land outside the folder; nothing is left under the file's final name.
    """
    root = dataset_folder(dataset.name)
    ready = root / dataset.folder
    if dataset.unpack and ready.is_dir():
        return ready
    files = [_download(dataset, wf, root, progress) for wf in dataset.files]
    if dataset.unpack:
        _unpack(files[0], root, dataset.folder)
    if dataset.classes and not (ready / CLASS_NAMES).is_file():
        from cutkit.io.image import write_atomic

        write_atomic(ready / CLASS_NAMES, ("\n".join(dataset.classes) + "\n").encode())
    return ready


def _download(dataset: NamedDataset, wf: WeightsFile, root: Path, progress: bool) -> Path:
    from cutkit.zoo.weights import WeightsError, download_file

    dest = root / wf.filename
    if dest.is_file() and (wf.size is None or dest.stat().st_size == wf.size):
        return dest  # under its final name only after its checks passed
    reasons = []
    for url in wf.urls:
        try:
            return download_file(url, dest, md5=wf.md5, sha256=wf.sha256, size=wf.size, progress=progress)
        except WeightsError as exc:
            reasons.append(str(exc))
    raise DataError(_manual_hint(dataset, wf, root, reasons))


def _manual_hint(dataset: NamedDataset, wf: WeightsFile, root: Path, reasons: list[str]) -> str:
    digest = f"md5 {wf.md5}" if wf.md5 else f"sha256 {wf.sha256}"
    lines = [
        f"dataset '{dataset.name}': could not download {wf.filename} ({', '.join(reasons) or 'no URL'}).",
        f"  Download it by hand from {' or '.join(wf.urls)} ({digest}) into {root}/,",
        "  or pass the folder that holds the dataset's files: --data FOLDER.",
    ]
    return "\n".join(lines)


def _unpack(archive: Path, root: Path, folder: str) -> None:
    """Unpack ``archive`` so that ``root/folder`` appears whole; the archive is deleted afterwards."""
    if not hasattr(tarfile, "data_filter"):  # added in Python 3.10.12 and 3.11.4
        raise DataError(
            f"{archive}: unpacking it safely needs tarfile's data filter (Python 3.10.12, 3.11.4 or newer); "
            f"unpack it by hand and pass the {folder}/ folder with --data"
        )
    tmp = root / ".unpacking"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{archive}: cannot unpack it ({exc}); delete it to download it again") from exc
    if not (tmp / folder).is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
        raise DataError(f"{archive}: holds no {folder}/ folder; delete it to download it again")
    os.replace(tmp / folder, root / folder)
    shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink()
