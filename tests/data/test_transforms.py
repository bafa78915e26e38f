"""Joint image/mask augmentation: alignment, determinism, per-op behaviour, config validation."""

from __future__ import annotations

import dataclasses
import random

import cv2
import numpy as np
import pytest

from cutkit.data.transforms import (
    AugmentConfig,
    BackgroundSwap,
    ColorJitter,
    Compose,
    GaussianBlur,
    GaussianNoise,
    Grayscale,
    JpegArtifacts,
    RandomAffine,
    RandomHFlip,
    RandomResizedCrop,
    Resize,
    SaltPepper,
    Sample,
    build_eval_transform,
    build_train_transform,
)

SEEDS = range(20)
SHAPE_RGB = np.array([230, 20, 210], np.float32)  # unsaturated, so colour jitter visibly moves it
# The background keeps G >= 120 and R, B <= 170: at least 100 away from SHAPE_RGB.
MIN_IOU = 0.99  # clean transforms score > 0.999 here; a 3-px shift of the mask scores about 0.98

# Geometry only, and strong, so that misalignment of any op would show.
GEOMETRY_ONLY = AugmentConfig(
    crop_scale=(0.3, 1.0),
    hflip=0.5,
    rotate=40.0,
    rotate_p=0.8,
    scale=(0.7, 1.3),
    translate=0.15,
    affine_p=0.8,
    jitter_p=0.0,
    grayscale=0.0,
    blur=0.0,
    noise=0.0,
    salt_pepper=0.0,
    jpeg=0.0,
)
EVERYTHING_ON = dataclasses.replace(
    GEOMETRY_ONLY, jitter_p=1.0, grayscale=0.5, blur=0.5, noise=0.5, salt_pepper=0.5, jpeg=0.5
)


def synthetic(seed: int, hw: tuple[int, int] = (300, 400)) -> Sample:
    """A smooth random background with a circle, a rectangle and an off-centre quadrilateral in SHAPE_RGB.

    The mask is exactly the shapes, and nothing is left-right or up-down symmetric.
    """
    rng = np.random.default_rng(1000 + seed)
    h, w = hw
    smooth = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (w, h)).astype(np.float32) / 255
    background = smooth * np.array([170, 135, 170], np.float32) + np.array([0, 120, 0], np.float32)
    mask = np.zeros(hw, np.uint8)
    cv2.circle(mask, (int(0.22 * w), int(0.35 * h)), int(0.17 * h), 1, -1)
    cv2.rectangle(mask, (int(0.58 * w), int(0.08 * h)), (int(0.86 * w), int(0.38 * h)), 1, -1)
    quad = np.array([[0.42, 0.60], [0.92, 0.72], [0.75, 0.96], [0.48, 0.88]]) * (w, h)
    cv2.fillPoly(mask, [quad.astype(np.int32)], 1)
    image = np.where(mask[..., None] > 0, SHAPE_RGB, background).round().astype(np.uint8)
    return {"image": image, "mask": mask.astype(np.float32), "name": f"synthetic-{seed}"}


def _iou_off_band(a: np.ndarray, fg: np.ndarray) -> float:
    """IoU of the pixel sets ``a`` and ``fg``, ignoring a 2-px band around ``fg``'s boundary."""
    fg_u8 = fg.astype(np.uint8)
    kernel = np.ones((5, 5), np.uint8)
    keep = cv2.dilate(fg_u8, kernel) == cv2.erode(fg_u8, kernel)
    a, b = a & keep, fg & keep
    union = int((a | b).sum())
    assert union > 500, "too little foreground in view for a meaningful check"
    return int((a & b).sum()) / union


def alignment_iou(sample: Sample, colour: np.ndarray = SHAPE_RGB, tolerance: float = 50.0) -> float:
    """How well ``mask > 0.5`` matches the pixels whose colour is within ``tolerance`` of ``colour``."""
    near = np.linalg.norm(sample["image"].astype(np.float32) - colour, axis=2) < tolerance
    return _iou_off_band(near, sample["mask"] > 0.5)


def _ious(transform, seeds=SEEDS) -> list[float]:
    return [alignment_iou(transform(synthetic(s), np.random.default_rng(s))) for s in seeds]


# --- alignment ---------------------------------------------------------------------------------------

GEOMETRIC_OPS = {
    "crop": RandomResizedCrop(size=(256, 256), scale=(0.3, 1.0), p=1.0),
    "crop-wide": RandomResizedCrop(size=(180, 320), scale=(0.3, 1.0), p=1.0),
    "crop-upscale": RandomResizedCrop(size=(480, 480), scale=(0.3, 1.0), p=1.0),
    "hflip": RandomHFlip(p=1.0),
    "rotate": RandomAffine(rotate=45.0, rotate_p=1.0, affine_p=0.0),
    "scale-shift": RandomAffine(rotate_p=0.0, scale=(0.6, 1.4), translate=0.2, affine_p=1.0),
    "affine": RandomAffine(rotate=45.0, rotate_p=1.0, scale=(0.6, 1.4), translate=0.2, affine_p=1.0),
    "resize-down": Resize(size=(150, 170)),
    "resize-up": Resize(size=(420, 500)),
}


