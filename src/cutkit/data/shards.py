"""Tar shards of image/mask pairs: packing a pair source into shards, and reading shards back.

Layout: each sample is two consecutive members of a plain tar file, ``NAME.jpg`` (the image; ``.jpeg``,
``.png`` and ``.webp`` are read too) and ``NAME.mask.png`` (the mask, 8-bit grey). This is WebDataset's
convention (a sample's members share a key and are adjacent), and WebDataset reads our shards when names
hold no dot. Our reader finds the key by stripping those suffixes rather than cutting at the first dot, so
names with dots work. Other members (``NAME.json``, …) are extra fields and are skipped.

A packed folder holds ``shard-000000.tar``, ``shard-000001.tar``, … and ``index.json``::

    {"format": "cutkit.sod-shards", "version": 1, "total": N,
     "shards": [{"file": "shard-000000.tar", "count": n, "bytes": b, "names": [...]}, ...]}

The names let the trainer count a split's samples without reading the shards; shards without an index
(made by other tools) are counted by scanning their tar headers.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cutkit.data.pairs import (
    DataError,
    Pair,
    find_pairs,
    fit_mask,
    mask_from_pil,
    read_image,
    read_mask,
    resize_mask,
)
from cutkit.io.image import ImageError, open_image, to_rgb_array, write_atomic

INDEX_NAME = "index.json"
INDEX_FORMAT = "cutkit.sod-shards"
MASK_SUFFIX = ".mask.png"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
SHARD_PATTERN = "shard-{:06d}.tar"
_JPEG_MAGIC = b"\xff\xd8\xff"
_BLOCK = 512  # tar header and data are written in 512-byte blocks


# --- reading ------------------------------------------------------------------------------------------------


@dataclass
class Record:
    """The raw members of one sample in a shard; ``image``/``mask`` are None when the shard lacks them."""

    shard: Path
    key: str
    image: bytes | None = None
    image_member: str = ""
    mask: bytes | None = None
    mask_member: str = ""


def member_role(member: str) -> tuple[str, str] | None:
    """``(key, "image" | "mask")`` of a member name, or None for a member that is neither."""
    lower = member.lower()
    if lower.endswith(MASK_SUFFIX):
        return member[: -len(MASK_SUFFIX)], "mask"
    for suffix in IMAGE_SUFFIXES:
        if lower.endswith(suffix):
            return member[: -len(suffix)], "image"
    return None


def iter_records(shard: Path) -> Iterator[Record]:
    """The samples of a shard in file order, undecoded; a corrupt tar is a :class:`DataError`."""
    current: Record | None = None
    try:
        with tarfile.open(shard, mode="r|") as tar:
            for info in tar:
                role = member_role(info.name) if info.isfile() else None
                if role is None:
                    continue
                key, kind = role
                if current is not None and current.key != key:
                    yield current
                    current = None
                current = current or Record(shard=shard, key=key)
                _set_member(current, kind, info.name, tar.extractfile(info).read())  # type: ignore[union-attr]
            _check_end(tar, shard)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{shard}: corrupt or truncated tar file ({exc})") from None
    if current is not None:
        yield current


def _check_end(tar: tarfile.TarFile, shard: Path) -> None:
    """A :class:`DataError` when the archive stops without its end marker (two zero blocks).

    tarfile takes a header cut off by the end of the file for the end of the archive, so a shard truncated
    near a member boundary would otherwise lose its last samples without a word.
    """
    if shard.stat().st_size - tar.offset < 2 * _BLOCK:
        raise DataError(f"{shard}: truncated tar file (no end-of-archive marker after byte {tar.offset})")


def _set_member(record: Record, kind: str, member: str, data: bytes) -> None:
    if getattr(record, kind) is not None:
        previous = record.image_member if kind == "image" else record.mask_member
        raise DataError(f"{record.shard}: sample '{record.key}' has two {kind}s ({previous}, {member})")
    setattr(record, kind, data)
    setattr(record, f"{kind}_member", member)


def decode_record(record: Record) -> dict[str, Any]:
    """The sample of a record; a missing or corrupt member is a :class:`DataError` naming shard and member."""
    if record.image is None or record.mask is None:
        missing = "image" if record.image is None else "mask"
        raise DataError(f"{record.shard}: sample '{record.key}' has no {missing} member")
    image = decode_image(record)
    mask = fit_mask(decode_mask(record), image.shape[:2], what=f"{record.shard}:{record.mask_member}")
    return {"image": image, "mask": mask, "name": record.key}


def decode_image(record: Record) -> np.ndarray:
    """The record's image as HxWx3 uint8 RGB."""
    try:
        return to_rgb_array(open_image(record.image, name=f"{record.shard}:{record.image_member}"))
    except ImageError as exc:
        raise DataError(str(exc)) from None


