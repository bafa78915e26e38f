"""Image/mask pairs of salient-object data: finding them in folders or list files, and reading them.

A *sample* is the contract every data module uses: ``{"image": HxWx3 uint8 RGB, "mask": HxW float32 in
[0, 1], "name": str}``. Masks keep their soft edges (no binarising); a mask whose size differs from its
image is resized to the image with a :class:`DataWarning`.

Folder layouts found by :func:`find_pairs` (folder names compared case-insensitively):

- ``images/`` + ``masks/`` (our minis), ``images/`` + ``ground_truth_mask/`` (ECSSD), ``imgs/`` + ``gt/``,
  ``image/`` + ``mask/``, ``im/`` + ``gt/``, ``img/`` + ``mask/``;
- any sibling folders whose names differ only by ``image`` → ``mask`` (DUTS: ``DUTS-TR-Image`` +
  ``DUTS-TR-Mask``).

A list file (``.txt``/``.lst``) holds one ``IMAGE MASK`` pair per line, paths relative to the list file's
folder; blank lines and lines starting with ``#`` are skipped. Files are matched by stem, so stems must be
unique within a source: the stem is the sample's name, which the validation split and the shards key on.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cutkit.io.image import ImageError, open_image, to_rgb_array
from cutkit.io.paths import IMAGE_SUFFIXES

LIST_SUFFIXES = {".txt", ".lst"}

# (image folder, mask folder), lower case, in the order they are tried.
KNOWN_LAYOUTS = (
    ("images", "masks"),
    ("images", "ground_truth_mask"),
    ("imgs", "gt"),
    ("image", "mask"),
    ("im", "gt"),
    ("img", "mask"),
)

_16BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")


class DataError(ValueError):
    """Unusable data; the message names the file or folder and the problem."""


class DataWarning(UserWarning):
    """Data that was usable only after a repair (e.g. a mask resized to its image)."""


@dataclass(frozen=True)
class Pair:
    """An image file and its mask file."""

    image: Path
    mask: Path

    @property
    def stem(self) -> str:
        """The sample's name: the image file's stem."""
        return self.image.stem


@dataclass
class PairScan:
    """What a source holds: its pairs, and what could not be paired (reported by ``check``)."""

    source: Path
    pairs: list[Pair]
    unmatched_images: list[Path] = field(default_factory=list)
    unmatched_masks: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # list-file entries whose files do not exist
    folders: list[Path] = field(default_factory=list)  # the folders that were looked at


# --- finding pairs ------------------------------------------------------------------------------------------


def find_pairs(source: str | Path) -> list[Pair]:
    """Image/mask pairs of a folder or list file, matched by stem and sorted by stem.

    Unmatched files are left out (``cutkit data check`` reports them); a list file naming a missing file,
    or a source without any pair, is a :class:`DataError`.
    """
    scan = scan_pairs(source)
    if scan.missing:
        shown = "; ".join(scan.missing[:5]) + (
            f"; … ({len(scan.missing)} in all)" if len(scan.missing) > 5 else ""
        )
        raise DataError(f"{scan.source}: listed files do not exist: {shown}")
    if not scan.pairs:
        looked = ", ".join(f"{f} ({_count_images(f)} images)" for f in scan.folders)
        raise DataError(f"{scan.source}: no image/mask pairs with matching names; looked at {looked}")
    return scan.pairs


def scan_pairs(source: str | Path) -> PairScan:
    """Pairs plus unmatched and missing files of a pair folder or list file."""
    path = Path(source)
    if path.is_file():
        if path.suffix.lower() not in LIST_SUFFIXES:
            raise DataError(f"{path}: not a pair folder or a list file ({', '.join(sorted(LIST_SUFFIXES))})")
        return _scan_list(path)
    if path.is_dir():
        image_dir, mask_dir = find_pair_folders(path)
        return _scan_folders(path, image_dir, mask_dir)
    raise DataError(f"{path}: no such file or folder")


def find_pair_folders(root: Path) -> tuple[Path, Path]:
    """The (image folder, mask folder) inside ``root``; a :class:`DataError` when none or several match."""
    subdirs = {p.name.lower(): p for p in sorted(root.iterdir()) if p.is_dir()}
    found: list[tuple[Path, Path]] = []
    for image_name, mask_name in KNOWN_LAYOUTS:
        if image_name in subdirs and mask_name in subdirs:
            found.append((subdirs[image_name], subdirs[mask_name]))
    for name, folder in subdirs.items():
        mask_name = name.replace("image", "mask")
        if mask_name != name and mask_name in subdirs:
            found.append((folder, subdirs[mask_name]))
    found = list(dict.fromkeys(found))
    if len(found) == 1:
        return found[0]
    if found:
        options = ", ".join(f"{i.name}/ + {m.name}/" for i, m in found)
        raise DataError(
            f"{root}: several image/mask folder pairs ({options}); pass the one to use as a list file"
        )
    layouts = ", ".join(f"{i}/ + {m}/" for i, m in KNOWN_LAYOUTS)
    present = ", ".join(p.name for p in subdirs.values()) or "none"
    raise DataError(
        f"{root}: no image and mask folders (expected {layouts}, or *Image*/*Mask* siblings); "
        f"subfolders: {present}"
    )


def _scan_folders(root: Path, image_dir: Path, mask_dir: Path) -> PairScan:
    images, masks = _by_stem(image_dir), _by_stem(mask_dir)
    pairs = [Pair(images[s], masks[s]) for s in sorted(images.keys() & masks.keys())]
    return PairScan(
        source=root,
        pairs=pairs,
        unmatched_images=[images[s] for s in sorted(images.keys() - masks.keys())],
        unmatched_masks=[masks[s] for s in sorted(masks.keys() - images.keys())],
        folders=[image_dir, mask_dir],
    )


def _by_stem(folder: Path) -> dict[str, Path]:
    """Image files directly in ``folder`` by stem (hidden files such as macOS ``._x.jpg`` left out)."""
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.stem in files:
            raise DataError(
                f"{folder}: two files share the name '{path.stem}' ({files[path.stem].name}, {path.name})"
            )
        files[path.stem] = path
    return files


def _count_images(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _scan_list(list_file: Path) -> PairScan:
    base = list_file.parent
    pairs: dict[str, Pair] = {}
    missing: list[str] = []
    for lineno, line in enumerate(list_file.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 2:
            raise DataError(
                f"{list_file}:{lineno}: expected 'IMAGE MASK', got {len(fields)} field(s): {line.strip()!r}"
            )
        pair = Pair(base / fields[0], base / fields[1])
        missing += [f"line {lineno}: {p}" for p in (pair.image, pair.mask) if not p.is_file()]
        if pair.stem in pairs:
            raise DataError(
                f"{list_file}:{lineno}: the name '{pair.stem}' is listed twice ({pairs[pair.stem].image})"
            )
        pairs[pair.stem] = pair
    return PairScan(
        source=list_file, pairs=[pairs[s] for s in sorted(pairs)], missing=missing, folders=[base]
    )


# --- reading ------------------------------------------------------------------------------------------------


def read_pair(pair: Pair) -> dict[str, Any]:
    """The sample of ``pair``: RGB image (EXIF orientation applied), mask at the image's size, name."""
    image = read_image(pair.image)
    mask = read_mask(pair.mask)
    mask = fit_mask(mask, image.shape[:2], what=f"{pair.mask} for {pair.image}")
    return {"image": image, "mask": mask, "name": pair.stem}


