"""The salient-object (background removal) task: image/mask pairs → a network that ``cutkit remove`` runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cutkit._util.config_cli import opt
from cutkit._util.suggest import unknown
from cutkit.nets import arch_defaults, build_net
from cutkit.nets._backbone import backbone_defaults, backbone_names
from cutkit.train.task import TaskData
from cutkit.zoo.models import IMAGENET_MEAN, IMAGENET_STD

# The trainable architectures and the constructor keywords training needs (logits out, not probabilities).
TRAINABLE: dict[str, dict[str, Any]] = {
    "cutnet": {},
    "u2netp": {"sigmoid": False},
    "u2net": {"sigmoid": False},
}
FITNESS = ("max_f", "mean_f", "adp_f", "s_measure", "e_measure", "weighted_f", "iou", "mae")


@dataclass(frozen=True, kw_only=True)
class SalientConfig:
    """What the salient task learns from and how it is measured."""

    data: tuple[str, ...] = opt(
        (), "training data: pair folders, list files or shard folders; PATH:WEIGHT mixes"
    )
    val: tuple[str, ...] = opt((), "validation data (default: a seeded split of the training data)")
    val_fraction: float = opt(0.1, "fraction of the training data held out when --val is not given")
    model: str = opt("cutnet", "architecture to train", choices=tuple(TRAINABLE))
    backbone: str | None = opt(
        None, "the model's encoder: a backbone or classifier name, e.g. resnet18 (default: the model's own)"
    )
    model_args: dict[str, Any] = opt({}, "architecture keywords, e.g. backbone_kwargs.width=0.5 as KEY=VALUE")
    imgsz: int = opt(320, "training and validation image size (square, a multiple of 32)")
    loss: str = opt(
        "bce+iou", "loss terms and weights, e.g. bce:1,iou:1,ssim:0.5 (bce iou dice ssim focal structure)"
    )
    side_weight: float = opt(0.5, "weight of each deep-supervision side output's loss")
    augment: dict[str, Any] = opt(
        {}, "augmentation settings as KEY=VALUE, e.g. hflip=0 rotate=5 background_swap=0.3"
    )
    epoch_size: int | None = opt(None, "samples per epoch (default: the training set's size)")
    fitness: str = opt("max_f", "validation metric that picks the best checkpoint", choices=FITNESS)

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("--data is required: a folder of images/ + masks/, a list file or shards")
        if self.model not in TRAINABLE:
            raise ValueError(unknown("trainable architecture", self.model, TRAINABLE))
        if self.imgsz < 32 or self.imgsz % 32:
            raise ValueError(f"--imgsz must be a positive multiple of 32, got {self.imgsz}")
        if not 0 <= self.val_fraction < 1:
            raise ValueError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if self.backbone is not None:
            _check_backbone(self)

    def for_pretrained(self, pretrained: str) -> SalientConfig:
        """This config with the encoder of ``pretrained`` when it is a classification run (see
        :func:`encoder_from_classifier`), else unchanged."""
        return encoder_from_classifier(self, pretrained)


def _check_backbone(cfg: SalientConfig) -> None:
    if "backbone" not in arch_defaults(cfg.model):
        raise ValueError(f"--backbone: {cfg.model} has no exchangeable encoder (cutnet has one)")
    if "backbone" in cfg.model_args:
        raise ValueError("the backbone is given twice: use --backbone or --model-args backbone=..., not both")
    if cfg.backbone not in backbone_names():
        raise ValueError("--backbone: " + unknown("backbone", cfg.backbone, backbone_names()))


def encoder_from_classifier(cfg: SalientConfig, pretrained: str) -> SalientConfig:
    """``cfg`` with the encoder that the classification run ``pretrained`` was trained as.

    ``--pretrained runs/classify/r18`` then needs no ``--backbone resnet18 --model-args
    backbone_kwargs.width=...``: they are the run's. What the user did give must agree with the run.

    Raises:
        ValueError: the model has no exchangeable encoder, or the user's backbone or keywords differ from
            the run's, or the classifier cannot be an RGB encoder (grey input, channel-pruned).
    """
    from cutkit.zoo.classifier import find_classifier, is_classifier

    if not is_classifier(pretrained):
        return cfg
    spec, _ = find_classifier(pretrained)
    where = f"--pretrained {pretrained} is a {spec.arch} classifier"
    if "backbone" not in arch_defaults(cfg.model):
        raise ValueError(f"{where}, but {cfg.model} has no exchangeable encoder (cutnet has one)")
    chosen = cfg.backbone or cfg.model_args.get("backbone")
    if chosen not in (None, spec.arch):
        raise ValueError(
            f"{where}: --backbone {chosen} does not fit it (leave --backbone out to use {spec.arch})"
        )
    if spec.in_channels != 3 or (spec.pruned or {}).get("method") == "channel":
        why = "channel-pruned" if spec.in_channels == 3 else f"for {spec.in_channels}-channel images"
        raise ValueError(f"{where} {why}: a salient network's encoder needs an unpruned RGB classifier")
    model_args = dict(cfg.model_args)
    trained = arch_defaults(spec.arch) | spec.arch_kwargs
    for key in sorted(backbone_defaults(spec.arch).keys() & trained.keys()):
        run_value = trained[key]
        given = model_args.setdefault(f"backbone_kwargs.{key}", run_value)
        if given != run_value:
            raise ValueError(
                f"{where} with {key}={run_value}: --model-args backbone_kwargs.{key}={given} differs"
            )
    model_args.pop("backbone", None)
    return replace(cfg, backbone=spec.arch, model_args=model_args)


def _arch_kwargs(cfg: SalientConfig) -> dict[str, Any]:
    """``model_args`` with dotted keys nested (``backbone_kwargs.width=0.5``), plus what training needs."""
    out: dict[str, Any] = {}
    for key, value in cfg.model_args.items():
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    if cfg.backbone is not None:
        out["backbone"] = cfg.backbone
    return out | TRAINABLE[cfg.model]


def maps_of(out: Any) -> list[torch.Tensor]:
    """The prediction maps in a network's return value, main first."""
    return [out] if isinstance(out, torch.Tensor) else list(out)


