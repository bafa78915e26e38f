"""Training checkpoints (atomic, with every RNG state) and pretrained-weight loading with a report.

A checkpoint is a plain dict of tensors, numbers and strings, so it loads with ``weights_only=True``:
``model``, ``ema``, ``optimizer``, ``scheduler``, ``scaler``, ``rng``, ``config``, ``epoch``, ``best``,
``history``.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cutkit.zoo.checkpoint import CheckpointError, read_state_dict


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` to ``path`` via a temporary file and an atomic rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a training checkpoint written by :func:`save_checkpoint`."""
    state = _load_any(path)
    if not isinstance(state, dict) or "model" not in state or "epoch" not in state:
        raise CheckpointError(f"{path}: not a cutkit training checkpoint (no model/epoch entries)")
    return state


def rng_state() -> dict[str, Any]:
    """Every random generator the loop touches, for an exact resume."""
    _version, words, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": torch.tensor(words, dtype=torch.int64),
        "python_gauss": gauss,
        "numpy": torch.from_numpy(np.random.get_state()[1].astype(np.int64)),
        "numpy_pos": int(np.random.get_state()[2]),
        "numpy_gauss": (int(np.random.get_state()[3]), float(np.random.get_state()[4])),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()  # this process's GPU only
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` saved."""
    random.setstate((3, tuple(state["python"].tolist()), state["python_gauss"]))
    has_gauss, gauss = state.get("numpy_gauss", (0, 0.0))
    np.random.set_state(
        ("MT19937", state["numpy"].numpy().astype(np.uint32), state["numpy_pos"], has_gauss, gauss)
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


@dataclass
class LoadReport:
    """What a pretrained checkpoint gave a network."""

    source: str
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)

    def format(self) -> str:
        total = len(self.matched) + len(self.missing)
        lines = [f"pretrained {self.source}: {len(self.matched)}/{total} tensors loaded"]
        lines += [f"  prefix {a!r} -> {b!r}" for a, b in self.renamed.items()]
        for label, keys in (
            ("missing", self.missing),
            ("unused", self.unexpected),
            ("shape", self.mismatched),
        ):
            if keys:
                more = f" (+{len(keys) - 5} more)" if len(keys) > 5 else ""
                lines.append(f"  {label} ({len(keys)}): {', '.join(keys[:5])}{more}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "matched": len(self.matched),
            "missing": self.missing,
            "unexpected": self.unexpected,
            "mismatched": self.mismatched,
            "renamed": self.renamed,
        }


def load_pretrained(net: nn.Module, sd: dict[str, torch.Tensor], source: str) -> LoadReport:
    """Load every tensor of ``sd`` whose name and shape fit ``net``; report the rest.

    Names are matched as they are, then by swapping a top-level prefix where that fits more tensors
    (a classifier's ``backbone.*`` into a segmenter's ``encoder.*``, say).

    Raises:
        CheckpointError: when not a single tensor fits.
    """
    own = net.state_dict()
    mapped, renamed = _align_prefixes(sd, own)
    report = LoadReport(source=source, renamed=renamed)
    for key, value in own.items():
        if key not in mapped:
            report.missing.append(key)
        elif mapped[key].shape != value.shape:
            report.mismatched.append(f"{key} {tuple(mapped[key].shape)} vs {tuple(value.shape)}")
        else:
            report.matched.append(key)
    used = {k for k in mapped if k in own}
    report.unexpected = [k for k in mapped if k not in used]
    if not report.matched:
        raise CheckpointError(f"{source}: no tensor fits {type(net).__name__} (names or shapes differ)")
    net.load_state_dict({k: mapped[k] for k in report.matched}, strict=False)
    return report


def _align_prefixes(
    sd: dict[str, torch.Tensor], own: dict[str, torch.Tensor]
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    mapped = dict(sd)
    renamed: dict[str, str] = {}
    for src in sorted({k.split(".", 1)[0] for k in sd if "." in k}):
        best, best_hits = None, _hits(sd, own, src, src)
        for dst in sorted({k.split(".", 1)[0] for k in own if "." in k}):
            hits = _hits(sd, own, src, dst)
            if hits > best_hits:
                best, best_hits = dst, hits
        if best is not None:
            renamed[src] = best
            for k in [k for k in sd if k.startswith(src + ".")]:
                mapped[best + k[len(src) :]] = mapped.pop(k)
    return mapped, renamed


def _hits(sd: dict[str, torch.Tensor], own: dict[str, torch.Tensor], src: str, dst: str) -> int:
    n = 0
    for k, v in sd.items():
        if k.startswith(src + "."):
            target = dst + k[len(src) :]
            n += target in own and own[target].shape == v.shape
    return n


def pretrained_state_dict(
    source: str, *, runs_root: Path | None = None
) -> tuple[dict[str, torch.Tensor], str]:
    """The weights ``--pretrained`` names: a run folder, a checkpoint or weight file, or a zoo model."""
    path = Path(source).expanduser()
    if path.is_dir():
        path = _weights_in_run(path)
    if path.is_file():
        if path.suffix in (".pt", ".pth"):
            obj = _load_any(path)
            if isinstance(obj, dict) and "model" in obj and "epoch" in obj:  # one of our training checkpoints
                return (obj["ema"]["module"] if obj.get("ema") else obj["model"]), str(path)
        return read_state_dict(path), str(path)
    return _zoo_weights(source), source


def _load_any(path: Path) -> object:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; re-raised with the path
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({exc})") from exc


def _weights_in_run(run: Path) -> Path:
    for candidate in (run / "model.safetensors", run / "weights" / "best.pt", run / "weights" / "last.pt"):
        if candidate.is_file():
            return candidate
    raise CheckpointError(f"{run}: no model.safetensors or weights/best.pt in this run folder")


def _zoo_weights(name: str) -> dict[str, torch.Tensor]:
    from cutkit.zoo.registry import get_spec
    from cutkit.zoo.weights import resolve_weights

    try:
        spec = get_spec(name)
    except KeyError as exc:
        raise CheckpointError(
            f"--pretrained {name}: not a file, a run folder or a zoo model ({exc})"
        ) from exc
    return read_state_dict(resolve_weights(spec.weights))