def read_image(path: str | Path) -> np.ndarray:
    """An image file as HxWx3 uint8 RGB; a :class:`DataError` naming the file when it cannot be read."""
    try:
        return to_rgb_array(open_image(path))
    except ImageError as exc:
        raise DataError(str(exc)) from None


def read_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """A mask file as HxW float32 in [0, 1], soft edges kept.

    Args:
        path: the mask file (8-/16-bit grey, palette, RGB or RGBA; see :func:`mask_from_pil`).
        size: ``(width, height)`` to resize to (bilinear), as PIL and OpenCV order it; None keeps the size.
    """
    try:
        mask = mask_from_pil(open_image(path), name=str(path))
    except ImageError as exc:
        raise DataError(str(exc)) from None
    if size is not None and (mask.shape[1], mask.shape[0]) != tuple(size):
        mask = resize_mask(mask, size)
    return mask


def mask_from_pil(img: Image.Image, *, name: str) -> np.ndarray:
    """A decoded mask image as HxW float32 in [0, 1].

    - grey (``L``, ``1``): value / 255; 16-bit (``I;16``, or ``I`` with values above 255): value / 65535;
    - float (``F``): used as is when within [0, 1];
    - palette: grey palettes give their grey level; colour palettes (DAVIS/VOC style) give 1 where the index
      is not 0, since index 0 is the background there;
    - colour: luminance (ITU-R 601); with alpha, the alpha channel when the colour is the same everywhere
      (a mask stored as transparency), and luminance × alpha when both are constant.
    """
    if img.mode in ("L", "1"):
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    if img.mode in _16BIT_MODES or img.mode == "I":
        return _deep_grey(np.asarray(img, dtype=np.float64), img.mode, name)
    if img.mode == "F":
        return _float_mask(np.asarray(img, dtype=np.float32), name)
    if img.mode in ("P", "PA"):
        return _palette_mask(img)
    if img.mode in ("LA", "RGBA", "La", "RGBa"):
        return _colour_alpha_mask(np.asarray(img.convert("RGBA"), dtype=np.float32))
    return _luminance(np.asarray(img.convert("RGB"), dtype=np.float32))


