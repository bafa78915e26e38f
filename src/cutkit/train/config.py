"""The trainer's own settings, task-agnostic; a task adds its config next to it (practice 8).

Every field is declared once, with its help; the ``cutkit train`` flags are generated from these fields.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from cutkit._util.config_cli import opt


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How to optimise, whatever the task."""

    epochs: int = opt(50, "training epochs")
    batch: int = opt(16, "images per optimiser step and process (before accumulation)")
    lr: float = opt(1e-3, "peak learning rate of AdamW")
    weight_decay: float = opt(1e-4, "AdamW weight decay")
    warmup_epochs: float = opt(1.0, "linear warm-up length in epochs (fractions allowed)")
    min_lr: float = opt(0.01, "final learning rate of the cosine schedule, as a fraction of --lr")
    accumulate: int = opt(1, "gradient accumulation steps per optimiser step")
    clip_grad: float = opt(1.0, "clip the gradient norm to this value (0: off)")
    amp: str = opt(
        "auto",
        "mixed precision: auto (bf16 on CUDA if supported, else fp16; off on CPU)",
        choices=("auto", "off", "bf16", "fp16"),
    )
    channels_last: bool = opt(True, "channels-last memory format")
    compile: bool = opt(False, "torch.compile the network")
    ema: bool = opt(True, "keep an exponential moving average of the weights; evaluate and export it")
    ema_decay: float = opt(0.999, "EMA decay per optimiser step")
    patience: int = opt(0, "stop after this many epochs without a better validation metric (0: never)")
    seed: int = opt(0, "seed for initialisation, data order, augmentation and the validation split")
    workers: int | None = opt(
        None, "data-loading worker processes (default: 1 on CPU with ≤ 4 cores, up to 8 per GPU)"
    )
    device: str = opt("auto", "auto, cpu, cuda or cuda:N")
    project: str = opt("runs", "folder that holds runs/<task>/<name>")
    name: str | None = opt(None, "run name (default: train, train2, ...)", short="-n")
    exist_ok: bool = opt(False, "reuse the run folder if it exists")
    resume: str | None = opt(None, "continue a run: its folder, name or a last.pt checkpoint")
    pretrained: str | None = opt(
        None, "initialise from a checkpoint: a run, .pt/.pth/.safetensors or zoo name"
    )
    freeze_encoder: int = opt(0, "keep the pretrained encoder frozen for the first N epochs")
    plots: bool = opt(True, "write plots (curves, sample predictions)")
    tensorboard: bool = opt(True, "write TensorBoard logs")
    progress: bool = opt(True, "show a progress bar")

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "batch": self.batch >= 1,
            "lr": self.lr > 0,
            "accumulate": self.accumulate >= 1,
            "clip_grad": self.clip_grad >= 0,
            "ema_decay": 0 < self.ema_decay < 1,
            "min_lr": 0 <= self.min_lr <= 1,
            "warmup_epochs": self.warmup_epochs >= 0,
            "workers": self.workers is None or self.workers >= 0,
            "freeze_encoder": self.freeze_encoder >= 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid value for --{bad[0].replace('_', '-')}: {getattr(self, bad[0])}")

    def to_dict(self) -> dict:
        return asdict(self)


# What may change when a run is resumed: everything else is the saved run's.
RESUMABLE_CHANGES = ("epochs", "device", "workers", "progress", "patience")