def test_synthetic_sample_is_aligned_before_any_transform() -> None:
    assert min(alignment_iou(synthetic(s)) for s in SEEDS) > 0.999


@pytest.mark.parametrize("name", GEOMETRIC_OPS)
def test_each_geometric_op_moves_mask_with_image(name: str) -> None:
    ious = _ious(Compose(ops=(GEOMETRIC_OPS[name],)))
    assert min(ious) >= MIN_IOU, ious


def test_train_pipeline_keeps_alignment() -> None:
    ious = _ious(build_train_transform(GEOMETRY_ONLY, 288))
    assert min(ious) >= MIN_IOU, ious


def test_misaligned_transform_fails_the_alignment_check() -> None:
    """The check has teeth: flipping the image but not the mask is caught on every seed."""

    class FlipImageOnly:
        def __call__(self, sample, rng, background=None):
            return {**sample, "image": cv2.flip(sample["image"], 1)}

    pipeline = build_train_transform(GEOMETRY_ONLY, 288)
    misaligned = Compose(ops=(*pipeline.ops, FlipImageOnly()))
    ious = _ious(misaligned)
    assert max(ious) < MIN_IOU, ious
    assert float(np.median(ious)) < 0.6, ious


def test_photometric_ops_do_not_change_the_geometry() -> None:
    """Geometry draws first, so with every photometric op on the mask is the geometry-only one."""
    with_photo, geometry = (
        build_train_transform(EVERYTHING_ON, 288),
        build_train_transform(GEOMETRY_ONLY, 288),
    )
    images_differ = 0
    for s in SEEDS:
        a, b = (
            with_photo(synthetic(s), np.random.default_rng(s)),
            geometry(synthetic(s), np.random.default_rng(s)),
        )
        np.testing.assert_array_equal(a["mask"], b["mask"])
        images_differ += not np.array_equal(a["image"], b["image"])
    assert images_differ == len(SEEDS)


def test_colour_jitter_keeps_shapes_on_the_mask() -> None:
    """A per-pixel colour map sends every shape pixel to one new colour: find it under the mask core."""
    pipeline = build_train_transform(dataclasses.replace(GEOMETRY_ONLY, jitter_p=1.0), 288)
    for s in SEEDS:
        out = pipeline(synthetic(s), np.random.default_rng(s))
        core = cv2.erode((out["mask"] > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        colour = np.median(out["image"][core].astype(np.float32), axis=0)
        assert np.linalg.norm(colour - SHAPE_RGB) > 1.0  # the jitter did change the shape colour
        assert alignment_iou(out, colour, tolerance=40.0) >= MIN_IOU


# --- outputs, determinism, purity -------------------------------------------------------------------


def test_train_output_types_and_size() -> None:
    cfg = dataclasses.replace(EVERYTHING_ON, background_swap=0.5)
    pipeline = build_train_transform(cfg, (200, 256))
    for s in range(5):
        out = pipeline(synthetic(s), np.random.default_rng(s), lambda rng: synthetic(99)["image"])
        assert out["image"].dtype == np.uint8 and out["image"].shape == (200, 256, 3)
        assert out["mask"].dtype == np.float32 and out["mask"].shape == (200, 256)
        assert out["mask"].min() >= 0.0 and out["mask"].max() <= 1.0
        assert out["name"] == f"synthetic-{s}"


def _run_default(seed: int) -> Sample:
    cfg = dataclasses.replace(EVERYTHING_ON, background_swap=0.5)
    background = lambda rng: synthetic(int(rng.integers(100, 200)))["image"]  # noqa: E731
    return build_train_transform(cfg, 192)(synthetic(0), np.random.default_rng(seed), background)


def test_same_seed_same_result_different_seed_different_result() -> None:
    a, b, c = _run_default(7), _run_default(7), _run_default(8)
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["mask"], b["mask"])
    assert not np.array_equal(a["image"], c["image"])
    assert not np.array_equal(a["mask"], c["mask"])


def test_global_random_state_is_neither_used_nor_touched() -> None:
    np.random.seed(1)
    random.seed(1)
    np_state, py_state = np.random.get_state(), random.getstate()
    a = _run_default(3)
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(np_state, after, strict=True))
    assert random.getstate() == py_state
    np.random.seed(2)
    random.seed(2)
    np.testing.assert_array_equal(a["image"], _run_default(3)["image"])


