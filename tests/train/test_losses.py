"""Tests of the salient-object losses, their spec strings and the deep-supervision sum."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from cutkit.train.losses import (
    LOSSES,
    LossTerm,
    SalientLoss,
    bce_loss,
    focal_loss,
    iou_loss,
    parse_loss,
    ssim_loss,
    structure_loss,
)

NAMES = sorted(LOSSES)


def _target(n: int = 2, size: int = 32, seed: int = 0) -> torch.Tensor:
    """Binary masks: a random rectangle per image, so edges and both classes are present."""
    g = torch.Generator().manual_seed(seed)
    t = torch.zeros(n, 1, size, size)
    for i in range(n):
        y, x = torch.randint(2, size // 2, (2,), generator=g).tolist()
        t[i, :, y : y + size // 3, x : x + size // 3] = 1
    return t


def _confident(target: torch.Tensor, sign: float = 1.0) -> torch.Tensor:
    """Logits of a confident prediction: right for ``sign=1``, inverted for ``sign=-1``."""
    return sign * (2 * target - 1) * 20


@pytest.mark.parametrize("name", NAMES)
def test_perfect_prediction_is_near_zero_and_wrong_one_is_larger(name: str) -> None:
    t = _target()
    perfect = LOSSES[name](_confident(t), t)
    wrong = LOSSES[name](_confident(t, -1), t)
    unsure = LOSSES[name](torch.zeros_like(t), t)
    assert perfect.ndim == 0 and perfect.dtype == torch.float32
    assert perfect.item() < 1e-3, f"{name}: {perfect.item()}"
    assert wrong.item() > unsure.item() > perfect.item() + 0.01


@pytest.mark.parametrize("name", NAMES)
def test_gradients_flow_and_are_finite(name: str) -> None:
    t = _target()
    logits = torch.randn(t.shape, generator=torch.Generator().manual_seed(1), requires_grad=True)
    LOSSES[name](logits, t).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0


@pytest.mark.parametrize("name", NAMES)
def test_coarse_logits_are_upsampled_to_the_target(name: str) -> None:
    t = _target(size=32)
    coarse = torch.randn(2, 1, 8, 8, requires_grad=True)
    loss = LOSSES[name](coarse, t)
    expected = LOSSES[name](F.interpolate(coarse, size=(32, 32), mode="bilinear", align_corners=False), t)
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert coarse.grad is not None and coarse.grad.shape == coarse.shape


@pytest.mark.parametrize("name", NAMES)
def test_autocast_bf16_inputs_give_float32(name: str) -> None:
    t = _target()
    logits = torch.randn(t.shape, generator=torch.Generator().manual_seed(2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = LOSSES[name](logits.bfloat16(), t.bfloat16())
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, LOSSES[name](logits.bfloat16().float(), t), rtol=1e-4, atol=1e-4)


def test_bce_matches_torch_with_soft_targets() -> None:
    g = torch.Generator().manual_seed(3)
    logits, soft = torch.randn(2, 1, 16, 16, generator=g), torch.rand(2, 1, 16, 16, generator=g)
    torch.testing.assert_close(bce_loss(logits, soft), F.binary_cross_entropy_with_logits(logits, soft))


def test_soft_target_is_minimised_at_its_own_logit() -> None:
    soft = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(4)).clamp(0.05, 0.95)
    best = torch.logit(soft)
    for loss in (bce_loss, focal_loss):
        assert loss(best, soft) < loss(best + 0.5, soft)
        assert loss(best, soft) < loss(best - 0.5, soft)


def test_ssim_of_identical_maps_is_zero_and_of_different_maps_is_not() -> None:
    soft = torch.rand(2, 1, 24, 24, generator=torch.Generator().manual_seed(5)).clamp(0.01, 0.99)
    assert ssim_loss(torch.logit(soft), soft).item() == pytest.approx(0.0, abs=1e-5)
    assert ssim_loss(torch.logit(soft.flip(-1)), soft).item() > 0.1


def test_focal_without_gamma_and_alpha_is_bce() -> None:
    g = torch.Generator().manual_seed(6)
    logits, soft = torch.randn(2, 1, 16, 16, generator=g), torch.rand(2, 1, 16, 16, generator=g)
    torch.testing.assert_close(focal_loss(logits, soft, gamma=0.0, alpha=None), bce_loss(logits, soft))
    # the focusing term shrinks the loss of well-classified pixels below plain BCE
    assert focal_loss(logits, soft, alpha=None) < bce_loss(logits, soft)


def test_iou_is_per_image_then_averaged() -> None:
    t = _target(n=2)
    logits = torch.stack([_confident(t[0]), _confident(t[1], -1)])
    per_image = torch.stack([iou_loss(logits[i : i + 1], t[i : i + 1]) for i in range(2)])
    torch.testing.assert_close(iou_loss(logits, t), per_image.mean())


def test_structure_loss_weighs_edges_more() -> None:
    t = _target(n=1, size=64)
    interior = t.clone()
    # the same number of wrong pixels, once on the object's edge and once far from any edge
    edge_err, far_err = _confident(t), _confident(t)
    ys, xs = torch.nonzero(t[0, 0], as_tuple=True)
    edge_err[0, 0, ys.min(), xs.min() : xs.min() + 4] *= -1
    far_err[0, 0, 63, 60:64] *= -1
    assert structure_loss(edge_err, interior) > structure_loss(far_err, interior)


def test_shape_errors_are_clear() -> None:
    with pytest.raises(ValueError, match=r"logits \(N, C, h, w\)"):
        bce_loss(torch.zeros(2, 16, 16), torch.zeros(2, 1, 16, 16))
    with pytest.raises(ValueError, match="same N and C"):
        bce_loss(torch.zeros(1, 1, 16, 16), torch.zeros(2, 1, 16, 16))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("bce", (("bce", 1.0),)),
        ("bce+iou", (("bce", 1.0), ("iou", 1.0))),
        ("bce:1,iou:0.5,ssim:1", (("bce", 1.0), ("iou", 0.5), ("ssim", 1.0))),
        (" bce * 2 + structure:0.25 ", (("bce", 2.0), ("structure", 0.25))),
        ("BCE,Dice:1e-1", (("bce", 1.0), ("dice", 0.1))),
    ],
)
def test_parse_loss(spec: str, expected: tuple[tuple[str, float], ...]) -> None:
    assert parse_loss(spec) == tuple(LossTerm(name=n, weight=w) for n, w in expected)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bce+iuo", r"unknown loss 'iuo' \(did you mean 'iou'\?\)"),
        ("focall", r"did you mean 'focal'"),
        ("bce:0", "must be a finite number > 0"),
        ("bce:-1", "must be a finite number > 0"),
        ("bce:inf", "must be a finite number > 0"),
        ("bce:x", "weight 'x' of 'bce' is not a number"),
        ("bce++iou", "cannot parse term ''"),
        ("bce iou", "cannot parse term 'bce iou'"),
        ("", "empty loss spec"),
        ("bce,iou,bce:2", "bce given more than once"),
    ],
)
def test_parse_loss_errors(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_loss(spec)


def test_loss_term_validates_itself() -> None:
    with pytest.raises(ValueError, match="did you mean 'ssim'"):
        LossTerm(name="sim", weight=1.0)
    with pytest.raises(ValueError, match="> 0"):
        LossTerm(name="bce", weight=-0.5)


def test_salient_loss_sums_terms_over_main_and_side_outputs() -> None:
    t = _target(size=32)
    g = torch.Generator().manual_seed(7)
    main = torch.randn(2, 1, 32, 32, generator=g, requires_grad=True)
    side1, side2 = torch.randn(2, 1, 16, 16, generator=g), torch.randn(2, 1, 8, 8, generator=g)
    crit = SalientLoss(terms="bce:2,iou:0.5", side_weights=(0.5, 0.25))
    out = crit([main, side1, side2], t)
    for name in ("bce", "iou"):
        want = LOSSES[name](main, t) + 0.5 * LOSSES[name](side1, t) + 0.25 * LOSSES[name](side2, t)
        torch.testing.assert_close(out[name], want.detach())
        assert not out[name].requires_grad
    torch.testing.assert_close(out["loss"], 2 * out["bce"] + 0.5 * out["iou"])
    assert set(out) == {"loss", "bce", "iou"} and out["loss"].requires_grad
    out["loss"].backward()
    assert main.grad is not None and torch.isfinite(main.grad).all()


def test_salient_loss_single_map_and_scalar_side_weight() -> None:
    t = _target()
    logits = torch.randn(t.shape, generator=torch.Generator().manual_seed(8))
    crit = SalientLoss(terms=(LossTerm(name="bce", weight=1.0),))
    torch.testing.assert_close(crit(logits, t)["loss"], bce_loss(logits, t))
    torch.testing.assert_close(crit((logits,), t)["loss"], bce_loss(logits, t))
    sides = SalientLoss(terms="bce", side_weights=0.3)([logits, logits], t)
    torch.testing.assert_close(sides["loss"], 1.3 * bce_loss(logits, t))


def test_salient_loss_under_autocast_returns_float32() -> None:
    t = _target()
    logits = torch.randn(t.shape, generator=torch.Generator().manual_seed(9), requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = SalientLoss(terms="bce+iou+ssim+structure+focal+dice")(
            [logits.bfloat16(), logits[..., ::2, ::2]], t
        )
    assert all(v.dtype == torch.float32 for v in out.values())
    out["loss"].backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


def test_salient_loss_errors() -> None:
    t = _target()
    with pytest.raises(ValueError, match="2 entries but the network returned 1 side outputs"):
        SalientLoss(terms="bce", side_weights=(1.0, 1.0))([t, t], t)
    with pytest.raises(ValueError, match="side_weights must be finite and >= 0"):
        SalientLoss(terms="bce", side_weights=-1.0)
    with pytest.raises(ValueError, match="distinct loss terms"):
        SalientLoss(terms=())
    with pytest.raises(ValueError, match="no output maps"):
        SalientLoss(terms="bce")([], t)