def _deep_grey(arr: np.ndarray, mode: str, name: str) -> np.ndarray:
    # Pillow opens 16-bit PNGs as I;16 but some files (32-bit TIFF, older Pillow) as I: there, values
    # above 255 are the only sign of a 16-bit range, as in cutkit.io.image.to_rgb_array.
    scale = 65535.0 if mode in _16BIT_MODES or arr.max(initial=0) > 255 else 255.0
    if arr.min(initial=0) < 0 or arr.max(initial=0) > 65535:
        raise DataError(f"{name}: {mode} mask with values outside 0..65535")
    return (arr / scale).astype(np.float32)


def _float_mask(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(arr).all() or arr.min(initial=0) < 0 or arr.max(initial=0) > 1:
        raise DataError(f"{name}: float mask with values outside [0, 1]")
    return arr


def _palette_mask(img: Image.Image) -> np.ndarray:
    index = np.asarray(img.convert("P") if img.mode == "PA" else img)
    palette = np.asarray(img.getpalette() or [], dtype=np.float32).reshape(-1, 3)
    used = np.unique(index)
    colours = palette[used[used < len(palette)]]
    if len(colours) == len(used) and (colours == colours[:, :1]).all():
        lut = np.zeros(256, np.float32)
        lut[: len(palette)] = palette[:, 0] / 255.0
        return lut[index]
    return (index != 0).astype(np.float32)


def _colour_alpha_mask(rgba: np.ndarray) -> np.ndarray:
    rgb, alpha = rgba[..., :3], rgba[..., 3] / 255.0
    colour_constant = bool((rgb == rgb[:1, :1]).all())
    if colour_constant and alpha.min(initial=0) != alpha.max(initial=0):
        return alpha.astype(np.float32)
    if colour_constant:
        return (_luminance(rgb) * alpha).astype(np.float32)
    return _luminance(rgb)


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return ((rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114) / 255.0).astype(np.float32)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` resized to ``(width, height)`` with bilinear interpolation, kept in [0, 1]."""
    import cv2

    out = cv2.resize(mask, (int(size[0]), int(size[1])), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def fit_mask(mask: np.ndarray, shape: tuple[int, int], *, what: str) -> np.ndarray:
    """``mask`` at ``shape`` (H, W): resized with a :class:`DataWarning` naming ``what`` when it differs."""
    if mask.shape[:2] == tuple(shape):
        return mask
    h, w = shape
    warnings.warn(
        f"{what}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {w}x{h}; mask resized to the image",
        DataWarning,
        stacklevel=3,
    )
    return resize_mask(mask, (w, h))
