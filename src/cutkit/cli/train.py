"""``cutkit train TASK --flags``: train a network.

Data-parallel: ``torchrun --nproc_per_node N -m cutkit train TASK ...`` (one process per GPU or CPU group).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cutkit._util import config_cli
from cutkit.cli.main import CliError
from cutkit.train.config import RESUMABLE_CHANGES, TrainConfig

# task → (module, config class name, task class name)
TASKS = {
    "salient": ("cutkit.train.salient", "SalientConfig", "SalientTask"),
    "classify": ("cutkit.train.classify", "ClassifyConfig", "ClassifyTask"),
}


def _task_parts(task: str) -> tuple[type, type]:
    import importlib

    module_name, cfg_name, task_name = TASKS[task]
    module = importlib.import_module(module_name)
    return getattr(module, cfg_name), getattr(module, task_name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    for task in TASKS:
        cfg_cls, _ = _task_parts(task)
        p = sub.add_parser(task, help=f"train a {task} network", allow_abbrev=False)
        config_cli.add_fields(p, cfg_cls, title=f"{task} task")
        config_cli.add_fields(p, TrainConfig, title="training")


def run(args: argparse.Namespace) -> int:
    from cutkit.train import distributed as dist
    from cutkit.train.run import find_run, new_run_dir

    cfg_cls, task_cls = _task_parts(args.task)
    user = config_cli.explicit(args, cfg_cls) | config_cli.explicit(args, TrainConfig)
    info = dist.from_env()
    try:
        if user.get("resume"):
            run_dir = find_run(user["resume"], user.get("project", "runs"), args.task)
            task_cfg, train_cfg, ckpt = _resumed(run_dir, user, cfg_cls)
        else:
            task_cfg = config_cli.build(cfg_cls, config_cli.explicit(args, cfg_cls))
            train_cfg = config_cli.build(TrainConfig, config_cli.explicit(args, TrainConfig))
            if train_cfg.pretrained and hasattr(task_cfg, "for_pretrained"):
                task_cfg = _for_pretrained(task_cfg, train_cfg.pretrained)
            run_dir, ckpt = (
                new_run_dir(train_cfg.project, args.task, train_cfg.name, exist_ok=train_cfg.exist_ok),
                None,
            )
        task = task_cls(task_cfg)
        _check_extras(train_cfg)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        raise CliError(str(exc)) from exc
    return _train(task, train_cfg, run_dir, ckpt, user, info)


def _for_pretrained(task_cfg: Any, pretrained: str) -> Any:
    """The task's settings adapted to ``--pretrained`` (a classifier's encoder, say), saying what changed."""
    adapted = task_cfg.for_pretrained(pretrained)
    if adapted != task_cfg:
        before, after = vars(task_cfg), vars(adapted)
        changes = ", ".join(f"{k}={after[k]}" for k in after if after[k] != before[k])
        print(f"settings from --pretrained {pretrained}: {changes}", file=sys.stderr)
    return adapted


def _check_extras(cfg: TrainConfig) -> None:
    """Plots and TensorBoard logs need the ``train`` extra: say so before any work, not after an epoch."""
    import importlib.util

    needs = {"matplotlib": cfg.plots, "tensorboard": cfg.tensorboard}
    missing = [name for name, wanted in needs.items() if wanted and importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"{' and '.join(missing)} not installed: pip install 'cutkit[train]', "
            "or pass --no-plots / --no-tensorboard"
        )


def _resumed(run_dir: Path, user: dict[str, Any], cfg_cls: type) -> tuple[Any, TrainConfig, dict]:
    from cutkit.train.checkpoint import load_checkpoint

    ckpt = load_checkpoint(run_dir / "weights" / "last.pt")
    saved = ckpt["config"]
    changed = {k: v for k, v in user.items() if k not in ("resume", "project")}
    refused = sorted(k for k in changed if k not in RESUMABLE_CHANGES)
    if refused:
        raise ValueError(
            f"--resume continues {run_dir} with its saved settings; only "
            f"{', '.join('--' + k.replace('_', '-') for k in RESUMABLE_CHANGES)} may change "
            f"(got --{refused[0].replace('_', '-')})"
        )
    train = {**saved["train"], **changed, "resume": str(run_dir), "exist_ok": True}
    print(f"resuming {run_dir} after epoch {ckpt['epoch']} of {train['epochs']}", file=sys.stderr)
    task = {k: tuple(v) if isinstance(v, list) else v for k, v in saved["task"].items()}
    return config_cli.build(cfg_cls, task), config_cli.build(TrainConfig, train), ckpt


def _train(task: Any, cfg: TrainConfig, run_dir: Path, ckpt: dict | None, user: dict, info: Any) -> int:
    import torch

    from cutkit.engine.device import DeviceError, resolve_device
    from cutkit.train import distributed as dist
    from cutkit.train.trainer import TrainingError

    try:
        device = torch.device(resolve_device(cfg.device))
    except DeviceError as exc:
        raise CliError(str(exc)) from exc
    if device.type == "cuda" and info.enabled:
        device = _rank_gpu(device, info)
    dist.init(info, device)
    try:
        trainer = _build(task, cfg, run_dir, device, info, user, ckpt)
        trainer.fit()
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        dist.shutdown()
    return 0


def _rank_gpu(device, info):
    """One GPU per torchrun process: ``cuda:LOCAL_RANK``."""
    import torch

    if device.index is not None:
        raise CliError(
            f"--device {device} under torchrun would put every process on one GPU; "
            "use --device cuda (each process takes cuda:LOCAL_RANK) and CUDA_VISIBLE_DEVICES to choose GPUs"
        )
    if info.local_rank >= torch.cuda.device_count():
        raise CliError(
            f"process {info.local_rank} has no GPU: {torch.cuda.device_count()} visible, "
            "start at most that many processes per machine (--nproc_per_node)"
        )
    return torch.device("cuda", info.local_rank)


def _build(task: Any, cfg: TrainConfig, run_dir: Path, device: Any, info: Any, user: dict, ckpt: dict | None):
    from cutkit.data.pairs import DataError
    from cutkit.train.hooks import default_hooks
    from cutkit.train.run import MetricsLog
    from cutkit.train.trainer import Trainer, default_workers, resolve_amp
    from cutkit.zoo.checkpoint import CheckpointError

    workers = cfg.workers if cfg.workers is not None else default_workers(device, info.world)
    try:
        trainer = Trainer(
            task=task, cfg=cfg, run_dir=run_dir, device=device, workers=workers, info=info, hooks=[],
            resuming=ckpt is not None,
        )  # fmt: skip
        if ckpt is not None:
            trainer.load_state_dict(ckpt)
    except (DataError, CheckpointError, ValueError, TypeError, KeyError) as exc:
        raise CliError(str(exc)) from exc
    # The run folder appears only once the data, the network and any pretrained weights are good.
    log = None
    if info.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        log = MetricsLog(run_dir, tensorboard=cfg.tensorboard)
        trainer.hooks = default_hooks(cfg, log)
    if ckpt is not None and log is not None:
        log.load(trainer.state.history)
    auto = {
        "device": str(device),
        "workers": workers,
        "amp": str(resolve_amp(cfg.amp, device)),
        "world": info.world,
    }
    if info.is_main:
        _record(trainer, run_dir, user, auto)
    return trainer


def _record(trainer: Any, run_dir: Path, user: dict, auto: dict) -> None:
    import torch

    from cutkit import __version__
    from cutkit.train.run import write_json

    if trainer.pretrained_report is not None:
        print(trainer.pretrained_report.format(), flush=True)
    path = run_dir / "config.json"
    earlier = json.loads(path.read_text()) if user.get("resume") and path.is_file() else {}
    resumes = [*earlier.get("resumes", []), user] if earlier else []
    write_json(
        path,
        {
            "user": earlier.get("user", user),
            "resumes": resumes,
            "resolved": {"train": trainer.cfg.to_dict(), "task": trainer.task.config_dict()},
            "auto": auto,
            "data": trainer.data.record,
            "pretrained": trainer.pretrained_report.to_dict() if trainer.pretrained_report else None,
            "versions": {"cutkit": __version__, "torch": torch.__version__},
        },
    )
    print(
        f"run {run_dir} on {auto['device']}: {trainer.data.length} samples/epoch, "
        f"{trainer.steps_per_epoch} steps/epoch, workers {auto['workers']}, amp {auto['amp']}",
        flush=True,
    )
