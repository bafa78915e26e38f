"""CSV lists of ``path,label`` rows, and folders holding one list per split.

Paths are relative to the CSV file's folder (absolute paths are kept). A label is a class name or a class
index: when every label is a whole number the labels are indices and the classes are ``"0"`` …
``str(max)``; otherwise the classes are the label names, sorted (numerically when all are numbers, see
:func:`cutkit.data.classify.folder.class_order`). A first row whose path column reads ``path``, ``file``,
``filename`` or ``image`` is a header; blank rows and rows starting with ``#`` are skipped.

A folder holding ``train.csv``, ``val.csv`` and/or ``test.csv`` is a split source; its classes are the
union over the lists, so a label means the same class in every split.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cutkit.data.classify.base import DataError, FileSet
from cutkit.data.classify.folder import class_order

HEADER_NAMES = {"path", "file", "filename", "image", "image_path"}
SPLIT_FILES = {"train": "train.csv", "val": "val.csv", "test": "test.csv"}

__all__ = ["CsvRows", "csv_splits", "open_csv", "read_csv_rows"]


@dataclass(frozen=True)
class CsvRows:
    """The rows of one list: resolved file paths, their raw label strings and their names as written."""

    path: Path
    files: list[Path]
    labels: list[str]
    names: list[str]


def read_csv_rows(path: Path) -> CsvRows:
    """Parse a ``path,label`` list; errors name the file and line. Files must exist."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from exc
    files, labels, names = [], [], []
    first = True
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        header, first = first and cells[0].lower() in HEADER_NAMES, False
        if header:
            continue
        if len(cells) != 2 or not all(cells):
            raise DataError(f"{path}, line {line_no}: expected 'path,label', got {','.join(row)!r}")
        files.append(path.parent / cells[0])
        labels.append(cells[1])
        names.append(cells[0])
    if not files:
        raise DataError(f"{path}: no 'path,label' rows")
    _check_exist(path, files)
    return CsvRows(path, files, labels, names)


def _check_exist(path: Path, files: list[Path]) -> None:
    missing = [f for f in files if not f.is_file()]
    if missing:
        shown = ", ".join(str(f) for f in missing[:3])
        raise DataError(
            f"{path}: {len(missing)} listed files do not exist ({shown}{', …' if len(missing) > 3 else ''})"
        )


def _is_index(label: str) -> bool:
    return label.isdecimal()


def classes_of(lists: Sequence[CsvRows]) -> list[str]:
    """The classes of one or more lists (the union, for split folders)."""
    labels = [label for rows in lists for label in rows.labels]
    if all(_is_index(label) for label in labels):
        return [str(i) for i in range(max(int(label) for label in labels) + 1)]
    return class_order(labels)


def _label_indices(rows: CsvRows, classes: list[str]) -> np.ndarray:
    """Labels by class name when every label is one of ``classes``, else as class indices."""
    index = {name: i for i, name in enumerate(classes)}
    if all(x in index for x in rows.labels):
        return np.asarray([index[x] for x in rows.labels], dtype=np.int64)
    if not all(_is_index(x) for x in rows.labels):
        unknown = sorted({x for x in rows.labels if x not in index})
        raise DataError(f"{rows.path}: labels {unknown[:5]} are not among the classes {classes}")
    out = np.asarray([int(x) for x in rows.labels], dtype=np.int64)
    if out.max() >= len(classes):
        raise DataError(f"{rows.path}: label {out.max()} is out of range for {len(classes)} classes")
    return out


def csv_splits(folder: Path) -> dict[str, Path]:
    """``split -> list file`` for the ``train.csv``/``val.csv``/``test.csv`` in ``folder``."""
    return {split: folder / name for split, name in SPLIT_FILES.items() if (folder / name).is_file()}


def open_csv(
    path: Path, split: str, *, classes: Sequence[str] | None = None, channels: int | None = None
) -> FileSet:
    """The samples of a list file, or of the ``split`` list of a folder of split lists.

    Args:
        path: a ``.csv`` file (read whole whatever the split; the set's ``split`` is then None) or a folder
            holding ``train.csv``/``val.csv``/``test.csv``.
        split: ``train``, ``val`` or ``test``.
        classes: the class list to label by (e.g. a trained model's); default: the lists' own.
        channels: 3 (RGB, default) or 1 (grey).
    """
    if not path.is_dir():
        rows = read_csv_rows(path)
        return _file_set(rows, list(classes) if classes is not None else classes_of([rows]), None, channels)
    splits = csv_splits(path)
    if split not in splits:
        found = ", ".join(p.name for p in splits.values()) or "none"
        raise DataError(f"{path}: no {SPLIT_FILES.get(split, split + '.csv')} here (found: {found})")
    lists = {s: read_csv_rows(p) for s, p in splits.items()}
    names = list(classes) if classes is not None else classes_of(list(lists.values()))
    return _file_set(lists[split], names, split, channels)


def _file_set(rows: CsvRows, classes: list[str], split: str | None, channels: int | None) -> FileSet:
    return FileSet(
        rows.files,
        channels=channels,
        classes=classes,
        labels=_label_indices(rows, classes),
        names=rows.names,
        source=rows.path,
        split=split,
    )
