"""Expanding user inputs (files, folders, globs) into image paths, and naming outputs."""

from __future__ import annotations

import glob
from pathlib import Path

IMAGE_SUFFIXES = {
    *(".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"),
    *(".avif", ".heic", ".heif"),  # AVIF if Pillow has it; HEIC/HEIF with the optional pillow-heif
}


def list_images(folder: Path) -> list[Path]:
    """Image files below ``folder``, recursively, sorted; hidden files and folders (``.name``) left out.

    Hidden ones are not photos: macOS's ``._IMG_1.jpg`` resource forks, thumbnail caches, and the temporary
    files of an interrupted write.
    """
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.is_file()
    )


def expand_inputs(inputs: list[str]) -> list[tuple[Path, Path]]:
    """Each input → ``(file, base)``: ``base`` is the folder outputs are named relative to.

    Files stand for themselves (even with an unusual suffix, so a bad file gets a clear error later);
    folders are searched recursively; anything else is taken as a glob pattern.
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += [(p, path) for p in list_images(path)]
        elif path.exists() or not glob.has_magic(item):
            found.append((path, path.parent))
        else:
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True) if Path(m).is_file())
            if not matches:
                raise FileNotFoundError(f"{item}: no file matches this pattern")
            found += [(m, m.parent) for m in matches]
    return found


def increment_path(path: Path) -> Path:
    """``path`` if it does not exist, else ``path2``, ``path3``, … (as ultralytics numbers its runs)."""
    if not path.exists():
        return path
    n = 2
    while path.with_name(f"{path.name}{n}").exists():
        n += 1
    return path.with_name(f"{path.name}{n}")
