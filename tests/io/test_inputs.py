"""Every kind of input: each is read correctly or refused with a message naming it; every file is generated.

Decoding is tested through :func:`cutkit.io.image.open_image` / ``to_rgb_array``; the shapes that could
break later steps (EXIF rotation, tiny and extreme images, transparency) also go through the whole removal
with the bundled default model.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageFile

from cutkit.cli.main import main
from cutkit.io import decode
from cutkit.io.image import ImageError, ImageWarning, open_image, to_rgb_array

FAST = ["--threads", "1", "-q"]  # the default model (cutnet-duts, bundled), one thread
# The photo's own colours in the cutout, so they show what was decoded (decontamination re-estimates them).
AS_DECODED = ["--no-decontaminate"]


def _photo(w: int = 64, h: int = 48, seed: int = 0) -> np.ndarray:
    """A smooth colour photo with a bright disc: compresses well and survives JPEG."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.dstack([xx * 200 / max(w, 1), yy * 200 / max(h, 1), np.full((h, w), 90.0)])
    img[((xx - w / 2) / (w / 3 + 1)) ** 2 + ((yy - h / 2) / (h / 3 + 1)) ** 2 < 1] = (230, 190, 160)
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)


def _encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _png_header_only(w: int, h: int) -> bytes:
    """A PNG that claims ``w``×``h`` pixels but holds none: a bomb's header, without the bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def _refusal(src: object, **kwargs: object) -> str:
    with pytest.raises(ImageError) as info:
        open_image(src, **kwargs)
    return str(info.value)


# --- unreadable inputs: a clear message that names the file ----------------------------------------------


def test_zero_bytes(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    assert str(empty) in _refusal(empty) and "empty" in _refusal(empty)
    assert "empty" in _refusal(b"")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
@pytest.mark.parametrize("keep", [0.5, 0.1, 40])
def test_truncated(fmt: str, keep: float, tmp_path: Path) -> None:
    data = _encoded(Image.fromarray(_photo(200, 150)), fmt)
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(data[: int(keep * len(data)) if keep < 1 else int(keep)])
    message = _refusal(cut)
    assert str(cut) in message and "truncated" in message


def test_text_file_named_png(tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("shopping list: milk, eggs\n")
    message = _refusal(fake)
    assert str(fake) in message and "not an image" in message and "text" in message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "PDF"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>', "SVG"),
        (bytes(range(256)) * 4, "format Pillow cannot read"),
    ],
    ids=["pdf", "svg", "binary"],
)
def test_unsupported_format(content: bytes, words: str, tmp_path: Path) -> None:
    path = tmp_path / "input.jpg"
    path.write_bytes(content)
    message = _refusal(path)
    assert str(path) in message and words in message


# --- decompression bombs: refused from the header, before any pixel is decoded ----------------------------


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any pixel data is decoded."""

    def load(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.fixture
def pillow_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow's own limit, restored after the test (open_image may raise it)."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", Image.MAX_IMAGE_PIXELS)


# Between Pillow's limit and twice it, Pillow warns inside open(); cutkit's refusal follows at once.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bomb_over_the_default_limit(tmp_path: Path, no_decoding: None, pillow_limit: None) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(12_000, 10_000))  # 120 MP in 57 bytes
    message = _refusal(bomb)
    assert str(bomb) in message and "120,000,000 pixels" in message and "refused before decoding" in message


def test_bomb_beyond_pillows_own_limit(tmp_path: Path, no_decoding: None, pillow_limit: None) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header_only(40_000, 40_000))  # 1.6 GP: Pillow itself refuses it inside open()
    message = _refusal(bomb)
    assert str(bomb) in message and "refused before decoding" in message


def test_a_small_limit_refuses_a_real_photo(tmp_path: Path, pillow_limit: None) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(_photo(100, 80)).save(path)
    assert "8,000 pixels, more than the limit of 7,999" in _refusal(path, max_pixels=7_999)
    assert open_image(path, max_pixels=8_000).size == (100, 80)


