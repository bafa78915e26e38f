"""``cutkit eval``, run in-process through ``cutkit.cli.main.main`` with the real SINet weights.

One full run over duts-te-mini (50 pairs, ~3 s on one CPU thread) is shared by the checks that read its
results; the terminal-table run uses a folder of four symlinked pairs.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from _parity import find_shared
from cutkit.cli.main import main
from cutkit.metrics.salient import SUMMARY_KEYS

sod = pytest.importorskip("py_sod_metrics")


@pytest.fixture(scope="module")
def duts_te() -> Path:
    shared = find_shared()
    folder = shared / "data" / "sod" / "duts-te-mini" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared/data/sod/duts-te-mini not found")
    return folder


@pytest.fixture(scope="module")
def sinet_args() -> list[str]:
    shared = find_shared()
    weights = shared / "weights" / "sinet" / "SINet.pth" if shared else None
    if weights is None or not weights.is_file():
        pytest.skip("shared/weights/sinet/SINet.pth not found")
    return ["--model", "sinet", "--weights", str(weights), "--threads", "1", "--batch-size", "4"]


@dataclass
class EvalRun:
    rc: int
    stdout: str
    stderr: str
    out: Path
    maps: Path


@pytest.fixture(scope="module")
def json_run(duts_te: Path, sinet_args: list[str], tmp_path_factory: pytest.TempPathFactory) -> EvalRun:
    tmp = tmp_path_factory.mktemp("eval")
    out, maps = tmp / "out", tmp / "maps"
    # A module-scoped fixture cannot use capsys: capture by hand.
    stdout, stderr = io.StringIO(), io.StringIO()
    args = ["eval", *sinet_args, "--data", str(duts_te), "--json", "-o", str(out), "--save-maps", str(maps)]
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        rc = main(args)
    return EvalRun(rc, stdout.getvalue(), stderr.getvalue(), out, maps)


def test_json_summary_on_stdout(json_run: EvalRun, duts_te: Path) -> None:
    assert json_run.rc == 0, json_run.stderr
    summary = json.loads(json_run.stdout)  # stdout holds the JSON and nothing else
    assert set(summary) == {*SUMMARY_KEYS, "images", "model", "data"}
    assert summary["images"] == 50 and summary["model"] == "sinet" and summary["data"] == str(duts_te)
    for key in SUMMARY_KEYS:
        assert 0.0 <= summary[key] <= 1.0, (key, summary[key])
    assert summary["max_f"] >= summary["mean_f"]
    assert "img" in json_run.stderr  # the progress bar went to stderr
    assert json.loads((json_run.out / "summary.json").read_text()) == summary


def test_result_files(json_run: EvalRun) -> None:
    with (json_run.out / "per_image.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 50
    assert list(rows[0]) == ["name", *SUMMARY_KEYS]
    assert all(0.0 <= float(r[k]) <= 1.0 for r in rows for k in SUMMARY_KEYS)
    with Image.open(json_run.out / "pr_curve.png") as img:
        assert img.format == "PNG"


def test_saved_maps_reproduce_the_summary_with_pysodmetrics(json_run: EvalRun, duts_te: Path) -> None:
    """The saved maps, scored by pysodmetrics against the mask files, give the printed numbers."""
    maps = sorted(json_run.maps.glob("*.png"))
    assert len(maps) == 50
    mae, sm = sod.MAE(), sod.Smeasure()
    for path in maps:
        pred = np.asarray(Image.open(path))
        gt = np.asarray(Image.open(duts_te / "masks" / path.name).convert("L"))
        assert pred.dtype == np.uint8 and pred.ndim == 2
        if pred.shape != gt.shape:
            pred = cv2.resize(pred, gt.shape[::-1], interpolation=cv2.INTER_LINEAR)
        mae.step(pred, gt)
        sm.step(pred, gt)
    summary = json.loads(json_run.stdout)
    assert summary["mae"] == pytest.approx(mae.get_results()["mae"], abs=1e-6)
    assert summary["s_measure"] == pytest.approx(sm.get_results()["sm"], abs=1e-6)


def test_table_and_default_output_folder(
    duts_te: Path,
    sinet_args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "four"
    for sub, suffix in (("images", ".jpg"), ("masks", ".png")):
        (data / sub).mkdir(parents=True)
        for src in sorted((duts_te / sub).glob(f"*{suffix}"))[:4]:
            (data / sub / src.name).symlink_to(src)
    monkeypatch.chdir(tmp_path)
    for expected in ("sinet-four", "sinet-four2"):
        assert main(["eval", *sinet_args, "--data", str(data)]) == 0
        captured = capsys.readouterr()
        lines = captured.out.splitlines()
        assert lines[0].split() == ["metric", "value"]
        assert [line.split()[0] for line in lines[1:]] == list(SUMMARY_KEYS)
        assert all(0.0 <= float(line.split()[1]) <= 1.0 for line in lines[1:])
        folder = tmp_path / "runs" / "eval" / expected
        assert str(Path("runs") / "eval" / expected) in captured.err
        assert json.loads((folder / "summary.json").read_text())["images"] == 4


def test_bad_data_folder_is_exit_2_naming_it(
    sinet_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-data"
    assert main(["eval", *sinet_args, "--data", str(missing), "-o", str(tmp_path / "o")]) == 2
    assert str(missing) in capsys.readouterr().err
    empty = tmp_path / "empty"
    (empty / "images").mkdir(parents=True)
    (empty / "masks").mkdir()
    assert main(["eval", *sinet_args, "--data", str(empty), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and str(empty) in err
    assert not (tmp_path / "o").exists()


def test_options_outside_the_model_group_are_not_accepted(
    sinet_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["eval", *sinet_args, "--data", str(tmp_path), "--post-process"])
    assert exc.value.code == 2
    assert "--post-process" in capsys.readouterr().err