class SalientTask:
    """Trains a salient-object network with a composable loss and deep supervision."""

    name = "salient"

    def __init__(self, cfg: SalientConfig) -> None:
        from cutkit.train.losses import SalientLoss, parse_loss

        self.cfg = cfg
        self.fitness = cfg.fitness
        self.fitness_mode = "min" if cfg.fitness == "mae" else "max"
        self.loss = SalientLoss(terms=parse_loss(cfg.loss), side_weights=cfg.side_weight)
        self.mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def build_model(self) -> nn.Module:
        return build_net(self.cfg.model, **_arch_kwargs(self.cfg))

    def encoder(self, net: nn.Module) -> nn.Module | None:
        return getattr(net, "encoder", None)

    def data(self, seed: int) -> TaskData:
        from cutkit.data.salient import make_datasets
        from cutkit.data.transforms import AugmentConfig, build_eval_transform, build_train_transform

        aug = AugmentConfig.from_dict(dict(self.cfg.augment))
        sd = make_datasets(
            list(self.cfg.data), list(self.cfg.val) or None, val_fraction=self.cfg.val_fraction, seed=seed,
            train_transform=build_train_transform(aug, self.cfg.imgsz),
            val_transform=build_eval_transform(self.cfg.imgsz),
        )  # fmt: skip
        record = sd.split | {"augment": asdict(aug)}
        length = self.cfg.epoch_size or sd.length
        return TaskData(sd.train, sd.val, sd.train_weights, length, sd.val_length, record)

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "image": torch.from_numpy(np.stack([s["image"] for s in samples])),
            "mask": torch.from_numpy(np.stack([s["mask"] for s in samples])),
            "name": [s["name"] for s in samples],
        }

    def inputs(self, batch: dict[str, Any], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 NHWC → normalised float NCHW (channels-last in memory) and the N1HW target, on ``device``."""
        x = batch["image"].to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255)
        x = ((x - self.mean.to(device)) / self.std.to(device)).contiguous(memory_format=torch.channels_last)
        return x, batch["mask"].to(device, non_blocking=True).unsqueeze(1)

    def training_step(
        self, net: nn.Module, batch: dict[str, Any], device: torch.device
    ) -> dict[str, torch.Tensor]:
        x, y = self.inputs(batch, device)
        return self.loss(maps_of(net(x)), y)

    def validate(
        self, net: nn.Module, loader: Any, device: torch.device, plot: Path | None
    ) -> dict[str, float]:
        from cutkit.metrics.salient import SalientMetrics

        metrics, losses, shown = SalientMetrics(), [], None
        for batch in loader:
            x, y = self.inputs(batch, device)
            logits = maps_of(net(x))[0]
            losses.append(float(self.loss([logits], y)["loss"]) * len(x))
            prob = torch.sigmoid(logits.float())[:, 0].cpu().numpy()
            for name, p, t in zip(batch["name"], prob, batch["mask"].numpy(), strict=True):
                metrics.update((p * 255 + 0.5).astype(np.uint8), t, name=name)
            shown = shown or (batch["image"][:4].numpy(), batch["mask"][:4].numpy(), prob[:4])
        if plot is not None and shown is not None:
            from cutkit.train.plots import prediction_grid

            prediction_grid(shown[0], shown[1], shown[2], plot)
        n = len(metrics.per_image())
        return {"loss": sum(losses) / max(1, n), **metrics.summary()}

    def export(self, net: nn.Module, run_dir: Path, run_name: str) -> Path:
        from cutkit.zoo.trained import save_trained

        return save_trained(
            net, run_dir, name=run_name, arch=self.cfg.model, arch_kwargs=_arch_kwargs(self.cfg),
            input_size=self.cfg.imgsz, mean=IMAGENET_MEAN, std=IMAGENET_STD,
            description=f"{self.cfg.model} trained by cutkit on {', '.join(self.cfg.data)}",
        )  # fmt: skip
