"""Output options end to end (CLI and Python API): formats, ICC, --bg blur, --crop/--margin, --quality.

Runs use the bundled default model, so they need nothing from ``../shared``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms

import cutkit
from cutkit.cli import remove as remove_cli
from cutkit.cli.main import main
from cutkit.pipeline.crop import subject_box

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _photo(w: int = 96, h: int = 80) -> Image.Image:
    """A dark gradient with a bright ellipse in the middle, labelled with an sRGB profile."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 80 / w, yy * 80 / h, np.full((h, w), 60.0)])
    img[((xx - w / 2) / (w / 4)) ** 2 + ((yy - h / 2) / (h / 3)) ** 2 < 1] = (240, 200, 170)
    pil = Image.fromarray(img.astype(np.uint8))
    pil.info["icc_profile"] = SRGB
    return pil


def _write(path: Path) -> Path:
    _photo().save(path, icc_profile=SRGB)
    return path


def _no_model(*_args: object) -> None:
    raise AssertionError("the output check must come before the model is loaded")


# --- refused before any work --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-o", "{tmp}/out.jpg"], ["out.jpg", "JPEG has no transparency", "--bg"]),
        (["--format", "jpeg", "-o", "{tmp}/out"], ["--format jpg", "JPEG has no transparency", "--bg"]),
        (["--bg", "0,0,0,100", "-o", "{tmp}/out.jpg"], ["out.jpg", "opaque background"]),
        (["--quality", "80", "-o", "{tmp}/out.png"], ["out.png", "quality applies to jpg and webp only"]),
        (["--quality", "80", "--format", "tiff", "-o", "{tmp}/o"], ["--format tif", "always lossless"]),
    ],
)
def test_impossible_outputs_fail_before_the_model_loads(
    args: list[str],
    words: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(remove_cli, "load_remover", _no_model)
    src = _write(tmp_path / "in.png")
    argv = ["remove", str(src), *(a.format(tmp=tmp_path) for a in args), "-q"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert all(w in err for w in words), err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["in.png"]


def test_stdin_output_is_checked_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(remove_cli, "load_remover", _no_model)
    assert main(["remove", "-", "--format", "jpg"]) == 2
    assert "--format jpg: JPEG has no transparency" in capsys.readouterr().err


# --- real runs ----------------------------------------------------------------------------------------------


def test_tiff_and_lossy_webp_keep_alpha_and_the_icc_profile(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.png")
    assert main(["remove", str(src), "-o", str(tmp_path / "out.tiff"), "-q"]) == 0
    assert main(["remove", str(src), "-o", str(tmp_path / "out.webp"), "--quality", "70", "-q"]) == 0
    for name, fmt in [("out.tiff", "TIFF"), ("out.webp", "WEBP")]:
        out = Image.open(tmp_path / name)
        assert (out.format, out.mode, out.size) == (fmt, "RGBA", (96, 80))
        assert out.info.get("icc_profile") == SRGB


def test_blur_crop_margin_to_jpeg(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.png")
    assert main(["remove", str(src), "--mask", "-o", str(tmp_path / "mask.png"), "-q"]) == 0
    mask = np.asarray(Image.open(tmp_path / "mask.png"))
    left, top, right, bottom = subject_box(mask, "10%")
    argv = ["remove", str(src), "--bg", "blur", "--blur-sigma", "3", "--crop", "--margin", "10%"]
    assert main([*argv, "-o", str(tmp_path / "out.jpg"), "-q"]) == 0
    out = Image.open(tmp_path / "out.jpg")
    assert (out.format, out.mode) == ("JPEG", "RGB")
    assert out.size == (right - left, bottom - top) and out.size != (96, 80)
    assert out.info.get("icc_profile") == SRGB


def test_a_mask_can_be_a_jpeg_and_carries_no_profile(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.png")
    assert main(["remove", str(src), "--mask", "-o", str(tmp_path / "mask.jpg"), "-q"]) == 0
    out = Image.open(tmp_path / "mask.jpg")
    assert (out.format, out.mode) == ("JPEG", "L") and "icc_profile" not in out.info


def test_api_keeps_the_profile_and_writes_tiff() -> None:
    photo = _photo()
    out = cutkit.remove(photo, bg="blur")
    assert out.mode == "RGB" and out.info.get("icc_profile") == SRGB
    buf = io.BytesIO()
    photo.save(buf, format="PNG", icc_profile=SRGB)
    tif = Image.open(io.BytesIO(cutkit.remove(buf.getvalue(), format="tif")))
    assert (tif.format, tif.mode) == ("TIFF", "RGBA") and tif.info.get("icc_profile") == SRGB
    many = list(cutkit.Remover().remove_many([photo, photo], crop=True, margin=2))
    assert all(m.info.get("icc_profile") == SRGB and m.size != (96, 80) for m in many)
    with pytest.raises(ValueError, match="quality applies"):
        cutkit.remove(buf.getvalue(), quality=50)