def decode_mask(record: Record) -> np.ndarray:
    """The record's mask as HxW float32 in [0, 1], at its stored size."""
    name = f"{record.shard}:{record.mask_member}"
    try:
        return mask_from_pil(open_image(record.mask, name=name), name=name)
    except ImageError as exc:
        raise DataError(str(exc)) from None


def is_shard_source(path: Path) -> bool:
    """Whether ``path`` is a ``.tar`` file or a folder holding ``.tar`` files."""
    if path.is_file():
        return path.suffix.lower() == ".tar"
    return path.is_dir() and any(p.suffix.lower() == ".tar" for p in path.iterdir() if p.is_file())


def list_shards(source: str | Path) -> list[Path]:
    """The shards of a ``.tar`` file or a folder of them, sorted by name."""
    path = Path(source)
    if path.is_file() and path.suffix.lower() == ".tar":
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such shard file or folder")
    shards = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".tar")
    if not shards:
        raise DataError(f"{path}: no .tar shards in this folder")
    return shards


def shard_names(shards: list[Path]) -> list[list[str]]:
    """The sample names of each shard: from ``index.json`` next to it when listed there, else its headers."""
    indexes: dict[Path, dict[str, list[str]]] = {}
    names = []
    for shard in shards:
        if shard.parent not in indexes:
            indexes[shard.parent] = _index_names(shard.parent)
        listed = indexes[shard.parent].get(shard.name)
        names.append(listed if listed is not None else scan_names(shard))
    return names


def _index_names(folder: Path) -> dict[str, list[str]]:
    path = folder / INDEX_NAME
    if not path.is_file():
        return {}
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
        return {entry["file"]: list(entry["names"]) for entry in index["shards"]}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a shard index ({exc})") from None


def scan_names(shard: Path) -> list[str]:
    """Sample names of a shard read from its tar headers only (members' data is skipped, not decoded)."""
    names: dict[str, None] = {}
    try:
        with tarfile.open(shard, mode="r:") as tar:
            for info in tar:
                role = member_role(info.name) if info.isfile() else None
                if role is not None:
                    names[role[0]] = None
            _check_end(tar, shard)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{shard}: corrupt or truncated tar file ({exc})") from None
    return list(names)


# --- packing ------------------------------------------------------------------------------------------------


@dataclass
class PackReport:
    """What :func:`pack` wrote."""

    out_dir: Path
    shards: list[Path]
    count: int
    bytes: int
    downscaled: int = 0  # samples shrunk to max_side
    masks_resized: list[str] = field(default_factory=list)  # names whose mask was resized to the image

    def summary(self) -> str:
        """One line for the end of ``cutkit data pack``."""
        extra = f", {self.downscaled} downscaled" if self.downscaled else ""
        if self.masks_resized:
            extra += f", {len(self.masks_resized)} mask(s) resized to their image"
        mb = self.bytes / 1e6
        return f"{self.count} pairs → {len(self.shards)} shard(s), {mb:.1f} MB{extra} in {self.out_dir}"


