"""Tiny end-to-end runs of ``cutkit train salient``: loss goes down, eval, remove, resume, DDP, fine-tune."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cutkit
from cutkit.cli.main import main
from cutkit.train import hooks as hooks_module
from cutkit.train.checkpoint import load_checkpoint

# Small enough for CI on 2 cores: 64 px images, 16 samples per epoch.
TINY = ["--imgsz", "64", "--batch", "4", "--epoch-size", "16", "--workers", "0", "--no-progress"]


def _rows(run: Path) -> list[dict[str, float]]:
    with (run / "metrics.csv").open() as fh:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(fh)]


def _train(tmp_path: Path, data: Path, name: str, *extra: str) -> Path:
    argv = ["train", "salient", "--data", str(data), "--project", str(tmp_path), "--name", name, *extra]
    assert main(argv) == 0
    return tmp_path / "salient" / name


@pytest.mark.xdist_group("train-e2e")
def test_two_epochs_loss_goes_down_then_eval_and_remove(
    tmp_path: Path, duts_tr_mini: Path, duts_te_mini: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _train(
        tmp_path, duts_tr_mini, "e2e", "--model", "cutnet", "--epochs", "2", "--imgsz", "128", "--batch", "8",
        "--workers", "1", "--no-progress", "--lr", "2e-3", "--warmup-epochs", "0.5",
    )  # fmt: skip
    rows = _rows(run)
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["train/loss"] < rows[0]["train/loss"]
    for key in ("val/mae", "val/max_f", "val/s_measure", "val/loss", "lr", "train/bce", "train/iou"):
        assert key in rows[0], key
    for rel in ("config.json", "results.png", "val_predictions.png", "weights/best.pt", "weights/last.pt",
                "model.safetensors", "model.json"):  # fmt: skip
        assert (run / rel).is_file(), rel
    assert any((run / "tensorboard").iterdir())
    config = json.loads((run / "config.json").read_text())
    assert config["user"]["epochs"] == 2 and config["resolved"]["train"]["batch"] == 8
    assert config["data"]["seed"] == 0 and config["data"]["sources"][0]["val_names"]  # the split is recorded
    capsys.readouterr()

    assert (
        main(["eval", "--model", str(run), "--data", str(duts_te_mini), "--json", "-o", str(tmp_path / "ev")])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert 0 <= summary["mae"] <= 1 and 0 <= summary["max_f"] <= 1

    photo = next((duts_te_mini / "images").iterdir())
    out = tmp_path / "cut.png"
    assert main(["remove", str(photo), "-o", str(out), "--model", str(run / "model.safetensors")]) == 0
    cut = np.asarray(Image.open(out))
    assert cut.shape[2] == 4 and cut.shape[:2] == np.asarray(Image.open(photo)).shape[:2]
    assert cut[..., 3].std() > 1  # a map, not a constant (two tiny epochs make no good model yet)
    # The run folder and the weights file load the same model.
    mask = cutkit.remove(Image.open(photo), model=str(run), only_mask=True)
    assert np.array_equal(np.asarray(mask), cut[..., 3])


class _StopAfterFirstEpoch(hooks_module.Hook):
    def after_epoch(self, trainer, row) -> None:
        trainer.state.stop = True


def test_resume_is_exact(
    tmp_path: Path, duts_tr_mini: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    straight = _train(tmp_path, duts_tr_mini, "straight", "--epochs", "2", *TINY)

    original = hooks_module.default_hooks
    monkeypatch.setattr(
        hooks_module, "default_hooks", lambda cfg, log: [*original(cfg, log), _StopAfterFirstEpoch()]
    )
    _train(tmp_path, duts_tr_mini, "split", "--epochs", "2", *TINY)
    monkeypatch.setattr(hooks_module, "default_hooks", original)
    assert len(_rows(tmp_path / "salient" / "split")) == 1
    capsys.readouterr()
    assert main(["train", "salient", "--resume", str(tmp_path / "salient" / "split")]) == 0
    assert f"resuming {tmp_path / 'salient' / 'split'} after epoch 1 of 2" in capsys.readouterr().err

    a, b = _rows(straight), _rows(tmp_path / "salient" / "split")
    assert len(b) == 2
    for ra, rb in zip(a, b, strict=True):
        for key in ("train/loss", "train/bce", "train/iou", "val/loss", "val/mae", "lr"):
            assert ra[key] == rb[key], (key, ra[key], rb[key])
    wa = load_checkpoint(straight / "weights" / "last.pt")["model"]
    wb = load_checkpoint(tmp_path / "salient" / "split" / "weights" / "last.pt")["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_refuses_changed_settings(tmp_path: Path, duts_tr_mini: Path, capsys) -> None:
    run = _train(tmp_path, duts_tr_mini, "r", "--epochs", "1", *TINY)
    assert main(["train", "salient", "--resume", str(run), "--lr", "0.5"]) == 2
    assert "--lr" in capsys.readouterr().err


def test_pretrained_and_frozen_encoder(tmp_path: Path, duts_tr_mini: Path, capsys) -> None:
    first = _train(tmp_path, duts_tr_mini, "first", "--epochs", "1", *TINY)
    capsys.readouterr()
    second = _train(
        tmp_path, duts_tr_mini, "second", "--epochs", "1", "--pretrained", str(first),
        "--freeze-encoder", "1",
        "--no-ema", *TINY,
    )  # fmt: skip
    out = capsys.readouterr().out
    before = load_checkpoint(first / "weights" / "last.pt")["ema"]["module"]
    n = len(before)
    assert f"{n}/{n} tensors loaded" in out
    after = load_checkpoint(second / "weights" / "last.pt")["model"]
    encoder = [k for k in before if k.startswith("encoder.")]
    decoder = [k for k in before if k.startswith("decoder.") and before[k].is_floating_point()]
    assert encoder and all(torch.equal(before[k], after[k]) for k in encoder)  # weights and BN stats
    assert any(not torch.equal(before[k], after[k]) for k in decoder)
    report = json.loads((second / "config.json").read_text())["pretrained"]
    assert report["matched"] == n and report["missing"] == []


def test_pretrained_from_a_training_checkpoint_takes_its_ema(
    tmp_path: Path, duts_tr_mini: Path, capsys
) -> None:
    first = _train(tmp_path, duts_tr_mini, "a", "--epochs", "1", *TINY)
    capsys.readouterr()
    _train(
        tmp_path,
        duts_tr_mini,
        "b",
        "--epochs",
        "1",
        "--pretrained",
        str(first / "weights" / "best.pt"),
        *TINY,
    )
    assert "tensors loaded" in capsys.readouterr().out
    config = json.loads((tmp_path / "salient" / "b" / "config.json").read_text())
    assert config["pretrained"]["missing"] == [] and config["pretrained"]["source"].endswith("best.pt")


def test_options_that_cannot_work_are_refused(tmp_path: Path, duts_tr_mini: Path, capsys) -> None:
    base = ["train", "salient", "--data", str(duts_tr_mini), "--project", str(tmp_path), *TINY]
    assert main([*base, "--model", "u2netp", "--freeze-encoder", "1"]) == 2
    assert "no separate encoder" in capsys.readouterr().err
    assert main([*base, "--accumulate", "8"]) == 2  # 16 samples, batch 4: 4 batches, fewer than 8
    assert "--accumulate" in capsys.readouterr().err
    assert main([*base, "--val-fraction", "0", "--patience", "2"]) == 2
    assert "--patience needs validation" in capsys.readouterr().err
    assert main([*base, "--loss", "bce+iuo"]) == 2
    assert "did you mean 'iou'" in capsys.readouterr().err
    assert not (tmp_path / "salient").exists()  # nothing half-made


def test_pretrained_official_layout_u2netp(tmp_path: Path, duts_tr_mini: Path, capsys) -> None:
    from _parity import parity_dir, read_json, recipe_state_dict

    folder = parity_dir("u2netp")
    if folder is None:
        pytest.skip("u2netp parity fixtures absent")
    official = tmp_path / "u2netp.pth"
    torch.save(recipe_state_dict(read_json(folder / "keys.json")["state_dict"]), official)
    _train(tmp_path, duts_tr_mini, "u2", "--model", "u2netp", "--epochs", "1", "--pretrained", str(official),
           "--imgsz", "64", "--batch", "2", "--epoch-size", "4", "--workers", "0",
           "--no-progress")  # fmt: skip
    out = capsys.readouterr().out
    assert "pretrained" in out and "missing" not in out


def test_non_finite_loss_stops_with_a_message(
    tmp_path: Path, duts_tr_mini: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from cutkit.train.salient import SalientTask

    real = SalientTask.training_step

    def poisoned(self, net, batch, device):
        losses = real(self, net, batch, device)
        return losses | {"loss": losses["loss"] * float("nan")}

    monkeypatch.setattr(SalientTask, "training_step", poisoned)
    argv = [
        "train",
        "salient",
        "--data",
        str(duts_tr_mini),
        "--project",
        str(tmp_path),
        "--epochs",
        "1",
        *TINY,
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "loss loss became nan" in err and "--lr" in err


def test_early_stopping_accumulation_and_bf16(tmp_path: Path, duts_tr_mini: Path, capsys) -> None:
    # A learning rate too small to learn: only BatchNorm statistics move val/max_f, and it soon stalls.
    run = _train(
        tmp_path, duts_tr_mini, "es", "--epochs", "8", "--patience", "1", "--lr", "1e-12",
        "--accumulate", "2", "--amp", "bf16", "--no-ema", *TINY,
    )  # fmt: skip
    last = load_checkpoint(run / "weights" / "last.pt")
    epochs = len(_rows(run))
    assert epochs < 8 and "early stopping" in capsys.readouterr().out
    assert epochs == last["best_epoch"] + 1  # stopped one epoch (the patience) after the best
    assert last["step"] == 2 * epochs  # 4 batches an epoch, an optimiser step every 2
    assert json.loads((run / "config.json").read_text())["auto"]["amp"] == "torch.bfloat16"


def test_compiled_training_matches_eager(tmp_path: Path, duts_tr_mini: Path) -> None:
    args = ["--epochs", "1", "--imgsz", "64", "--batch", "4", "--epoch-size", "8", "--workers", "0",
            "--no-progress", "--no-plots", "--no-tensorboard"]  # fmt: skip
    eager = _rows(_train(tmp_path, duts_tr_mini, "eager", *args))[0]
    compiled = _rows(_train(tmp_path, duts_tr_mini, "compiled", "--compile", *args))[0]
    assert compiled["train/loss"] == pytest.approx(eager["train/loss"], rel=1e-3)


def test_trains_from_tar_shards_with_a_weighted_mix(tmp_path: Path, duts_tr_mini: Path) -> None:
    shards = tmp_path / "shards"
    assert main(["data", "pack", str(duts_tr_mini), "-o", str(shards), "--shard-size", "200kB",
                 "--max-side", "96", "-q"]) == 0  # fmt: skip
    assert len(list(shards.glob("*.tar"))) > 1
    run = _train(tmp_path, shards, "tar", "--epochs", "1", *TINY)
    rows = _rows(run)
    assert rows[0]["train/loss"] > 0 and "val/mae" in rows[0]
    record = json.loads((run / "config.json").read_text())["data"]
    assert record["kind"] == "shards" and record["val_count"] > 0

    mixed = _train(tmp_path, duts_tr_mini, "mix", "--epochs", "1", *TINY)  # folder sources, equal weights
    assert _rows(mixed)[0]["train/loss"] > 0
    weighted = tmp_path / "salient" / "weighted"
    argv = ["train", "salient", "--data", f"{duts_tr_mini}:1", f"{shards}:3", "--project", str(tmp_path)]
    assert main([*argv, "--name", "weighted", "--epochs", "1", *TINY]) == 2  # folders and shards do not mix
    assert not weighted.exists()


def test_unknown_option_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "salient", "--data", "x", "--lrr", "0.1"])
    assert exc.value.code == 2
    assert "did you mean '--lr'" in capsys.readouterr().err


def test_bad_data_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["train", "salient", "--data", str(tmp_path / "nope"), "--project", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


@pytest.mark.xdist_group("train-e2e")
def test_ddp_two_processes_on_cpu(tmp_path: Path, duts_tr_mini: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "cutkit",
        "train", "salient", "--data", str(duts_tr_mini), "--project", str(tmp_path), "--name", "ddp",
        "--epochs", "1", "--imgsz", "64", "--batch", "4", "--epoch-size", "32", "--workers", "0",
        "--no-progress",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "4 steps/epoch" in proc.stdout  # 32 samples / (4 per step x 2 processes)
    run = tmp_path / "salient" / "ddp"
    assert len(_rows(run)) == 1 and (run / "model.safetensors").is_file()
    assert json.loads((run / "config.json").read_text())["auto"]["world"] == 2
