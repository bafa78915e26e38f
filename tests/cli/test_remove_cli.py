"""``cutkit remove`` and ``cutkit models``, run in-process through ``cutkit.cli.main.main`` (once for real).

Removal runs use the real SINet weights from the shared folder (skipped without it).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cutkit.cli.main import main
from cutkit.zoo import list_specs

MIN_MEAN_IOU = 0.55  # SINet on people-mini measured 0.686 (many small or partial people score low)


def _write_photo(path: Path, w: int = 80, h: int = 96, seed: int = 0) -> Path:
    """A synthetic photo: a gradient with a bright ellipse, saved in the format of ``path``'s suffix."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 200 / w, yy * 200 / h, np.full((h, w), 90.0)])
    img[((xx - w / 2) / (w / 3)) ** 2 + ((yy - h / 2) / (h / 2.5)) ** 2 < 1] = (230, 190, 160)
    img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


@pytest.fixture
def sinet(sinet_weights: Path) -> list[str]:
    return ["--model", "sinet", "--weights", str(sinet_weights)]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# --- end to end on real photos ---------------------------------------------------------------------------


def _iou(pred: np.ndarray, gt: np.ndarray) -> float:
    union = (pred | gt).sum()
    return float((pred & gt).sum() / union) if union else 1.0


def test_people_mini_masks_match_ground_truth(
    sinet: list[str], people_mini: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc = main(["remove", str(people_mini / "images"), *sinet, "--mask", "--batch-size", "4", "-o", str(out)])
    assert rc == 0
    photos = sorted((people_mini / "images").glob("*.jpg"))
    assert _files(out) == sorted(p.stem + ".png" for p in photos)
    ious = []
    for photo in photos:
        ours = Image.open(out / f"{photo.stem}.png")
        assert ours.mode == "L" and ours.size == Image.open(photo).size
        # Many GT masks are smaller than their photo (same aspect): bring them to the photo's size.
        # The GT masks hold only 0 and 255, so ">= 128" and "> 0" agree.
        gt = Image.open(people_mini / "masks" / f"{photo.stem}.png").convert("L")
        gt = gt.resize(ours.size, Image.Resampling.NEAREST)
        ious.append(_iou(np.asarray(ours) >= 128, np.asarray(gt) >= 128))
    mean = float(np.mean(ious))
    with capsys.disabled():
        print(f"\npeople-mini: SINet mean IoU {mean:.3f} over {len(ious)} photos")
    assert mean >= MIN_MEAN_IOU


# --- inputs and outputs ------------------------------------------------------------------------------------


def test_single_input_to_named_file(sinet: list[str], tmp_path: Path) -> None:
    src = _write_photo(tmp_path / "in.jpg")
    dst = tmp_path / "deep" / "result.png"
    assert main(["remove", str(src), *sinet, "-o", str(dst), "-q"]) == 0
    img = Image.open(dst)
    assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (80, 96))


def test_several_inputs_to_folder(sinet: list[str], tmp_path: Path) -> None:
    srcs = [_write_photo(tmp_path / f"p{i}.png", seed=i) for i in range(3)]
    out = tmp_path / "out"
    assert main(["remove", *map(str, srcs), *sinet, "-o", str(out), "-q"]) == 0
    assert _files(out) == ["p0.png", "p1.png", "p2.png"]


def test_folder_recursion_keeps_relative_paths(sinet: list[str], tmp_path: Path) -> None:
    src = tmp_path / "in"
    _write_photo(src / "a.jpg")
    _write_photo(src / "sub" / "b.png", seed=1)
    _write_photo(src / "sub" / "deeper" / "c.webp", seed=2)
    (src / "notes.txt").write_text("not an image, and not picked up from a folder")
    out = tmp_path / "out"
    assert main(["remove", str(src), *sinet, "-o", str(out), "--format", "webp", "-q"]) == 0
    assert _files(out) == ["a.webp", "sub/b.webp", "sub/deeper/c.webp"]
    assert Image.open(out / "sub" / "deeper" / "c.webp").format == "WEBP"


def test_glob_input(sinet: list[str], tmp_path: Path) -> None:
    for i in range(2):
        _write_photo(tmp_path / "in" / f"g{i}.png", seed=i)
    _write_photo(tmp_path / "in" / "other.jpg")
    out = tmp_path / "out"
    assert main(["remove", str(tmp_path / "in" / "g*.png"), *sinet, "-o", str(out), "-q"]) == 0
    assert _files(out) == ["g0.png", "g1.png"]