def test_a_raised_limit_is_pillows_limit_too(tmp_path: Path, pillow_limit: None) -> None:
    # 144 MP: Pillow's default limit (89 MP) would warn about it; with max_pixels=200 MP it is allowed, so
    # decoding starts (and finds no pixel data): no DecompressionBombWarning or error on the way.
    big = tmp_path / "big.png"
    big.write_bytes(_png_header_only(12_000, 12_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        message = _refusal(big, max_pixels=200_000_000)
    assert "truncated" in message and "pixels" not in message
    assert Image.MAX_IMAGE_PIXELS >= 200_000_000


def test_decoded_objects_are_not_limited() -> None:
    arr = np.zeros((100, 100, 3), np.uint8)
    assert open_image(arr, max_pixels=10).size == (100, 100)
    assert open_image(Image.fromarray(arr), max_pixels=10).size == (100, 100)


# --- modes and depths: the right RGB ------------------------------------------------------------------------


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 64 * 4).astype(np.uint16).reshape(4, 64)
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    img = open_image(path)
    assert img.mode.startswith("I;16")
    rgb = to_rgb_array(img)
    assert rgb.shape == (4, 64, 3) and (rgb[..., 0] == rgb[..., 2]).all()
    assert np.abs(rgb[..., 0].astype(int) - np.rint(ramp / 257.0)).max() == 0
    assert rgb.max() == 255 and rgb.min() == 0  # the full range, not a clipped band


def test_dark_16_bit_png_stays_dark(tmp_path: Path) -> None:
    dark = np.full((8, 8), 1000, np.uint16)  # 1.5 % grey: must not be read as 8-bit 1000 → 255
    path = tmp_path / "dark.png"
    Image.fromarray(dark).save(path)
    assert (to_rgb_array(open_image(path)) == 4).all()


def test_16_bit_colour_png(tmp_path: Path) -> None:
    bgr = np.zeros((6, 6, 4), np.uint16)
    bgr[..., 0], bgr[..., 1], bgr[..., 2], bgr[..., 3] = 0, 30_000, 65_535, 65_535  # B, G, R, A
    path = tmp_path / "deep_rgba.png"
    assert cv2.imwrite(str(path), bgr)
    assert (to_rgb_array(open_image(path)) == (255, 117, 0)).all()  # 30000 / 257 ≈ 116.7


def test_cmyk_jpeg_gives_the_original_colours(tmp_path: Path) -> None:
    rgb = np.zeros((16, 48, 3), np.uint8)
    rgb[:, :16], rgb[:, 16:32], rgb[:, 32:] = (200, 30, 40), (20, 180, 60), (245, 245, 245)
    path = tmp_path / "print.jpg"
    Image.fromarray(rgb).convert("CMYK").save(path, quality=95)
    img = open_image(path)
    assert img.mode == "CMYK"
    got = to_rgb_array(img)
    for x, colour in ((8, (200, 30, 40)), (24, (20, 180, 60)), (40, (245, 245, 245))):
        assert np.abs(got[8, x].astype(int) - colour).max() <= 6, (x, got[8, x])


def test_palette_png_with_transparency(tmp_path: Path) -> None:
    index = np.zeros((4, 8), np.uint8)
    index[:, 4:] = 1
    img = Image.fromarray(index, "P")
    img.putpalette([0, 0, 0, 20, 120, 220] + [0] * 762)
    path = tmp_path / "palette.png"
    img.save(path, transparency=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow warns when such an image is converted the naive way
        rgb = to_rgb_array(open_image(path))
    assert (rgb[:, :4] == 255).all()  # the transparent index shows white, not its black palette entry
    assert (rgb[:, 4:] == (20, 120, 220)).all()


def test_grey_and_grey_alpha(tmp_path: Path) -> None:
    grey = np.tile(np.arange(0, 256, 32, dtype=np.uint8), (4, 1))
    Image.fromarray(grey, "L").save(tmp_path / "grey.png")
    rgb = to_rgb_array(open_image(tmp_path / "grey.png"))
    assert (rgb == grey[..., None]).all()

    alpha = np.array([[0, 128, 255, 255]] * 4, np.uint8)
    Image.fromarray(np.dstack([np.full((4, 4), 40, np.uint8), alpha]), "LA").save(tmp_path / "la.png")
    rgb = to_rgb_array(open_image(tmp_path / "la.png"))
    a = alpha.astype(np.float64) / 255
    expected = np.rint(40 * a + 255 * (1 - a))
    assert (rgb == expected[..., None]).all()  # over white: 255, 148, 40, 40


def test_rgba_is_composited_over_white(tmp_path: Path) -> None:
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., :3] = (10, 200, 30)
    rgba[..., 3] = [[0, 255, 128], [0, 255, 128]]
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    rgb = to_rgb_array(open_image(tmp_path / "rgba.png"))
    assert (rgb[:, 0] == 255).all() and (rgb[:, 1] == (10, 200, 30)).all()
    assert (rgb[:, 2] == (132, 227, 142)).all()  # half-way between the colour and white


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animation_gives_its_first_frame_and_a_warning(fmt: str, tmp_path: Path) -> None:
    frames = [Image.new("RGB", (20, 12), colour) for colour in ((220, 20, 20), (20, 220, 20), (20, 20, 220))]
    path = tmp_path / f"moving.{fmt.lower()}"
    frames[0].save(path, format=fmt, save_all=True, append_images=frames[1:], lossless=True)
    with pytest.warns(ImageWarning, match=f"{path}.*first frame"):
        rgb = to_rgb_array(open_image(path))
    assert rgb.shape == (12, 20, 3)
    assert np.abs(rgb.astype(int) - (220, 20, 20)).max() <= 12  # GIF's palette may shift it a little


def test_still_gif_gives_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "still.gif"
    Image.new("RGB", (8, 8), "red").save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        open_image(path)


def _exif_rotated_jpeg(path: Path) -> Path:
    """Stored 40 wide × 20 high, red top half, blue bottom half; EXIF orientation 6 (turn 90° clockwise)."""
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:10], stored[10:] = (230, 20, 20), (20, 20, 230)
    img = Image.fromarray(stored)
    exif = img.getexif()
    exif[0x0112] = 6
    img.save(path, exif=exif, quality=95)
    return path


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    rgb = to_rgb_array(open_image(_exif_rotated_jpeg(tmp_path / "phone.jpg")))
    assert rgb.shape == (40, 20, 3)  # upright: 20 wide, 40 high
    assert rgb[20, -2, 0] > 200 and rgb[20, 1, 2] > 200  # the stored top (red) is now on the right


