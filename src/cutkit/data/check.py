"""Checking a salient-object dataset: unmatched, corrupt and mis-sized files, and mask statistics.

Works on pair folders, list files and shard folders (``cutkit data check``). Every sample is decoded, so
a check that passes means training will not stop on a bad file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from cutkit.data.pairs import DataError, read_image, read_mask, scan_pairs
from cutkit.data.shards import (
    decode_image,
    decode_mask,
    is_shard_source,
    iter_records,
    list_shards,
    shard_names,
)

Progress = Callable[[int, int | None], None]

# Masks are binarised at this level to call them empty (no foreground pixel) or full (no background pixel).
BINARY_THRESHOLD = 0.5
_LISTED = 20  # names shown per problem in the text report


@dataclass
class CheckReport:
    """What :func:`check` found.

    Attributes:
        source: the checked path.
        kind: ``"pairs"`` (folder or list file) or ``"shards"``.
        pairs: samples with both an image and a mask (readable or not).
        unmatched_images: images without a mask (paths, or ``shard:name`` for shards).
        unmatched_masks: masks without an image.
        corrupt: ``[file or shard:member, reason]`` for each file that could not be read.
        size_mismatches: ``"name: mask WxH, image WxH"`` for masks that are resized when read.
        foreground: statistics over readable samples of the mask's mean (the foreground share).
        empty_masks: names of masks without a pixel ≥ 0.5.
        full_masks: names of masks without a pixel < 0.5.
    """

    source: str
    kind: str
    pairs: int = 0
    unmatched_images: list[str] = field(default_factory=list)
    unmatched_masks: list[str] = field(default_factory=list)
    corrupt: list[list[str]] = field(default_factory=list)
    size_mismatches: list[str] = field(default_factory=list)
    foreground: dict[str, float] = field(default_factory=dict)
    empty_masks: list[str] = field(default_factory=list)
    full_masks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no file is corrupt (unmatched files and odd masks are reported, not failures)."""
        return not self.corrupt

    def to_json(self) -> str:
        """The report as JSON (with ``ok``)."""
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2)

    def format(self) -> str:
        """The report as a text table, problems listed below it."""
        fg = self.foreground
        stats = "  ".join(f"{k} {v:.3f}" for k, v in fg.items()) if fg else "no readable sample"
        rows = [
            ("source", f"{self.source} ({self.kind})"),
            ("pairs", str(self.pairs)),
            ("unmatched", f"{len(self.unmatched_images)} image(s), {len(self.unmatched_masks)} mask(s)"),
            ("corrupt", str(len(self.corrupt))),
            ("size mismatch", str(len(self.size_mismatches))),
            ("foreground", stats),
            ("empty masks", str(len(self.empty_masks))),
            ("full masks", str(len(self.full_masks))),
        ]
        lines = [f"{k:<14} {v}" for k, v in rows]
        lines += _listing("corrupt files", [f"{f}: {why}" for f, why in self.corrupt])
        lines += _listing("images without a mask", self.unmatched_images)
        lines += _listing("masks without an image", self.unmatched_masks)
        lines += _listing("masks resized to their image", self.size_mismatches)
        lines += _listing("empty masks", self.empty_masks)
        lines += _listing("full masks", self.full_masks)
        lines.append("OK" if self.ok else f"FAILED: {len(self.corrupt)} corrupt file(s)")
        return "\n".join(lines)


def _listing(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    more = [f"  … {len(items) - _LISTED} more"] if len(items) > _LISTED else []
    return ["", f"{title}:", *(f"  {item}" for item in items[:_LISTED]), *more]


def check(source: str | Path, *, progress: Progress | None = None) -> CheckReport:
    """Decode every sample of a pair folder, list file or shard folder and report what is wrong.

    Args:
        source: the dataset.
        progress: called as ``progress(done, total)`` after each sample (total None when unknown).
    """
    path = Path(source)
    if is_shard_source(path):
        report = CheckReport(source=str(path), kind="shards")
        fg = _check_shards(path, report, progress)
    else:
        report = CheckReport(source=str(path), kind="pairs")
        fg = _check_pairs(path, report, progress)
    report.foreground = foreground_stats(fg)
    return report


def foreground_stats(ratios: list[float]) -> dict[str, float]:
    """mean, min, percentiles (5, 25, 50, 75, 95) and max of per-mask foreground shares."""
    if not ratios:
        return {}
    arr = np.asarray(ratios, dtype=np.float64)
    stats = {"mean": float(arr.mean()), "min": float(arr.min())}
    stats.update({f"p{q}": float(np.percentile(arr, q)) for q in (5, 25, 50, 75, 95)})
    stats["max"] = float(arr.max())
    return stats


def _check_pairs(path: Path, report: CheckReport, progress: Progress | None) -> list[float]:
    scan = scan_pairs(path)
    report.pairs = len(scan.pairs)
    report.unmatched_images = [str(p) for p in scan.unmatched_images]
    report.unmatched_masks = [str(p) for p in scan.unmatched_masks]
    ratios = []
    for done, pair in enumerate(scan.pairs, start=1):
        image = _attempt(report, str(pair.image), lambda p=pair: read_image(p.image))
        mask = _attempt(report, str(pair.mask), lambda p=pair: read_mask(p.mask))
        if image is not None and mask is not None:
            ratios.append(_inspect(report, pair.stem, image.shape[:2], mask))
        if progress is not None:
            progress(done, len(scan.pairs))
    return ratios


def _check_shards(path: Path, report: CheckReport, progress: Progress | None) -> list[float]:
    shards = list_shards(path)
    total = sum(len(n) for n in shard_names(shards)) if (path / "index.json").is_file() else None
    ratios, done = [], 0
    for shard in shards:
        for record in _records_or_report(shard, report):
            name = f"{shard.name}:{record.key}"
            if record.image is None or record.mask is None:
                (report.unmatched_masks if record.image is None else report.unmatched_images).append(name)
                continue
            report.pairs += 1
            image = _attempt(report, f"{shard}:{record.image_member}", lambda r=record: decode_image(r))
            mask = _attempt(report, f"{shard}:{record.mask_member}", lambda r=record: decode_mask(r))
            if image is not None and mask is not None:
                ratios.append(_inspect(report, name, image.shape[:2], mask))
            done += 1
            if progress is not None:
                progress(done, total)
    return ratios


def _records_or_report(shard: Path, report: CheckReport) -> Iterator:
    """The shard's records; a tar that breaks off is reported as corrupt after the records before it."""
    try:
        yield from iter_records(shard)
    except DataError as exc:
        report.corrupt.append([str(shard), _reason(str(exc), str(shard))])


def _attempt(report: CheckReport, name: str, read: Callable[[], np.ndarray]) -> np.ndarray | None:
    try:
        return read()
    except DataError as exc:
        report.corrupt.append([name, _reason(str(exc), name)])
        return None


def _reason(message: str, name: str) -> str:
    """The message without the leading ``name: `` the reader puts there (the report shows the name)."""
    return message[len(name) + 2 :] if message.startswith(f"{name}: ") else message


def _inspect(report: CheckReport, name: str, image_hw: tuple[int, int], mask: np.ndarray) -> float:
    if mask.shape != tuple(image_hw):
        h, w = image_hw
        report.size_mismatches.append(f"{name}: mask {mask.shape[1]}x{mask.shape[0]}, image {w}x{h}")
    if mask.max(initial=0.0) < BINARY_THRESHOLD:
        report.empty_masks.append(name)
    elif mask.min(initial=1.0) >= BINARY_THRESHOLD:
        report.full_masks.append(name)
    return float(mask.mean())
