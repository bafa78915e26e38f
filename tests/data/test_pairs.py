"""Finding and reading image/mask pairs: layouts, list files, mask modes, mismatched sizes, bad files."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from _sod_synth import photo, soft_mask, write_pair
from PIL import Image

from cutkit.data.pairs import (
    DataError,
    DataWarning,
    Pair,
    find_pairs,
    read_mask,
    read_pair,
    scan_pairs,
)

# --- finding ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image_dir", "mask_dir"),
    [
        ("images", "masks"),
        ("DUTS-TR-Image", "DUTS-TR-Mask"),
        ("images", "ground_truth_mask"),
        ("imgs", "gt"),
        ("image", "mask"),
        ("im", "gt"),
        ("Images", "Masks"),
    ],
)
def test_layouts_are_found(tmp_path: Path, image_dir: str, mask_dir: str) -> None:
    for name in ("b", "a", "c"):
        write_pair(tmp_path, name, image_dir=image_dir, mask_dir=mask_dir)
    pairs = find_pairs(tmp_path)
    assert [p.stem for p in pairs] == ["a", "b", "c"]
    assert pairs[0] == Pair(tmp_path / image_dir / "a.jpg", tmp_path / mask_dir / "a.png")


def test_any_image_format_and_unmatched_files_are_left_out(tmp_path: Path) -> None:
    write_pair(tmp_path, "x", image_ext=".png")
    write_pair(tmp_path, "y", image_ext=".webp")
    write_pair(tmp_path, "lonely_image")
    write_pair(tmp_path, "lonely_mask")
    (tmp_path / "masks" / "lonely_image.png").unlink()
    (tmp_path / "images" / "lonely_mask.jpg").unlink()
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    scan = scan_pairs(tmp_path)
    assert [p.stem for p in scan.pairs] == ["x", "y"]
    assert [p.name for p in scan.unmatched_images] == ["lonely_image.jpg"]
    assert [p.name for p in scan.unmatched_masks] == ["lonely_mask.png"]
    assert [p.stem for p in find_pairs(tmp_path)] == ["x", "y"]


def test_no_pairs_names_the_folders_looked_at(tmp_path: Path) -> None:
    write_pair(tmp_path, "a")
    (tmp_path / "masks" / "a.png").rename(tmp_path / "masks" / "b.png")
    with pytest.raises(DataError, match=r"no image/mask pairs.*images \(1 images\).*masks"):
        find_pairs(tmp_path)


def test_folder_without_a_layout_lists_its_subfolders(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    with pytest.raises(DataError, match=r"no image and mask folders.*subfolders: photos"):
        find_pairs(tmp_path)


def test_several_layouts_are_ambiguous(tmp_path: Path) -> None:
    write_pair(tmp_path, "a", mask_dir="masks")
    write_pair(tmp_path, "a", mask_dir="ground_truth_mask")
    with pytest.raises(DataError, match="several image/mask folder pairs"):
        find_pairs(tmp_path)


def test_duplicate_stems_are_an_error(tmp_path: Path) -> None:
    write_pair(tmp_path, "a")
    write_pair(tmp_path, "a", image_ext=".png")
    with pytest.raises(DataError, match=r"images: two files share the name 'a' \(a.jpg, a.png\)"):
        find_pairs(tmp_path)


def test_missing_path_and_wrong_file_kind(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file or folder"):
        find_pairs(tmp_path / "nope")
    (tmp_path / "pairs.csv").write_text("a b\n")
    with pytest.raises(DataError, match=r"pairs.csv: not a pair folder or a list file"):
        find_pairs(tmp_path / "pairs.csv")


# --- list files ---------------------------------------------------------------------------------------------


def test_list_file(tmp_path: Path) -> None:
    write_pair(tmp_path / "data", "b")
    write_pair(tmp_path / "data", "a")
    listing = tmp_path / "train.lst"
    listing.write_text(
        "# image mask\n\ndata/images/b.jpg   data/masks/b.png\n  data/images/a.jpg\tdata/masks/a.png\n"
    )
    pairs = find_pairs(listing)
    assert [p.stem for p in pairs] == ["a", "b"]
    assert pairs[1] == Pair(tmp_path / "data/images/b.jpg", tmp_path / "data/masks/b.png")
    assert read_pair(pairs[0])["name"] == "a"


def test_list_file_errors_name_file_and_line(tmp_path: Path) -> None:
    write_pair(tmp_path, "a")
    listing = tmp_path / "list.txt"
    listing.write_text("images/a.jpg masks/a.png\nimages/a.jpg\n")
    with pytest.raises(DataError, match=r"list.txt:2: expected 'IMAGE MASK', got 1 field"):
        find_pairs(listing)
    listing.write_text("images/a.jpg masks/a.png\nimages/gone.jpg masks/a.png\n")
    with pytest.raises(DataError, match=r"list.txt: listed files do not exist: line 2: .*gone.jpg"):
        find_pairs(listing)
    listing.write_text("images/a.jpg masks/a.png\nimages/a.jpg masks/a.png\n")
    with pytest.raises(DataError, match=r"list.txt:2: the name 'a' is listed twice"):
        find_pairs(listing)


# --- masks --------------------------------------------------------------------------------------------------


def _save(img: Image.Image, path: Path) -> Path:
    img.save(path)
    return path


def test_8bit_mask_keeps_soft_values(tmp_path: Path) -> None:
    arr = soft_mask()
    mask = read_mask(_save(Image.fromarray(arr), tmp_path / "m.png"))
    assert mask.dtype == np.float32 and mask.shape == arr.shape
    np.testing.assert_allclose(mask, arr / 255.0, atol=1e-6)
    assert np.mean((mask > 0) & (mask < 1)) > 0  # soft edge survives


def test_16bit_mask(tmp_path: Path) -> None:
    arr = (soft_mask().astype(np.uint32) * 257).astype(np.uint16)
    arr[0, 0] = 1000  # a value only 16 bits can hold
    path = _save(Image.fromarray(arr), tmp_path / "m16.png")
    assert Image.open(path).mode.startswith("I")
    mask = read_mask(path)
    np.testing.assert_allclose(mask, arr / 65535.0, atol=1e-6)


def test_palette_masks(tmp_path: Path) -> None:
    index = (soft_mask() > 128).astype(np.uint8) * 2  # indices 0 and 2
    grey = Image.fromarray(index, mode="P")
    grey.putpalette([0, 0, 0, 90, 90, 90, 200, 200, 200] + [0] * (253 * 3))
    np.testing.assert_allclose(
        read_mask(_save(grey, tmp_path / "grey.png")), (index == 2) * 200 / 255, atol=1e-6
    )
    colour = Image.fromarray(index, mode="P")
    colour.putpalette([0, 0, 0, 0, 0, 0, 128, 0, 0] + [0] * (253 * 3))  # DAVIS/VOC style: dark red object
    np.testing.assert_array_equal(
        read_mask(_save(colour, tmp_path / "colour.png")), (index != 0).astype(np.float32)
    )


def test_rgb_mask_is_luminance(tmp_path: Path) -> None:
    arr = soft_mask()
    rgb = np.dstack([arr, arr, arr])
    np.testing.assert_allclose(
        read_mask(_save(Image.fromarray(rgb), tmp_path / "rgb.png")), arr / 255.0, atol=1e-5
    )
    red = np.dstack([arr, np.zeros_like(arr), np.zeros_like(arr)])
    np.testing.assert_allclose(
        read_mask(_save(Image.fromarray(red), tmp_path / "red.png")), arr * 0.299 / 255, atol=1e-5
    )


def test_rgba_mask_in_alpha(tmp_path: Path) -> None:
    arr = soft_mask()
    rgba = np.dstack([np.full_like(arr, 255)] * 3 + [arr])  # white everywhere, the mask in alpha
    np.testing.assert_allclose(
        read_mask(_save(Image.fromarray(rgba), tmp_path / "a.png")), arr / 255.0, atol=1e-6
    )
    grey = np.dstack([arr, arr, arr, np.full_like(arr, 255)])  # opaque grey mask: luminance
    np.testing.assert_allclose(
        read_mask(_save(Image.fromarray(grey), tmp_path / "g.png")), arr / 255.0, atol=1e-5
    )
    la = Image.fromarray(np.dstack([np.zeros_like(arr), arr]), mode="LA")
    np.testing.assert_allclose(read_mask(_save(la, tmp_path / "la.png")), arr / 255.0, atol=1e-6)


def test_read_mask_resizes_to_width_height(tmp_path: Path) -> None:
    path = _save(Image.fromarray(soft_mask(32, 24)), tmp_path / "m.png")
    mask = read_mask(path, size=(16, 12))
    assert mask.shape == (12, 16) and mask.dtype == np.float32
    assert mask.min() >= 0.0 and mask.max() <= 1.0


# --- pairs --------------------------------------------------------------------------------------------------


def test_read_pair_contract(tmp_path: Path) -> None:
    image, _ = write_pair(tmp_path, "a", image_ext=".png", size=(40, 30))
    sample = read_pair(find_pairs(tmp_path)[0])
    assert set(sample) == {"image", "mask", "name"} and sample["name"] == "a"
    assert sample["image"].dtype == np.uint8 and sample["image"].shape == (30, 40, 3)
    np.testing.assert_array_equal(sample["image"], np.asarray(Image.open(image)))
    assert sample["mask"].dtype == np.float32 and sample["mask"].shape == (30, 40)


def test_mismatched_mask_is_resized_with_a_warning(tmp_path: Path) -> None:
    write_pair(tmp_path, "a", size=(64, 48))
    Image.fromarray(soft_mask(32, 24)).save(tmp_path / "masks" / "a.png")
    with pytest.warns(DataWarning, match=r"masks/a.png for .*images/a.jpg: mask is 32x24, image is 64x48"):
        sample = read_pair(find_pairs(tmp_path)[0])
    assert sample["mask"].shape == (48, 64)
    assert abs(float(sample["mask"].mean()) - float(soft_mask(64, 48).mean() / 255)) < 0.03


def test_exif_rotated_photo_matches_its_mask(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    img = Image.fromarray(photo(40, 30))
    exif = img.getexif()
    exif[0x0112] = 6  # stored landscape, shown portrait (rotate 90° clockwise)
    img.save(tmp_path / "images" / "a.jpg", exif=exif.tobytes())
    Image.fromarray(soft_mask(30, 40)).save(tmp_path / "masks" / "a.png")  # the mask drawn on the shown photo
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sample = read_pair(find_pairs(tmp_path)[0])
    assert sample["image"].shape == (40, 30, 3) and sample["mask"].shape == (40, 30)


def test_corrupt_and_missing_files_name_the_file(tmp_path: Path) -> None:
    write_pair(tmp_path, "a")
    png = io.BytesIO()
    Image.fromarray(soft_mask()).save(png, format="PNG")
    (tmp_path / "masks" / "a.png").write_bytes(png.getvalue()[: len(png.getvalue()) // 2])
    pair = find_pairs(tmp_path)[0]
    with pytest.raises(DataError, match=r"masks/a.png: corrupt or truncated"):
        read_pair(pair)
    (tmp_path / "images" / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"images/a.jpg: not an image"):
        read_pair(pair)
    write_pair(tmp_path, "b")
    with pytest.raises(DataError, match=r"gone.png: file not found"):
        read_pair(Pair(tmp_path / "images" / "b.jpg", tmp_path / "gone.png"))


def test_real_duts_mini(tmp_path: Path) -> None:
    from _parity import find_shared

    shared = find_shared()
    folder = shared / "data" / "sod" / "duts-tr-mini" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared/data/sod/duts-tr-mini not found")
    pairs = find_pairs(folder)
    assert len(pairs) == 200
    sample = read_pair(pairs[0])
    assert sample["image"].shape[:2] == sample["mask"].shape
    assert sample["mask"].max() == 1.0 and 0 < np.mean((sample["mask"] > 0) & (sample["mask"] < 1)) < 0.2