def test_input_arrays_are_never_written() -> None:
    cfg = dataclasses.replace(EVERYTHING_ON, crop_p=0.0, hflip=1.0, background_swap=1.0)
    sample = synthetic(0)
    sample["image"].flags.writeable = False  # any in-place write would raise
    sample["mask"].flags.writeable = False
    image, mask = sample["image"].copy(), sample["mask"].copy()
    out = build_train_transform(cfg, (300, 400))(sample, np.random.default_rng(0), lambda rng: image)
    assert out is not sample
    np.testing.assert_array_equal(sample["image"], image)
    np.testing.assert_array_equal(sample["mask"], mask)


# --- photometric ops ----------------------------------------------------------------------------------

PHOTOMETRIC_OPS = {
    "jitter": ColorJitter(p=1.0),
    "hue-only": ColorJitter(brightness=0.0, contrast=0.0, saturation=0.0, hue=0.1, p=1.0),
    "grayscale": Grayscale(p=1.0),
    "blur": GaussianBlur(p=1.0),
    "noise": GaussianNoise(p=1.0),
    "salt-pepper": SaltPepper(p=1.0),
    "jpeg": JpegArtifacts(p=1.0),
}


def _textured(seed: int) -> Sample:
    sample = synthetic(seed, (96, 128))
    noise = np.random.default_rng(seed).integers(-20, 21, sample["image"].shape)
    sample["image"] = np.clip(sample["image"] + noise, 0, 255).astype(np.uint8)
    sample["mask"] = cv2.GaussianBlur(sample["mask"], (0, 0), 2.0)  # soft, as real masks are
    return sample


@pytest.mark.parametrize("name", PHOTOMETRIC_OPS)
def test_photometric_op_changes_image_only(name: str) -> None:
    op = PHOTOMETRIC_OPS[name]
    for s in range(5):
        sample = _textured(s)
        out = op(sample, np.random.default_rng(s))
        assert out["mask"] is sample["mask"] or np.array_equal(out["mask"], sample["mask"])
        assert out["image"].dtype == np.uint8 and out["image"].shape == sample["image"].shape
        assert not np.array_equal(out["image"], sample["image"])


@pytest.mark.parametrize("name", PHOTOMETRIC_OPS)
def test_photometric_op_with_probability_zero_is_identity(name: str) -> None:
    op = dataclasses.replace(PHOTOMETRIC_OPS[name], p=0.0)
    sample = _textured(0)
    out = op(sample, np.random.default_rng(0))
    np.testing.assert_array_equal(out["image"], sample["image"])


def test_colour_jitter_identity_factors_keep_the_image() -> None:
    op = ColorJitter(brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0, p=1.0)
    sample = _textured(0)
    np.testing.assert_array_equal(op(sample, np.random.default_rng(0))["image"], sample["image"])


def test_grayscale_channels_are_equal() -> None:
    out = Grayscale(p=1.0)(_textured(0), np.random.default_rng(0))["image"]
    assert np.array_equal(out[..., 0], out[..., 1]) and np.array_equal(out[..., 1], out[..., 2])


# --- background swap ------------------------------------------------------------------------------


def test_background_swap_with_full_mask_keeps_the_image() -> None:
    sample = {**_textured(0), "mask": np.ones((96, 128), np.float32)}
    out = BackgroundSwap(p=1.0)(sample, np.random.default_rng(0), lambda rng: _textured(5)["image"])
    np.testing.assert_array_equal(out["image"], sample["image"])


