"""Synthetic image/mask pairs for the data tests: small, varied, written with PIL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def photo(w: int = 32, h: int = 24, seed: int = 0) -> np.ndarray:
    """A noisy gradient, HxWx3 uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 200 / w, yy * 200 / h, np.full((h, w), 40.0 + 3 * (seed % 50))])
    return np.clip(img + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)


def soft_mask(w: int = 32, h: int = 24) -> np.ndarray:
    """An ellipse with a soft edge, HxW uint8 (0..255 with intermediate values)."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.sqrt(((xx - w / 2) / (w / 3)) ** 2 + ((yy - h / 2) / (h / 3)) ** 2)
    return (np.clip((1.3 - r) / 0.6, 0, 1) * 255).astype(np.uint8)


def write_pair(
    root: Path,
    name: str,
    *,
    image_dir: str = "images",
    mask_dir: str = "masks",
    size: tuple[int, int] = (32, 24),
    seed: int = 0,
    image_ext: str = ".jpg",
) -> tuple[Path, Path]:
    """Write ``root/image_dir/name.ext`` and ``root/mask_dir/name.png``; return both paths."""
    w, h = size
    image = root / image_dir / f"{name}{image_ext}"
    mask = root / mask_dir / f"{name}.png"
    image.parent.mkdir(parents=True, exist_ok=True)
    mask.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo(w, h, seed)).save(image)
    Image.fromarray(soft_mask(w, h)).save(mask)
    return image, mask


def pair_folder(root: Path, n: int, *, prefix: str = "s", size: tuple[int, int] = (32, 24)) -> Path:
    """A folder ``root`` with ``images/`` + ``masks/`` holding ``n`` pairs named ``{prefix}000``…"""
    for i in range(n):
        write_pair(root, f"{prefix}{i:03d}", size=size, seed=i)
    return root
