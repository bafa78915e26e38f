"""The trainer's parts: data order, schedule, EMA, checkpoints, pretrained loading, generated flags."""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pytest
import torch
from torch import nn

from cutkit._util import config_cli
from cutkit.train.checkpoint import load_pretrained, rng_state, save_checkpoint, set_rng_state
from cutkit.train.config import TrainConfig
from cutkit.train.ema import ModelEMA
from cutkit.train.optim import build_optimizer, build_scheduler
from cutkit.train.sampler import EpochSampler
from cutkit.zoo.checkpoint import CheckpointError


def test_sampler_depends_only_on_seed_and_epoch_and_splits_ranks() -> None:
    a, b = EpochSampler(10, seed=1), EpochSampler(10, seed=1)
    a.set_epoch(3)
    b.set_epoch(3)
    assert list(a) == list(b) and sorted(a) == list(range(10))
    b.set_epoch(4)
    assert list(a) != list(b)
    ranks = [EpochSampler(10, seed=1, rank=r, world=2) for r in (0, 1)]
    assert sorted(list(ranks[0]) + list(ranks[1])) == list(range(10))


def test_weighted_sampler_follows_weights() -> None:
    weights = [1.0] * 50 + [9.0] * 50  # the second half should be drawn ~90% of the time
    s = EpochSampler(100, weights=weights, num_samples=5000, seed=0)
    drawn = list(s)
    assert len(drawn) == 5000
    assert 0.86 < sum(i >= 50 for i in drawn) / 5000 < 0.94


def test_schedule_warms_up_then_decays_and_freezes_the_encoder() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 1, 1))
    cfg = TrainConfig(epochs=4, lr=1.0, warmup_epochs=1, min_lr=0.1)
    opt = build_optimizer(net, cfg, encoder=net[0])
    sched = build_scheduler(opt, cfg, steps_per_epoch=10, freeze_steps=10)
    tags = [g["tag"] for g in opt.param_groups]
    assert set(tags) == {"encoder", "rest"}
    assert [g["weight_decay"] for g in opt.param_groups if g["tag"] == "rest"].count(0.0) == 1  # biases/BN
    lrs = []
    for _ in range(40):
        lrs.append({t: g["lr"] for t, g in zip(tags, opt.param_groups, strict=True)})
        opt.step()
        sched.step()
    assert lrs[0]["rest"] == pytest.approx(0.1) and lrs[9]["rest"] == pytest.approx(1.0)
    assert lrs[5]["encoder"] == 0.0 and lrs[10]["encoder"] == pytest.approx(lrs[10]["rest"])
    assert lrs[39]["rest"] == pytest.approx(0.1, abs=0.01)
    assert all(a["rest"] >= b["rest"] for a, b in itertools.pairwise(lrs[10:]))


def test_ema_warms_up_and_averages() -> None:
    net = nn.Linear(2, 1)
    ema = ModelEMA(net, decay=0.5, tau=1e-9)  # no warm-up: plain decay 0.5
    with torch.no_grad():
        net.weight.fill_(1.0)
    ema.update(net)
    start = ema.module.weight.clone()
    with torch.no_grad():
        net.weight.fill_(3.0)
    ema.update(net)
    assert torch.allclose(ema.module.weight, 0.5 * start + 1.5)
    slow = ModelEMA(net, decay=0.999, tau=2000)
    with torch.no_grad():
        net.weight.fill_(7.0)
    slow.update(net)  # the first update nearly copies: short runs are not stuck at the initialisation
    assert torch.allclose(slow.module.weight, torch.full_like(net.weight, 7.0), atol=0.01)


def test_rng_state_round_trip(tmp_path: Path) -> None:
    import random

    import numpy as np

    state = rng_state()
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    path = save_checkpoint(tmp_path / "c.pt", {"rng": state, "model": {}, "epoch": 0})
    set_rng_state(torch.load(path, weights_only=True)["rng"])
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    assert not list(tmp_path.glob(".*tmp"))  # nothing half-written left behind


class _Classifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        self.fc = nn.Linear(8, 10)


class _Segmenter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        self.head = nn.Conv2d(8, 1, 1)


def test_pretrained_maps_a_backbone_prefix_and_reports() -> None:
    source = _Classifier()
    net = _Segmenter()
    report = load_pretrained(net, source.state_dict(), "clf.pt")
    assert report.renamed == {"backbone": "encoder"}
    assert len(report.matched) == len(source.backbone.state_dict())
    assert set(report.missing) == {"head.weight", "head.bias"}
    assert set(report.unexpected) == {"fc.weight", "fc.bias"}
    assert torch.equal(net.encoder[0].weight, source.backbone[0].weight)
    assert "7/9 tensors loaded" in report.format()


def test_pretrained_with_nothing_in_common_is_an_error() -> None:
    with pytest.raises(CheckpointError, match="no tensor fits"):
        load_pretrained(_Segmenter(), {"x.weight": torch.zeros(3)}, "other.pt")


def test_generated_flags_keep_explicit_values_apart() -> None:
    parser = argparse.ArgumentParser()
    config_cli.add_fields(parser, TrainConfig)
    ns = parser.parse_args(["--epochs", "3", "--no-ema", "--workers", "none"])
    given = config_cli.explicit(ns, TrainConfig)
    assert given == {"epochs": 3, "ema": False, "workers": None}
    cfg = config_cli.build(TrainConfig, given)
    assert cfg.epochs == 3 and cfg.lr == TrainConfig().lr
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        config_cli.build(TrainConfig, {"epoch": 3})
    with pytest.raises(ValueError, match="--batch"):
        TrainConfig(batch=0)


def test_key_value_fields() -> None:
    assert config_cli.parse_scalar("0.5") == 0.5 and config_cli.parse_scalar("3") == 3
    assert config_cli.parse_scalar("true") is True and config_cli.parse_scalar("1,2") == (1, 2)
    assert config_cli.parse_scalar("mobilenetv2") == "mobilenetv2"