def test_background_swap_with_empty_mask_gives_the_background() -> None:
    sample = {**_textured(0), "mask": np.zeros((96, 128), np.float32)}
    plain = np.full((50, 70, 3), (12, 200, 34), np.uint8)  # any crop and resize of it is the same colour
    out = BackgroundSwap(p=1.0)(sample, np.random.default_rng(0), lambda rng: plain)
    np.testing.assert_array_equal(out["image"], np.broadcast_to(plain[0, 0], out["image"].shape))
    # A textured background of the same size, cropped whole (scale 1, ratio 1), comes back pixel for pixel.
    texture = _textured(7)["image"]
    whole = BackgroundSwap(p=1.0, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    np.testing.assert_array_equal(
        whole(sample, np.random.default_rng(0), lambda rng: texture)["image"], texture
    )
    np.testing.assert_array_equal(out["mask"], sample["mask"])


def test_background_swap_blends_by_the_soft_mask() -> None:
    fg = np.full((40, 60, 3), 200, np.uint8)
    sample = {"image": fg, "mask": np.full((40, 60), 0.25, np.float32), "name": "soft"}
    out = BackgroundSwap(p=1.0)(
        sample, np.random.default_rng(0), lambda rng: np.full((30, 30, 3), 40, np.uint8)
    )
    assert np.abs(out["image"].astype(int) - 80).max() <= 1  # 200 * 0.25 + 40 * 0.75


def test_background_swap_without_a_source_is_an_error() -> None:
    with pytest.raises(ValueError, match="background"):
        BackgroundSwap(p=1.0)(_textured(0), np.random.default_rng(0))
    with pytest.raises(ValueError, match="uint8 RGB"):
        BackgroundSwap(p=1.0)(_textured(0), np.random.default_rng(0), lambda rng: np.zeros((8, 8), np.uint8))


# --- builders, config, sample checks ------------------------------------------------------------------


def test_no_augmentation_is_the_eval_resize() -> None:
    sample = synthetic(0)
    assert build_train_transform(AugmentConfig.none(), 160).ops == (
        RandomResizedCrop(size=(160, 160), p=0.0),
    )
    a = build_train_transform(AugmentConfig.none(), 160)(sample, np.random.default_rng(0))
    b = build_eval_transform(160)(sample, np.random.default_rng(1))
    np.testing.assert_array_equal(a["image"], b["image"])
    np.testing.assert_array_equal(a["mask"], b["mask"])


def test_builders_leave_out_ops_that_are_off() -> None:
    names = [type(op).__name__ for op in build_train_transform(AugmentConfig(), 64).ops]
    assert names == [
        "RandomResizedCrop",
        "RandomHFlip",
        "RandomAffine",
        "ColorJitter",
        "Grayscale",
        "GaussianBlur",
        "GaussianNoise",
        "SaltPepper",
        "JpegArtifacts",
    ]
    swap = build_train_transform(AugmentConfig(background_swap=0.3), 64).ops
    assert [type(op).__name__ for op in swap].index("BackgroundSwap") == 3  # after geometry, before colour


def test_eval_transform_size() -> None:
    out = build_eval_transform((100, 140))(synthetic(0), np.random.default_rng(0))
    assert out["image"].shape == (100, 140, 3) and out["mask"].shape == (100, 140)
    for bad in (0, (10,), (10, -1), 12.5):
        with pytest.raises(ValueError, match="size"):
            build_eval_transform(bad)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"hflip": 1.5}, "hflip"),
        ({"background_swap": -0.1}, "background_swap"),
        ({"crop_scale": (0.9, 0.5)}, "crop_scale"),
        ({"crop_scale": (0.0, 1.0)}, "crop_scale"),
        ({"crop_ratio": (1.0,)}, "crop_ratio"),
        ({"rotate": -5}, "rotate"),
        ({"hue": 0.7}, "hue"),
        ({"jpeg_quality": (30.5, 90)}, "jpeg_quality"),
        ({"jpeg_quality": (30, 101)}, "jpeg_quality"),
        ({"noise": "0.1"}, "noise"),
        ({"blur": True}, "blur"),
    ],
)
def test_config_validation_names_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"AugmentConfig\.{field}\b"):
        AugmentConfig.from_dict(overrides)


def test_config_from_dict_and_back() -> None:
    cfg = AugmentConfig.from_dict({"hflip": 0.0, "crop_scale": [0.4, 0.9]})
    assert cfg.hflip == 0.0 and cfg.crop_scale == (0.4, 0.9) and cfg.rotate == AugmentConfig().rotate
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg
    assert hash(cfg) == hash(AugmentConfig.from_dict(cfg.to_dict()))  # lists became tuples
    assert all(
        getattr(AugmentConfig.none(), f) == 0.0 for f in ("hflip", "crop_p", "jpeg", "background_swap")
    )


def test_config_from_dict_suggests_the_closest_key() -> None:
    with pytest.raises(ValueError, match=r"unknown augmentation option 'hflp' \(did you mean 'hflip'\?\)"):
        AugmentConfig.from_dict({"hflp": 0.0})
    with pytest.raises(ValueError, match=r"'jpeg_qualty'.*'jpeg_quality'"):
        AugmentConfig.from_dict({"jpeg_qualty": (50, 60)})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mask": np.zeros((300, 400), np.uint8)}, "mask must be a float32"),
        ({"mask": np.zeros((30, 40), np.float32)}, "mask must be a float32 array of shape"),
        ({"mask": np.full((300, 400), 255.0, np.float32)}, r"mask values must lie in \[0, 1\]"),
        ({"image": np.zeros((300, 400), np.uint8)}, "image must be an HxWx3 uint8"),
        ({"image": np.zeros((300, 400, 3), np.float32)}, "image must be an HxWx3 uint8"),
    ],
)
def test_bad_samples_are_rejected_by_name(change: dict, message: str) -> None:
    sample = {**synthetic(0), **change}
    with pytest.raises(ValueError, match=rf"sample 'synthetic-0': {message}"):
        build_eval_transform(64)(sample, np.random.default_rng(0))