# --- HEIC -------------------------------------------------------------------------------------------------


def test_heic_is_read_with_pillow_heif(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    path = tmp_path / "iphone.heic"
    pillow_heif.from_pillow(Image.new("RGB", (64, 48), (200, 60, 40))).save(path, quality=95)
    rgb = to_rgb_array(open_image(path))
    assert rgb.shape == (48, 64, 3)
    assert np.abs(rgb.astype(int) - (200, 60, 40)).max() <= 8


def test_heic_without_pillow_heif_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "iphone.heic"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64)
    monkeypatch.setattr(decode, "_heif_opener", lambda: False)
    message = _refusal(path)
    assert str(path) in message and "pillow-heif" in message and "cutkit[heif]" in message


def test_avif(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import features

    if features.check("avif"):
        Image.new("RGB", (32, 24), (30, 90, 200)).save(tmp_path / "new.avif", quality=95)
        rgb = to_rgb_array(open_image(tmp_path / "new.avif"))
        assert rgb.shape == (24, 32, 3) and np.abs(rgb.astype(int) - (30, 90, 200)).max() <= 10
    broken = tmp_path / "broken.avif"
    broken.write_bytes(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 32)
    if features.check("avif"):
        assert "corrupt or truncated AVIF" in _refusal(broken)
    monkeypatch.setattr(decode.features, "check", lambda name: False)
    assert "without AVIF support" in _refusal(broken)


def test_heic_in_a_folder_is_removed(tmp_path: Path) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    (tmp_path / "in").mkdir()
    pillow_heif.from_pillow(Image.fromarray(_photo(64, 48))).save(tmp_path / "in" / "phone.heic")
    assert main(["remove", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *FAST]) == 0
    assert Image.open(tmp_path / "out" / "phone.png").size == (64, 48)


# --- through the whole removal (CLI, default model) --------------------------------------------------------


def _remove(src: Path, out: Path, *extra: str) -> Image.Image:
    assert main(["remove", str(src), "-o", str(out), *FAST, *extra]) == 0
    img = Image.open(out)
    img.load()
    return img


@pytest.mark.parametrize("size", [(8, 8), (10_000, 50), (50, 10_000)], ids=["8x8", "10000x50", "50x10000"])
def test_tiny_and_extreme_shapes(size: tuple[int, int], tmp_path: Path) -> None:
    src = tmp_path / "odd.png"
    Image.fromarray(_photo(*size)).save(src)
    out = _remove(src, tmp_path / "odd_out.png", *AS_DECODED)
    assert (out.mode, out.size) == ("RGBA", size)
    assert (np.asarray(out)[..., :3] == np.asarray(Image.open(src))).all()


def test_exif_rotated_cutout_is_upright(tmp_path: Path) -> None:
    out = _remove(_exif_rotated_jpeg(tmp_path / "phone.jpg"), tmp_path / "phone.png", *AS_DECODED)
    rgba = np.asarray(out)
    assert out.size == (20, 40)
    assert rgba[20, -2, 0] > 200 and rgba[20, 1, 2] > 200


def test_transparent_input_through_the_removal(tmp_path: Path) -> None:
    rgba = np.dstack([_photo(64, 48), np.full((48, 64), 255, np.uint8)])
    rgba[:, :16, 3] = 0
    rgba[:, :16, :3] = 0  # hidden black under the transparent band
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    out = np.asarray(_remove(tmp_path / "cut.png", tmp_path / "out.png", *AS_DECODED))
    assert (out[:, :16, :3] == 255).all()  # shown over white, as a viewer shows it; not the hidden black
    assert (out[:, 16:, :3] == rgba[:, 16:, :3]).all()
    assert _remove(tmp_path / "cut.png", tmp_path / "out.png").size == (64, 48)  # default options too


def test_cmyk_and_16_bit_through_the_removal(tmp_path: Path) -> None:
    Image.fromarray(_photo(60, 40)).convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    assert _remove(tmp_path / "print.jpg", tmp_path / "print.png").size == (60, 40)
    Image.fromarray(_photo(60, 40)[..., 0].astype(np.uint16) * 257).save(tmp_path / "deep.png")
    assert _remove(tmp_path / "deep.png", tmp_path / "deep_out.png").size == (60, 40)