def test_glob_without_match_is_an_error(
    sinet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["remove", str(tmp_path / "nothing*.png"), *sinet, "-o", str(tmp_path / "out")]) == 2
    assert "no file matches" in capsys.readouterr().err


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "cutkit"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "cutkit"]


def test_stdin_to_stdout_through_the_real_entry_point(sinet: list[str], tmp_path: Path) -> None:
    data = _write_photo(tmp_path / "in.png").read_bytes()
    done = subprocess.run(
        [*_console_script(), "remove", "-", *sinet], input=data, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b"\x89PNG")
    img = Image.open(io.BytesIO(done.stdout))
    assert (img.mode, img.size) == ("RGBA", (80, 96))


def test_jpeg_needs_a_background(
    sinet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write_photo(tmp_path / "in.png")
    out = tmp_path / "out"
    assert main(["remove", str(src), *sinet, "--format", "jpg", "-o", str(out), "-q"]) == 2
    assert "--bg" in capsys.readouterr().err
    assert not out.exists() or _files(out) == []

    assert main(["remove", str(src), *sinet, "--format", "jpg", "--bg", "white", "-o", str(out), "-q"]) == 0
    img = Image.open(out / "in.jpg")
    assert (img.format, img.mode, img.size) == ("JPEG", "RGB", (80, 96))


# --- bad inputs: a clear message naming the file, exit code 2, no output ----------------------------------


def _text_as_jpg(path: Path) -> Path:
    path.write_text("this is not a picture\n")
    return path


def _truncated_jpeg(path: Path) -> Path:
    data = _write_photo(path.with_suffix(".tmp.jpg"), w=200, h=160).read_bytes()
    path.with_suffix(".tmp.jpg").unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


BAD_INPUTS = {
    "missing": (lambda p: p, "not found"),
    "text": (_text_as_jpg, "not an image"),
    "truncated": (_truncated_jpeg, "truncated"),
    "empty": (_empty, "empty"),
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_input(kind: str, sinet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make, words = BAD_INPUTS[kind]
    bad = make(tmp_path / "x.jpg")
    out = tmp_path / "out"
    assert main(["remove", str(bad), *sinet, "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and words in err
    assert "Traceback" not in err
    assert not out.exists() or _files(out) == []


def test_one_good_one_bad(sinet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write_photo(tmp_path / "good.png")
    bad = _text_as_jpg(tmp_path / "bad.jpg")
    out = tmp_path / "out"
    assert main(["remove", str(good), str(bad), *sinet, "-o", str(out), "--batch-size", "2"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "1 failed" in err
    assert _files(out) == ["good.png"]


# --- model, device and weights errors -----------------------------------------------------------------------


def test_unknown_model_suggests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_photo(tmp_path / "in.png")
    assert main(["remove", str(src), "--model", "u2netq", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert re.search(r"did you mean [^)]*'u2netp'", err) and "Traceback" not in err


def test_cuda_without_cuda_is_an_error(
    sinet: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    src = _write_photo(tmp_path / "in.png")
    out = tmp_path / "out"
    assert main(["remove", str(src), *sinet, "--device", "cuda", "-o", str(out)]) == 2
    assert "CUDA is not available" in capsys.readouterr().err
    assert not out.exists()  # no silent fallback to the CPU


def test_missing_weights_say_where_to_put_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cutkit.zoo import weights

    home = tmp_path / "cache"
    monkeypatch.setenv("CUTKIT_HOME", str(home))
    tried: list[str] = []

    def offline(url: str, dest: Path, **_: object) -> Path:  # no network in tests
        tried.append(url)
        raise weights.WeightsError(f"{url}: offline or unreachable (test)")

    monkeypatch.setattr(weights, "download_file", offline)
    src = _write_photo(tmp_path / "in.png")
    assert main(["remove", str(src), "--model", "u2netp", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert tried, "the download was not attempted"
    assert "u2netp.pth" in err and str(home) in err
    assert "Traceback" not in err


def test_bad_option_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_photo(tmp_path / "in.png")
    assert main(["remove", str(src), "--batch-size", "0"]) == 2
    assert "batch_size" in capsys.readouterr().err


# --- cutkit models ----------------------------------------------------------------------------------------


def test_models_table_lists_every_spec(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    names = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert {s.name for s in list_specs()} <= names


def test_models_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [s.name for s in list_specs()]
    assert sum(r["default"] for r in rows) == 1
