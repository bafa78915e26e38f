"""``cutkit data pack`` and ``cutkit data check``, run in-process through ``cutkit.cli.main.main``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutkit.cli.data import parse_size
from cutkit.cli.main import main


def _pairs(root: Path, n: int, size: tuple[int, int] = (48, 32)) -> Path:
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    w, h = size
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(root / "images" / f"p{i}.jpg")
        mask = np.zeros((h, w), np.uint8)
        mask[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 255
        Image.fromarray(mask).save(root / "masks" / f"p{i}.png")
    return root


@pytest.mark.parametrize(
    ("text", "size"),
    [("50MB", 50_000_000), ("1GB", 10**9), ("200kB", 200_000), ("64MiB", 64 * 2**20), ("1234", 1234),
     ("1.5 mb", 1_500_000)],
)  # fmt: skip
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "5XB", "-1MB", "0", "1e3"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


def test_pack_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _pairs(tmp_path / "src", 6, size=(120, 80))
    out = tmp_path / "shards"
    rc = main(["data", "pack", str(src), "-o", str(out), "--shard-size", "20kB", "--max-side", "60", "-q"])
    assert rc == 0
    index = json.loads((out / "index.json").read_text())
    assert index["total"] == 6 and len(index["shards"]) > 1
    capsys.readouterr()
    assert main(["data", "pack", str(src), "-o", str(tmp_path / "again"), "--shard-size", "1MB"]) == 0
    assert "6 pairs → 1 shard(s)" in capsys.readouterr().err  # the summary line
    assert main(["data", "check", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "pairs          6" in text and text.rstrip().endswith("OK")
    assert main(["data", "check", str(out), "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (
        report["ok"]
        and report["pairs"] == 6
        and report["foreground"]["mean"] == pytest.approx(0.25, abs=0.02)
    )


def test_check_exits_1_on_corrupt_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _pairs(tmp_path / "src", 3)
    (src / "masks" / "p1.png").write_bytes(b"broken")
    assert main(["data", "check", str(src), "-q"]) == 1
    out = capsys.readouterr().out
    assert "p1.png: not an image" in out and "FAILED: 1 corrupt file(s)" in out


def test_user_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _pairs(tmp_path / "src", 2)
    assert main(["data", "pack", str(src), "-o", str(tmp_path / "o"), "--shard-size", "50XB"]) == 2
    assert "error: --shard-size: '50XB' is not a size" in capsys.readouterr().err
    assert main(["data", "pack", str(tmp_path / "nope"), "-o", str(tmp_path / "o")]) == 2
    assert "nope: no such file or folder" in capsys.readouterr().err
    assert main(["data", "pack", str(src), "-o", str(tmp_path / "o"), "--quality", "0"]) == 2
    assert "JPEG quality" in capsys.readouterr().err
    assert main(["data", "check", str(tmp_path / "nope")]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["data"])
    assert exc.value.code == 2
