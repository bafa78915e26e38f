"""``check``: unmatched, corrupt and mis-sized files and mask statistics, on folders, lists and shards."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from _sod_synth import pair_folder, soft_mask, write_pair
from PIL import Image

from cutkit.data.check import check, foreground_stats
from cutkit.data.pairs import DataError
from cutkit.data.shards import list_shards, pack


def _messy_folder(root: Path) -> Path:
    pair_folder(root, 4)
    write_pair(root, "orphan_image")
    (root / "masks" / "orphan_image.png").unlink()
    write_pair(root, "orphan_mask")
    (root / "images" / "orphan_mask.jpg").unlink()
    (root / "images" / "s001.jpg").write_bytes(b"\xff\xd8\xff not really")
    Image.fromarray(soft_mask(16, 12)).save(root / "masks" / "s002.png")  # half the image's size
    Image.fromarray(np.zeros((24, 32), np.uint8)).save(root / "masks" / "s003.png")  # empty
    return root


def test_folder_report(tmp_path: Path) -> None:
    report = check(_messy_folder(tmp_path))
    assert report.kind == "pairs" and report.pairs == 4 and not report.ok
    assert [Path(p).name for p in report.unmatched_images] == ["orphan_image.jpg"]
    assert [Path(p).name for p in report.unmatched_masks] == ["orphan_mask.png"]
    assert len(report.corrupt) == 1
    path, reason = report.corrupt[0]
    assert path.endswith("images/s001.jpg") and "corrupt or truncated JPEG" in reason
    assert report.size_mismatches == ["s002: mask 16x12, image 32x24"]
    assert report.empty_masks == ["s003"] and report.full_masks == []
    expected = np.mean([soft_mask().mean() / 255, soft_mask(16, 12).mean() / 255, 0.0])
    assert report.foreground["mean"] == pytest.approx(expected, abs=1e-6)
    assert report.foreground["min"] == 0.0


def test_format_and_json(tmp_path: Path) -> None:
    report = check(_messy_folder(tmp_path))
    text = report.format()
    assert "pairs          4" in text and "unmatched      1 image(s), 1 mask(s)" in text
    assert "corrupt files:" in text and "s001.jpg" in text and text.endswith("FAILED: 1 corrupt file(s)")
    data = json.loads(report.to_json())
    assert data["ok"] is False and data["pairs"] == 4 and data["empty_masks"] == ["s003"]
    assert set(data["foreground"]) == {"mean", "min", "p5", "p25", "p50", "p75", "p95", "max"}


def test_clean_folder_and_list_file(tmp_path: Path) -> None:
    folder = pair_folder(tmp_path / "f", 3)
    Image.fromarray(np.full((24, 32), 255, np.uint8)).save(folder / "masks" / "s000.png")
    report = check(folder)
    assert report.ok and report.full_masks == ["s000"] and report.format().endswith("OK")
    listing = tmp_path / "pairs.txt"
    listing.write_text("f/images/s001.jpg f/masks/s001.png\nf/images/s002.jpg f/masks/missing.png\n")
    listed = check(listing)
    assert listed.pairs == 2 and not listed.ok
    assert listed.corrupt == [[str(tmp_path / "f/masks/missing.png"), "file not found"]]


def test_shards_report(tmp_path: Path) -> None:
    pack(pair_folder(tmp_path / "src", 6), tmp_path / "sh", shard_size_bytes=5000)
    clean = check(tmp_path / "sh")
    assert clean.ok and clean.kind == "shards" and clean.pairs == 6
    assert clean.foreground == check(tmp_path / "src").foreground
    # a corrupt mask member, a sample without a mask, and a truncated shard
    bad = tmp_path / "sh" / "zz-bad.tar"
    with tarfile.open(bad, "w") as tar:
        for name, data in {"x.jpg": _jpeg(), "x.mask.png": b"junk", "y.jpg": _jpeg()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    first = list_shards(tmp_path / "sh")[0]
    first.write_bytes(first.read_bytes()[:600])
    report = check(tmp_path / "sh")
    assert not report.ok
    corrupt = dict(report.corrupt)
    assert "truncated" in corrupt[str(first)]
    assert "not an image" in corrupt[f"{bad}:x.mask.png"]
    assert report.unmatched_images == ["zz-bad.tar:y"]


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def test_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        check(tmp_path / "nope")


def test_foreground_stats() -> None:
    stats = foreground_stats([0.0, 0.5, 1.0])
    assert stats["mean"] == 0.5 and stats["p50"] == 0.5 and stats["max"] == 1.0
    assert foreground_stats([]) == {}