def pack(
    source: str | Path,
    out_dir: str | Path,
    *,
    shard_size_bytes: int,
    max_side: int | None = None,
    quality: int = 95,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> PackReport:
    """Pack the pairs of a folder or list file into tar shards of about ``shard_size_bytes`` each.

    Samples are written in a random order fixed by ``seed``, so that each shard is a sample of the whole
    set (a streaming shuffle only mixes within a buffer). Images are JPEG: copied as they are when already
    JPEG and not downscaled, else encoded at ``quality``; masks are 8-bit PNG at the image's size.
    ``out_dir`` must hold no shards; on failure the shards written so far are removed.

    Args:
        source: a pair folder or list file (see :func:`cutkit.data.pairs.find_pairs`).
        out_dir: the folder for the shards and ``index.json``.
        shard_size_bytes: the size a shard stops growing at (a sample is never split across shards).
        max_side: downscale samples whose longer side exceeds this (None: keep sizes).
        quality: JPEG quality for encoded images.
        seed: the order of samples across shards.
        progress: called as ``progress(done, total)`` after each sample.
    """
    _check_pack_args(shard_size_bytes, max_side, quality)
    pairs = find_pairs(source)
    order = np.random.default_rng(seed).permutation(len(pairs))
    out = Path(out_dir)
    _check_out_dir(out)
    report = PackReport(out_dir=out, shards=[], count=0, bytes=0)
    writer = _ShardWriter(out, shard_size_bytes)
    try:
        for done, i in enumerate(order, start=1):
            _pack_one(writer, pairs[i], report, max_side=max_side, quality=quality)
            if progress is not None:
                progress(done, len(pairs))
        writer.close()
    except BaseException:
        writer.abort()
        raise
    _write_index(out, writer, seed)
    report.shards, report.bytes = writer.paths, sum(p.stat().st_size for p in writer.paths)
    return report


def _check_pack_args(shard_size_bytes: int, max_side: int | None, quality: int) -> None:
    if shard_size_bytes <= 0:
        raise ValueError(f"shard size must be positive, got {shard_size_bytes} bytes")
    if max_side is not None and max_side < 1:
        raise ValueError(f"max side must be at least 1 pixel, got {max_side}")
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be within 1..100, got {quality}")


def _check_out_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if out.is_dir() and ((out / INDEX_NAME).exists() or any(out.glob("*.tar"))):
        raise DataError(f"{out}: already holds shards; choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)


def _pack_one(
    writer: _ShardWriter, pair: Pair, report: PackReport, *, max_side: int | None, quality: int
) -> None:
    image, mask = read_image(pair.image), read_mask(pair.mask)
    if mask.shape != image.shape[:2]:
        report.masks_resized.append(pair.stem)
        mask = resize_mask(mask, (image.shape[1], image.shape[0]))  # counted in the report, not warned
    image, mask, shrunk = downscale(image, mask, max_side)
    report.downscaled += shrunk
    raw = pair.image.read_bytes() if not shrunk else b""
    image_bytes = (
        raw if raw.startswith(_JPEG_MAGIC) else _encode(Image.fromarray(image), "JPEG", quality=quality)
    )
    mask_bytes = _encode(Image.fromarray(np.round(mask * 255.0).astype(np.uint8), mode="L"), "PNG")
    writer.add(pair.stem, [(f"{pair.stem}.jpg", image_bytes), (f"{pair.stem}{MASK_SUFFIX}", mask_bytes)])
    report.count += 1


def downscale(
    image: np.ndarray, mask: np.ndarray, max_side: int | None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Image and mask shrunk (area interpolation) so the longer side is at most ``max_side``."""
    import cv2

    h, w = image.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return image, mask, False
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    mask = np.clip(cv2.resize(mask, size, interpolation=cv2.INTER_AREA), 0.0, 1.0)
    return image, mask, True


def _encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


class _ShardWriter:
    """Writes samples into numbered shards, each under a temporary name until it is complete."""

    def __init__(self, out_dir: Path, limit: int) -> None:
        self.out_dir, self.limit = out_dir, limit
        self.paths: list[Path] = []
        self.names: list[list[str]] = []
        self._tar: tarfile.TarFile | None = None
        self._tmp: Path | None = None
        self._size = 0

    def add(self, key: str, members: list[tuple[str, bytes]]) -> None:
        size = sum(_BLOCK + -(-len(data) // _BLOCK) * _BLOCK for _, data in members)
        if self._tar is not None and self._size + size > self.limit:
            self._finish()
        if self._tar is None:
            self._start()
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0  # mtime 0: same input, same bytes
            self._tar.addfile(info, io.BytesIO(data))  # type: ignore[union-attr]
        self._size += size
        self.names[-1].append(key)

    def close(self) -> None:
        if self._tar is not None:
            self._finish()

    def abort(self) -> None:
        """Remove everything this writer wrote (a half-packed folder would pass for a complete one)."""
        if self._tar is not None:
            self._tar.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        for path in self.paths:
            path.unlink(missing_ok=True)

    def _start(self) -> None:
        final = self.out_dir / SHARD_PATTERN.format(len(self.paths))
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=self.out_dir)
        os.close(fd)
        self._tmp, self._size = Path(tmp), 0
        # Open across add() calls, closed by _finish() or abort(): no context manager fits.
        self._tar = tarfile.open(self._tmp, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.names.append([])

    def _finish(self) -> None:
        assert self._tar is not None and self._tmp is not None
        self._tar.close()
        final = self.out_dir / SHARD_PATTERN.format(len(self.paths))
        os.replace(self._tmp, final)
        self.paths.append(final)
        self._tar, self._tmp = None, None


def _write_index(out: Path, writer: _ShardWriter, seed: int) -> None:
    shards = [
        {"file": p.name, "count": len(n), "bytes": p.stat().st_size, "names": n}
        for p, n in zip(writer.paths, writer.names, strict=True)
    ]
    index = {"format": INDEX_FORMAT, "version": 1, "total": sum(len(n) for n in writer.names), "seed": seed}
    index["shards"] = shards
    write_atomic(out / INDEX_NAME, (json.dumps(index, indent=1) + "\n").encode("utf-8"))
