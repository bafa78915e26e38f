"""Batches that survive real folders: streaming in order, atomic writes, kill and resume, bad files, reports.

Removals use the bundled default model (cutnet-duts) on one thread; every input is generated.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cutkit.api
from cutkit.cli.main import main
from cutkit.io.image import remove_stale_temps, write_atomic
from cutkit.io.prefetch import map_ahead

FAST = ["--threads", "1"]
SUMMARY = re.compile(
    r"(\d+) image\(s\): (\d+) ok, (\d+) failed, (\d+) skipped in [\d.]+ s \([\d.]+ images/s\) → "
)


def _photo(path: Path, w: int, h: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 255 / w, yy * 255 / h, np.full((h, w), 60 + seed * 7 % 150)])
    img[(xx - w / 2) ** 2 / (w / 3) ** 2 + (yy - h / 2) ** 2 / (h / 3) ** 2 < 1] = rng.integers(0, 255, 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img.astype(np.uint8)).save(path)
    return path


def _outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def _summary(err: str) -> tuple[int, int, int, int]:
    found = SUMMARY.search(err)
    assert found, err
    return tuple(int(g) for g in found.groups())  # type: ignore[return-value]


def _valid(path: Path) -> Image.Image:
    """``path`` decodes completely (a half-written PNG fails here)."""
    with Image.open(path) as img:
        img.verify()
    img = Image.open(path)
    img.load()
    return img


# --- streaming: order, bounded look-ahead -------------------------------------------------------------------


def test_map_ahead_keeps_order_and_bounds_work_in_flight() -> None:
    consumed: list[int] = []
    lock = threading.Lock()

    def items():
        for i in range(40):
            consumed.append(i)
            yield i

    def work(i: int) -> int:
        time.sleep(0.002 * (i % 3))  # finishing out of order
        if i == 7:
            raise ValueError("bad item 7")
        with lock:
            return i * i

    handed = 0
    for item, future in map_ahead(work, items(), workers=3, ahead=5):
        assert item == handed
        assert len(consumed) - handed <= 5  # never more than `ahead` items pulled and not handed back
        if item == 7:
            with pytest.raises(ValueError, match="bad item 7"):
                future.result()
        else:
            assert future.result() == item * item
        handed += 1
    assert handed == 40


def test_map_ahead_stops_cleanly_when_the_consumer_stops() -> None:
    started: list[int] = []
    stream = map_ahead(lambda i: started.append(i) or i, range(1000), workers=2, ahead=4)
    for item, _future in stream:
        if item == 2:
            break
    stream.close()
    assert len(started) <= 8


def test_many_inputs_are_written_in_order_with_their_own_sizes(tmp_path: Path) -> None:
    sizes = [(40 + 7 * i, 30 + 5 * (i % 4)) for i in range(11)]
    for i, (w, h) in enumerate(sizes):
        _photo(tmp_path / "in" / f"p{i:02d}.png", w, h, seed=i)
    out = tmp_path / "out"
    args = [
        "remove",
        str(tmp_path / "in"),
        "-o",
        str(out),
        *FAST,
        "-q",
        "--workers",
        "3",
        "--batch-size",
        "4",
    ]
    assert main(args) == 0
    for i, (w, h) in enumerate(sizes):
        assert _valid(out / f"p{i:02d}.png").size == (w, h)


# --- atomic writes ------------------------------------------------------------------------------------------


def test_write_atomic_leaves_nothing_when_it_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dst = tmp_path / "x.png"
    dst.write_bytes(b"old")

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        write_atomic(dst, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"] and dst.read_bytes() == b"old"


def test_write_atomic_gives_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "sub" / "x.bin", b"data")
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "x.bin").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def test_remove_stale_temps_removes_only_those_of_the_outputs(tmp_path: Path) -> None:
    names = [".a.png.1f2e3d4c.part", ".a.png.x_y.part", ".b.png.00000000.part", "a.png", ".a.png"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert remove_stale_temps([tmp_path / "a.png", tmp_path / "c.png", tmp_path / "gone" / "d.png"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.png", ".b.png.00000000.part", "a.png"]


def _cutkit() -> list[str]:
    return [sys.executable, "-m", "cutkit"]


def test_killed_run_leaves_no_partial_output_and_resumes(tmp_path: Path) -> None:
    n = 40
    for i in range(n):
        _photo(tmp_path / "in" / f"img{i:02d}.png", 480, 360, seed=i)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [*_cutkit(), "remove", str(tmp_path / "in"), "-o", str(out), *FAST, "-q"],
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_dir() and len(_outputs(out)) >= 3:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode() if proc.stderr else ""
    done = _outputs(out)
    assert 3 <= len(done) < n, "the run was not killed mid-way"
    for name in done:
        assert _valid(out / name).size == (480, 360)
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert all(re.fullmatch(r"\.img\d\d\.png\.\w+\.part", name) for name in leftovers), leftovers

    report = tmp_path / "report.json"
    again = ["remove", str(tmp_path / "in"), "-o", str(out), *FAST, "-q", "--skip-existing"]
    assert main([*again, "--report", str(report)]) == 0
    counts = json.loads(report.read_text())
    assert (counts["ok"], counts["failed"], counts["skipped"]) == (n - len(done), 0, len(done))
    assert sorted(p.name for p in out.iterdir()) == [f"img{i:02d}.png" for i in range(n)]  # no .part left
    for i in range(n):
        assert _valid(out / f"img{i:02d}.png").mode == "RGBA"


def test_skip_existing_leaves_outputs_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        _photo(tmp_path / "in" / f"p{i}.png", 50, 40, seed=i)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p1.png").write_bytes(b"kept as it is")
    assert main(["remove", str(tmp_path / "in"), "-o", str(out), *FAST, "--skip-existing"]) == 0
    assert _summary(capsys.readouterr().err) == (3, 2, 0, 1)
    assert (out / "p1.png").read_bytes() == b"kept as it is"
    assert _valid(out / "p0.png").size == (50, 40)

    assert main(["remove", str(tmp_path / "in"), "-o", str(out), *FAST]) == 0  # without: redone
    assert _summary(capsys.readouterr().err) == (3, 3, 0, 0)
    assert _valid(out / "p1.png").size == (50, 40)


# --- one bad file never stops the batch ---------------------------------------------------------------------


def _mixed_folder(folder: Path) -> dict[str, str]:
    """Good photos and bad files; returns bad file name → words its error must contain."""
    for i in range(5):
        _photo(folder / f"good{i}.png", 60, 45, seed=i)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.png").write_text("not a picture")
    full = (folder / "good0.png").read_bytes()
    (folder / "cut.png").write_bytes(full[: len(full) // 3])
    return {"empty.jpg": "empty", "text.png": "not an image", "cut.png": "truncated"}


def test_bad_files_are_reported_and_the_rest_done(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _mixed_folder(tmp_path / "in")
    out, report = tmp_path / "out", tmp_path / "logs" / "report.json"
    args = [
        "remove",
        str(tmp_path / "in"),
        "-o",
        str(out),
        *FAST,
        "--batch-size",
        "4",
        "--report",
        str(report),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert _summary(err) == (8, 5, 3, 0)
    assert "Traceback" not in err
    assert _outputs(out) == [f"good{i}.png" for i in range(5)]
    data = json.loads(report.read_text())
    assert (data["ok"], data["failed"], data["skipped"]) == (5, 3, 0)
    assert data["seconds"] > 0 and data["images_per_second"] > 0
    by_input = {Path(f["input"]).name: f for f in data["failures"]}
    assert set(by_input) == set(bad)
    for name, words in bad.items():
        failure = by_input[name]
        assert failure["stage"] == "decode" and words in failure["error"] and name in failure["error"]
        assert failure["output"] == str(out / (Path(name).stem + ".png"))
    assert [p.name for p in report.parent.iterdir()] == ["report.json"]  # written atomically


def test_report_of_a_clean_run(tmp_path: Path) -> None:
    src = _photo(tmp_path / "a.png", 30, 20)
    report = tmp_path / "r.json"
    assert main(["remove", str(src), "-o", str(tmp_path / "out"), *FAST, "-q", "--report", str(report)]) == 0
    data = json.loads(report.read_text())
    assert (data["ok"], data["failed"], data["skipped"], data["failures"]) == (1, 0, 0, [])


def test_a_network_failure_fails_only_its_photo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = cutkit.api.Remover.alpha_batch

    def fragile(self: cutkit.api.Remover, rgbs: list[np.ndarray], o: object = None) -> list[np.ndarray]:
        if any(r.shape[:2] == (33, 44) for r in rgbs):
            raise RuntimeError("kernel size can't be greater than actual input size")
        return real(self, rgbs, o)

    monkeypatch.setattr(cutkit.api.Remover, "alpha_batch", fragile)
    for i, (w, h) in enumerate([(50, 40), (44, 33), (52, 41), (48, 36)]):
        _photo(tmp_path / "in" / f"p{i}.png", w, h, seed=i)
    report = tmp_path / "r.json"
    args = ["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST, "--batch-size", "4"]
    assert main([*args, "--report", str(report)]) == 2
    assert _summary(capsys.readouterr().err) == (4, 3, 1, 0)
    assert _outputs(tmp_path / "out") == ["p0.png", "p2.png", "p3.png"]
    (failure,) = json.loads(report.read_text())["failures"]
    assert failure["stage"] == "network" and "44×33" in failure["error"] and "p1.png" in failure["error"]


def test_an_unwritable_output_fails_only_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(3):
        _photo(tmp_path / "in" / f"p{i}.png", 40, 30, seed=i)
    (tmp_path / "out" / "p1.png").mkdir(parents=True)  # a folder where the output file should go
    assert main(["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST]) == 2
    err = capsys.readouterr().err
    assert _summary(err) == (3, 2, 1, 0)
    assert re.search(r"p1\.png: cannot write .*p1\.png", err)
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".part")]


def test_max_pixels_refuses_only_the_big_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _photo(tmp_path / "in" / "small.png", 40, 30)
    _photo(tmp_path / "in" / "big.png", 100, 80)
    args = ["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST, "--max-pixels", "5000"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "big.png: 100×80 = 8,000 pixels, more than the limit of 5,000" in err
    assert _outputs(tmp_path / "out") == ["small.png"]


def test_animated_input_warns_once_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = [Image.new("RGB", (30, 20), c) for c in ("red", "green")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert main(["remove", str(tmp_path / "anim.gif"), "-o", str(tmp_path / "out"), *FAST, "-q"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning: ") == 1 and "anim.gif: animated image: only its first frame is used" in err


# --- planning: outputs that would destroy inputs or each other ----------------------------------------------


def test_outputs_that_collide_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _photo(tmp_path / "in" / "a.jpg", 40, 30)
    _photo(tmp_path / "in" / "a.png", 40, 30, seed=1)
    _photo(tmp_path / "in" / "b.png", 40, 30, seed=2)
    assert main(["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST]) == 2
    err = capsys.readouterr().err
    assert _summary(err) == (3, 2, 1, 0)
    assert "a.png: its output" in err and "also the output of" in err and "a.jpg" in err


def test_an_output_never_overwrites_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _photo(tmp_path / "photo.png", 40, 30)
    before = src.read_bytes()
    assert main(["remove", str(src), "-o", str(tmp_path), *FAST]) == 2
    assert "would overwrite this input" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_earlier_outputs_inside_the_input_folder_are_not_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    for i in range(2):
        _photo(photos / f"p{i}.jpg", 40, 30, seed=i)
    args = ["remove", str(photos), "-o", str(photos / "cutouts"), *FAST]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert "2 file(s) inside the output folder" in err and _summary(err) == (2, 0, 0, 2)
    assert not (photos / "cutouts" / "cutouts").exists()


def test_hidden_files_in_folders_are_not_inputs(tmp_path: Path) -> None:
    _photo(tmp_path / "in" / "photo.jpg", 40, 30)
    (tmp_path / "in" / "._photo.jpg").write_bytes(b"\x00\x05\x16\x07 macOS resource fork")
    _photo(tmp_path / "in" / ".thumbnails" / "photo.png", 8, 6)
    (tmp_path / "in" / ".photo.png.3f2a.part").write_bytes(b"half")
    assert main(["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST, "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["photo.png"]


def test_no_images_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["remove", str(tmp_path / "empty"), *FAST]) == 2
    assert "no image files" in capsys.readouterr().err


def test_workers_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _photo(tmp_path / "a.png", 30, 20)
    assert main(["remove", str(src), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err
