"""The image-classification task: labelled images → a classifier that ``cutkit predict`` / ``eval`` run.

Class imbalance has four answers here, each a flag: class-weighted loss (``--class-weights auto``), a
class-balanced sampler (``--sampler weighted``), focal loss (``--loss focal``) and label smoothing. Mixup and
cutmix make soft targets; ``--teacher RUN`` adds knowledge distillation from a trained classifier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cutkit._util.config_cli import opt
from cutkit.engine.classify import normalize, to_unit
from cutkit.train.classify_loss import LOSSES, ClassifyLoss, distillation_loss
from cutkit.train.task import TaskData

FITNESS = ("accuracy", "macro_f1", "top5", "loss")
SAMPLERS = ("uniform", "weighted")
STATS_IMAGES = 5000  # normalisation statistics from this many training images, spread evenly


@dataclass(frozen=True, kw_only=True)
class ClassifyConfig:
    """What the classification task learns from, with which loss, and how it is measured."""

    data: str = opt(
        "",
        "training data: an MNIST, CIFAR-10 or Tiny-ImageNet folder, an image-folder tree, a path,label CSV, "
        "or a dataset name to download once (mnist, fashion-mnist, cifar10)",
    )
    val: str | None = opt(
        None, "validation data (its test split); default: --val-fraction of --data held out"
    )
    val_fraction: float = opt(0.1, "fraction of each class held out for validation when --val is not given")
    model: str = opt("simple-cnn", "a registered classifier: simple-cnn, resnet18, resnet34, resnet50, ...")
    model_args: dict[str, Any] = opt({}, "architecture keywords as KEY=VALUE, e.g. dropout=0.2 stem=cifar")
    imgsz: int | None = opt(
        None, "input size in pixels, square (default: the size of the first training image)"
    )
    mean: tuple[float, ...] = opt(
        (), "normalisation mean per channel of pixel/255 (default: computed from data)"
    )
    std: tuple[float, ...] = opt(
        (), "normalisation std per channel of pixel/255 (default: computed from data)"
    )
    augment: dict[str, Any] = opt(
        {}, "augmentation as KEY=VALUE over the defaults (crop_padding=4 hflip=0.5), e.g. hflip=0 rotate=10"
    )
    aug: bool = opt(True, "augment the training images (--no-aug: none at all)")
    loss: str = opt("ce", "loss: ce (cross-entropy) or focal", choices=LOSSES)
    focal_gamma: float = opt(2.0, "focusing parameter of --loss focal")
    label_smoothing: float = opt(0.0, "label smoothing in [0, 1)")
    class_weights: str | None = opt(
        None, "weight the loss per class: auto (n / (classes * n_c)) or w0,w1,..."
    )
    sampler: str = opt("uniform", "uniform, or weighted (draws every class equally often)", choices=SAMPLERS)
    mixup: float = opt(0.0, "mixup Beta(alpha, alpha) parameter (0: off)")
    cutmix: float = opt(
        0.0, "cutmix Beta(alpha, alpha) parameter (0: off); with --mixup, one of the two a batch"
    )
    teacher: str | None = opt(None, "distil from this trained classifier (its run folder)")
    distill_alpha: float = opt(0.5, "weight of the distillation term (the label loss gets 1 - alpha)")
    distill_temperature: float = opt(4.0, "softmax temperature of distillation")
    epoch_size: int | None = opt(None, "samples per epoch (default: the training set's size)")
    fitness: str = opt("accuracy", "validation metric that picks the best checkpoint", choices=FITNESS)

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError(
                "--data is required: an MNIST/CIFAR-10 folder, an image-folder tree or a CSV list"
            )
        checks = {
            "val_fraction": 0 <= self.val_fraction < 1,
            "imgsz": self.imgsz is None or self.imgsz >= 8,
            "label_smoothing": 0 <= self.label_smoothing < 1,
            "focal_gamma": self.focal_gamma >= 0,
            "mixup": self.mixup >= 0,
            "cutmix": self.cutmix >= 0,
            "distill_alpha": 0 <= self.distill_alpha <= 1,
            "distill_temperature": self.distill_temperature > 0,
            "epoch_size": self.epoch_size is None or self.epoch_size >= 1,
            "std": all(s > 0 for s in self.std),
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid value for --{bad[0].replace('_', '-')}: {getattr(self, bad[0])}")
        if self.augment and not self.aug:
            raise ValueError("--augment and --no-aug contradict each other: give one of them")
        if bool(self.mean) != bool(self.std):
            raise ValueError("--mean and --std go together: give both or neither")
        for key in ("num_classes", "in_channels"):
            if key in self.model_args:
                raise ValueError(f"--model-args {key}: set by the data, not by hand")
        _check_model(self.model)


def _check_model(name: str) -> None:
    from cutkit._util.suggest import unknown
    from cutkit.nets.classify._base import classifier_names

    names = classifier_names()
    if name not in names:
        raise ValueError(unknown("classifier", name, names))


class ClassifyTask:
    """Trains a registered classifier on the shared trainer.

    Args:
        cfg: the task's settings.

    Raises:
        ValueError: an unknown classifier, unreadable data or a teacher that does not fit the data.
    """

    name = "classify"

    def __init__(self, cfg: ClassifyConfig) -> None:
        from cutkit.data.classify import open_classification

        self.cfg = cfg
        self.fitness = cfg.fitness
        self.fitness_mode = "min" if cfg.fitness == "loss" else "max"
        self.train_set = open_classification(cfg.data, "train")
        self.classes: list[str] = list(self.train_set.classes)
        self.channels: int = self.train_set.channels
        self.size = self._input_size()
        self.criterion = self._criterion()
        self.teacher = self._load_teacher() if cfg.teacher else None

    # ------------------------------------------------------------------------------------------ set-up
    def _input_size(self) -> tuple[int, int]:
        if self.cfg.imgsz is not None:
            return (self.cfg.imgsz, self.cfg.imgsz)
        if len(self.train_set) == 0:
            raise ValueError(f"{self.cfg.data}: no training samples")
        h, w = self.train_set[0]["image"].shape[:2]
        return (int(h), int(w))

    def _criterion(self) -> ClassifyLoss:
        from cutkit.train.classify_loss import parse_class_weights

        weight = None
        if self.cfg.class_weights:
            w = parse_class_weights(self.cfg.class_weights, self.train_set.labels, len(self.classes))
            weight = torch.tensor(w, dtype=torch.float32)
        return ClassifyLoss(
            kind=self.cfg.loss,
            gamma=self.cfg.focal_gamma,
            label_smoothing=self.cfg.label_smoothing,
            weight=weight,
        )

    def _load_teacher(self) -> tuple[nn.Module, Any]:
        from cutkit.zoo.classifier import load_classifier

        net, spec = load_classifier(self.cfg.teacher)
        if list(spec.classes) != self.classes:
            raise ValueError(
                f"--teacher {self.cfg.teacher}: its classes {list(spec.classes)} are not {self.classes}"
            )
        if spec.in_channels != self.channels or tuple(spec.input_size) != self.size:
            raise ValueError(
                f"--teacher {self.cfg.teacher} takes {spec.input_size} × {spec.in_channels} channel(s); "
                f"this run trains at {self.size} × {self.channels} (set --imgsz to match)"
            )
        return net.requires_grad_(False), spec

    @cached_property
    def stats(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """``(mean, std)`` of the normalisation: the user's, else computed on the training split."""
        if self.cfg.mean:
            if len(self.cfg.mean) != self.channels or len(self.cfg.std) != self.channels:
                raise ValueError(f"--mean and --std need {self.channels} value(s) each for this data")
            return tuple(self.cfg.mean), tuple(self.cfg.std)
        from cutkit.data.classify.augmented import TransformedSet
        from cutkit.data.classify.transforms import build_eval_transform, compute_stats

        resized = TransformedSet(self.train_set, transform=build_eval_transform(self.size), seed=0)
        return compute_stats(resized, limit=STATS_IMAGES)

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.cfg)

    def arch_kwargs(self) -> dict[str, Any]:
        """The architecture's keywords: the user's plus the data's classes and channels."""
        return {**self.cfg.model_args, "num_classes": len(self.classes), "in_channels": self.channels}

    def build_model(self) -> nn.Module:
        from cutkit.nets import build_net

        return build_net(self.cfg.model, **self.arch_kwargs())

    def encoder(self, net: nn.Module) -> nn.Module | None:
        return getattr(net, "backbone", None)

    # -------------------------------------------------------------------------------------------- data
    def augmentation(self) -> Any:
        """The training augmentation settings (none with ``--no-aug``)."""
        from cutkit.data.classify.transforms import ClassifyAugment

        return ClassifyAugment.from_dict(dict(self.cfg.augment)) if self.cfg.aug else ClassifyAugment.none()

    def _prepared(self, base: Any, *, train: bool, seed: int) -> Any:
        """``base`` resized to the input size, and augmented (seeded per sample and epoch) when ``train``."""
        from cutkit.data.classify.augmented import TransformedSet
        from cutkit.data.classify.transforms import build_eval_transform, build_train_transform

        transform = (
            build_train_transform(self.augmentation(), self.size)
            if train
            else build_eval_transform(self.size)
        )
        return TransformedSet(base, transform=transform, seed=seed)

    def _splits(self, seed: int) -> tuple[Any, Any | None]:
        """The training and validation sets (raw samples): --val's test split, or a stratified hold-out."""
        from cutkit.data.classify import open_classification
        from cutkit.train.classify_data import stratified_split

        if self.cfg.val:
            val = open_classification(self.cfg.val, "test", classes=self.classes, channels=self.channels)
            return self.train_set, val
        if self.cfg.val_fraction == 0:
            return self.train_set, None
        train_idx, val_idx = stratified_split(self.train_set.labels, self.cfg.val_fraction, seed)
        return self.train_set.subset(train_idx), self.train_set.subset(val_idx)

    def data(self, seed: int) -> TaskData:
        from cutkit.train.classify_loss import balanced_sample_weights

        train, val = self._splits(seed)
        weights = balanced_sample_weights(train.labels) if self.cfg.sampler == "weighted" else None
        mean, std = self.stats
        record = {
            "train": train.record(),
            "val": val.record() if val is not None else None,
            "held_out": None if self.cfg.val else {"fraction": self.cfg.val_fraction, "seed": seed},
            "auto": {"input_size": list(self.size), "channels": self.channels, "mean": mean, "std": std},
            "augment": self.augmentation().to_dict(),
            "class_weights": self.criterion.weight.tolist() if self.criterion.weight is not None else None,
        }
        return TaskData(
            train=self._prepared(train, train=True, seed=seed),
            val=self._prepared(val, train=False, seed=seed) if val is not None else None,
            weights=weights, length=self.cfg.epoch_size or len(train), val_length=len(val) if val else 0,
            record=record,
        )  # fmt: skip

    def collate(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "image": torch.from_numpy(_nhwc(np.stack([s["image"] for s in samples]))),
            "label": torch.tensor([s["label"] for s in samples], dtype=torch.int64),
            "name": [s["name"] for s in samples],
        }

    # ---------------------------------------------------------------------------------------- training
    def inputs(self, unit: torch.Tensor, spec_stats: tuple[Any, Any] | None = None) -> torch.Tensor:
        """A float NCHW batch in [0, 1] normalised with this run's (or a teacher's) statistics."""
        mean, std = spec_stats or self.stats
        return normalize(unit, mean, std).contiguous(memory_format=torch.channels_last)

    def training_step(
        self, net: nn.Module, batch: dict[str, Any], device: torch.device
    ) -> dict[str, torch.Tensor]:
        unit = to_unit(batch["image"], device)
        target: torch.Tensor = batch["label"].to(device, non_blocking=True)
        unit, target = self._mix(unit, target)
        logits = net(self.inputs(unit))
        hard = self.criterion(logits, target)
        if self.teacher is None:
            return {"loss": hard}
        soft = distillation_loss(logits, self._teacher_logits(unit), temperature=self.cfg.distill_temperature)
        alpha = self.cfg.distill_alpha
        return {"loss": (1 - alpha) * hard + alpha * soft, "label": hard.detach(), "distill": soft.detach()}

    @torch.no_grad()
    def _teacher_logits(self, unit: torch.Tensor) -> torch.Tensor:
        """The teacher's logits on the same (mixed) images, normalised as the teacher was trained."""
        net, spec = self.teacher
        if next(net.parameters()).device != unit.device:
            net.to(unit.device)
        return net.eval()(self.inputs(unit, (spec.mean, spec.std)))

    def _mix(self, unit: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixup or cutmix (one of them per batch when both are on); draws from torch's global generator,
        which checkpoints save, so a resumed run mixes as the uninterrupted one would have."""
        modes = [(m, a) for m, a in (("mixup", self.cfg.mixup), ("cutmix", self.cfg.cutmix)) if a > 0]
        if not modes:
            return unit, target
        from cutkit.data.classify.batch import mix_batch

        gen = torch.default_generator
        mode, alpha = (
            modes[int(torch.randint(len(modes), (1,), generator=gen))] if len(modes) > 1 else modes[0]
        )
        return mix_batch(unit, target, len(self.classes), alpha, mode, gen)

    # -------------------------------------------------------------------------------------- validation
    def validate(
        self, net: nn.Module, loader: Any, device: torch.device, plot: Path | None
    ) -> dict[str, float]:
        from cutkit.metrics.classify import ClassificationMetrics

        metrics = ClassificationMetrics(len(self.classes), top_k=5)
        loss_sum, n = 0.0, 0
        for batch in loader:
            logits = net(self.inputs(to_unit(batch["image"], device))).float()
            labels = batch["label"].to(device)
            loss_sum += float(self.criterion(logits, labels)) * len(labels)
            n += len(labels)
            metrics.update(logits.cpu(), batch["label"])
        if plot is not None:
            from cutkit.metrics.confusion_plot import plot_confusion

            plot_confusion(metrics.confusion, self.classes, plot.with_name("val_confusion.png"))
        summary = metrics.summary()
        keep = ("accuracy", "top5", "macro_f1", "macro_precision", "macro_recall", "micro_f1")
        return {"loss": loss_sum / max(1, n), **{k: summary[k] for k in keep}}

    # ------------------------------------------------------------------------------------------ export
    def spec(self, run_name: str) -> Any:
        """The :class:`~cutkit.zoo.classifier.ClassifierSpec` of this run's network."""
        from cutkit.zoo.classifier import ClassifierSpec

        mean, std = self.stats
        return ClassifierSpec(
            name=run_name, arch=self.cfg.model, arch_kwargs=self.arch_kwargs(), classes=tuple(self.classes),
            input_size=self.size, in_channels=self.channels, mean=mean, std=std,
            description=f"{self.cfg.model} trained by cutkit on {self.cfg.data}",
        )  # fmt: skip

    def export(self, net: nn.Module, run_dir: Path, run_name: str) -> Path:
        from cutkit.zoo.classifier import save_classifier

        return save_classifier(net, run_dir, self.spec(run_name))

    def usage(self, run_dir: Path) -> str:
        """How to use the exported model (printed when training ends)."""
        return f"cutkit predict --model {run_dir} IMAGE... or cutkit eval --task classify --model {run_dir}"


def _nhwc(images: np.ndarray) -> np.ndarray:
    """A stacked batch as N x H x W x C (grey images stack to N x H x W)."""
    return images[..., None] if images.ndim == 3 else images
