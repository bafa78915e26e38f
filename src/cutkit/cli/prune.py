"""``cutkit prune --model RUN --amount 0.5 --method magnitude|channel [--epochs N]``: a smaller classifier.

Prunes a trained classifier, then fine-tunes it for ``--epochs`` on the run's own data and settings (those in
its ``config.json``; ``--data`` replaces the data) into a new run ``<project>/classify/<name>``, which
``cutkit predict``, ``eval --task classify``, ``explain`` and ``export`` use like any other.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cutkit.cli.main import CliError
from cutkit.compress import PRUNE_METHODS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="RUN", help="a trained classifier: its run folder")
    parser.add_argument(
        "--method",
        default="channel",
        choices=PRUNE_METHODS,
        help="channel: remove whole channels (smaller and faster); magnitude: zero the smallest weights "
        "(sparse, same shapes) (default: channel)",
    )
    parser.add_argument(
        "--amount",
        type=float,
        default=0.5,
        help="fraction of each layer's channels, or of all weights, to remove (default: 0.5)",
    )
    parser.add_argument(
        "--epochs", type=int, default=2, help="fine-tuning epochs after pruning (0: none; default: 2)"
    )
    parser.add_argument("--lr", type=float, help="fine-tuning learning rate (default: a tenth of the run's)")
    parser.add_argument("--batch", type=int, help="fine-tuning batch size (default: the run's)")
    parser.add_argument("--data", help="fine-tuning data (default: the run's training data)")
    parser.add_argument("--device", help="auto, cpu, cuda or cuda:N (default: the run's)")
    parser.add_argument("--workers", type=int, help="data-loading processes (default: as training chooses)")
    parser.add_argument("--project", default="runs", help="folder that holds classify/<name> (default: runs)")
    parser.add_argument("-n", "--name", help="run name (default: <model>-<method><percent>)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from cutkit.compress.measure import nonzero_count, parameter_count
    from cutkit.compress.prune import prune_classifier
    from cutkit.train.run import new_run_dir
    from cutkit.zoo.classifier import ClassifierError, find_classifier, load_classifier

    if not 0 <= args.amount < 1:
        raise CliError(f"--amount must be in [0, 1), got {args.amount}")
    if args.epochs < 0:
        raise CliError(f"--epochs must be 0 or more, got {args.epochs}")
    _check_extras(args.method)
    try:
        net, spec = load_classifier(args.model)
        run_of_model = find_classifier(args.model)[1].parent
    except ClassifierError as exc:
        raise CliError(str(exc)) from exc
    before = parameter_count(net)
    net, spec = prune_classifier(net, spec, method=args.method, amount=args.amount, source=str(run_of_model))
    name = args.name or f"{spec.name}-{args.method}{round(args.amount * 100)}"
    run_dir = new_run_dir(args.project, "classify", name, exist_ok=False)
    print(
        f"pruned {args.model} ({args.method}, {args.amount:g}): {before:,} → {parameter_count(net):,} "
        f"parameters, {nonzero_count(net):,} non-zero",
        flush=True,
    )
    if args.epochs == 0:
        from cutkit.compress.finetune import save_pruned

        run_dir.mkdir(parents=True)
        save_pruned(net, run_dir, _renamed(spec, run_dir.name))
        print(f"saved {run_dir} (not fine-tuned)")
        return 0
    return _finetune(args, net, spec, run_of_model, run_dir)


def _check_extras(method: str) -> None:
    import importlib.util

    if method == "channel" and importlib.util.find_spec("torch_pruning") is None:
        raise CliError("--method channel needs Torch-Pruning: pip install 'cutkit[compress]'")


def _renamed(spec: Any, name: str) -> Any:
    import dataclasses

    return dataclasses.replace(spec, name=name)


def _finetune(args: argparse.Namespace, net: Any, spec: Any, run_of_model: Path, run_dir: Path) -> int:
    import dataclasses

    from cutkit.cli.train import _train
    from cutkit.compress.finetune import PrunedTask, classify_task, saved_config
    from cutkit.data.classify import DataError
    from cutkit.train import distributed as dist

    try:
        settings = saved_config(run_of_model)
        if settings is None and args.data is None:
            raise ValueError(
                f"{run_of_model} has no config.json (the run's data and settings): give --data to fine-tune "
                "on, or --epochs 0"
            )
        settings = settings or {"train": {}, "task": {"data": args.data}}
        record = {**spec.pruned, "epochs": args.epochs}
        spec = dataclasses.replace(spec, pruned=record)
        task = PrunedTask(inner=classify_task(settings["task"], spec, data=args.data), net=net, spec=spec)
        cfg = _train_config(args, settings["train"], run_dir)
    except (ValueError, DataError, FileNotFoundError) as exc:
        raise CliError(str(exc)) from exc
    user = {k: v for k, v in vars(args).items() if v is not None}
    return _train(task, cfg, run_dir, None, user, dist.from_env())


def _train_config(args: argparse.Namespace, saved: dict[str, Any], run_dir: Path) -> Any:
    """The run's optimisation settings for a short fine-tune: no warm-up, a tenth of the learning rate."""
    import dataclasses

    from cutkit._util.config_cli import build
    from cutkit.train.config import TrainConfig

    names = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in saved.items() if k in names}
    lr = args.lr if args.lr is not None else values.get("lr", TrainConfig.lr) / 10
    values |= {
        "epochs": args.epochs, "lr": lr, "warmup_epochs": 0.0, "project": args.project, "name": run_dir.name,
        "exist_ok": True, "resume": None, "pretrained": None, "freeze_encoder": 0, "patience": 0,
        "progress": args.progress, "compile": False,
    }  # fmt: skip
    for key in ("batch", "device", "workers"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    return build(TrainConfig, values, where="fine-tuning settings")
