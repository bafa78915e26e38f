"""Classifiers trained with cutkit: ``model.safetensors`` and a ``model.json`` that says it is one.

The JSON carries everything inference needs (architecture and its keywords, class names, input size, grey or
RGB input, normalisation), so ``cutkit predict``, ``eval --task classify``, ``explain``, ``prune`` and
``export`` rebuild the network from the run folder alone. ``cutkit export RUN`` writes the same JSON into the
ONNX file's metadata (key :data:`ONNX_META_KEY`), so ``predict`` and ``eval`` also run the exported file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

FORMAT = "cutkit-classifier"
WEIGHTS_NAME = "model.safetensors"
SPEC_NAME = "model.json"
ONNX_META_KEY = "cutkit_classifier"  # the ONNX metadata entry holding the spec's JSON


class ClassifierError(ValueError):
    """A path given as a classifier that is not a usable classification model; the message says why."""


@dataclass(frozen=True, kw_only=True)
class ClassifierSpec:
    """A trained classifier as data.

    Pixels are mapped as ``x = (pixel / 255 - mean) / std`` per channel, after conversion to ``in_channels``
    (1: grey, 3: RGB) and resizing to ``input_size``.

    Attributes:
        name: the model's name (the run's name).
        arch: the registered architecture (``cutkit.nets``).
        arch_kwargs: its constructor keywords.
        classes: class names; the network's output ``i`` is ``classes[i]``.
        input_size: ``(height, width)`` the network was trained at.
        in_channels: 1 (grey) or 3 (RGB).
        mean: per-channel mean of ``pixel / 255``.
        std: per-channel standard deviation of ``pixel / 255``.
        description: one line about where it comes from.
        pruned: how the network was pruned (``method``, ``amount``, ...; see :mod:`cutkit.compress`), None
            when it was not; a ``channel``-pruned network's layer widths are taken from its weights.
    """

    name: str
    arch: str
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    classes: tuple[str, ...]
    input_size: tuple[int, int]
    in_channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    description: str = ""
    pruned: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.in_channels not in (1, 3):
            raise ClassifierError(f"model '{self.name}': in_channels must be 1 or 3, got {self.in_channels}")
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise ClassifierError(
                f"model '{self.name}': mean and std need {self.in_channels} value(s) each, "
                f"got {len(self.mean)} and {len(self.std)}"
            )
        if any(s <= 0 for s in self.std):
            raise ClassifierError(f"model '{self.name}': std must be positive, got {self.std}")
        if len(self.classes) < 2:
            raise ClassifierError(f"model '{self.name}': a classifier needs 2 or more classes")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written as ``model.json``."""
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierSpec:
        """Inverse of :meth:`to_dict`; list values become tuples."""
        data = {k: v for k, v in data.items() if k != "format"}
        tuples = {k: tuple(data[k]) for k in ("classes", "input_size", "mean", "std") if k in data}
        return cls(**{**data, **tuples})


def save_classifier(net: nn.Module, out_dir: Path, spec: ClassifierSpec) -> Path:
    """Write ``net``'s weights and ``spec`` into ``out_dir`` (created); returns the weights path."""
    from safetensors.torch import save

    from cutkit.io.image import write_atomic

    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / WEIGHTS_NAME
    write_atomic(weights, save({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}))
    write_atomic(out_dir / SPEC_NAME, (json.dumps(spec.to_dict(), indent=2) + "\n").encode())
    return weights


def is_classifier(model: str | Path) -> bool:
    """Whether ``model`` names a classifier folder or file (its ``model.json`` says so)."""
    spec_path = _spec_path(Path(model).expanduser())
    if spec_path is None or not spec_path.is_file():
        return False
    try:
        return json.loads(spec_path.read_text()).get("format") == FORMAT
    except (ValueError, AttributeError):
        return False


def onnx_classifier_spec(path: str | Path) -> ClassifierSpec | None:
    """The spec an ONNX file exported by ``cutkit export RUN`` carries; None for any other ONNX file.

    Raises:
        ClassifierError: the file is missing or not readable as ONNX, or its spec is broken.
    """
    from cutkit.engine.export import read_metadata

    path = Path(path).expanduser()
    if not path.is_file():
        raise ClassifierError(f"{path}: no such ONNX file")
    try:
        meta = read_metadata(path)
    except Exception as exc:  # onnx raises DecodeError and others for a file that is not ONNX; named here
        raise ClassifierError(f"{path}: not a readable ONNX file ({exc})") from exc
    if ONNX_META_KEY not in meta:
        return None
    try:
        return ClassifierSpec.from_dict(json.loads(meta[ONNX_META_KEY]))
    except (ValueError, TypeError) as exc:
        raise ClassifierError(f"{path}: its classifier metadata is not a valid spec ({exc})") from exc


def find_classifier(model: str | Path) -> tuple[ClassifierSpec, Path]:
    """The spec and weights path of the classifier named by a run folder, its JSON or its weights.

    Raises:
        ClassifierError: no such files, or not a classifier's spec.
    """
    path = Path(model).expanduser()
    spec_path = _spec_path(path)
    if spec_path is None or not spec_path.is_file() or not (spec_path.parent / WEIGHTS_NAME).is_file():
        raise ClassifierError(
            f"{path}: not a trained classifier (a folder with {SPEC_NAME} and {WEIGHTS_NAME}, which "
            "`cutkit train classify` writes when its training ends)"
        )
    return read_spec(spec_path), spec_path.parent / WEIGHTS_NAME


def read_spec(spec_path: Path) -> ClassifierSpec:
    """Parse a classifier's ``model.json``."""
    try:
        data = json.loads(spec_path.read_text())
    except ValueError as exc:
        raise ClassifierError(f"{spec_path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ClassifierError(
            f'{spec_path}: not a classifier\'s spec (no "format": "{FORMAT}"; a segmentation model is '
            "used with `cutkit remove`)"
        )
    try:
        return ClassifierSpec.from_dict(data)
    except TypeError as exc:
        raise ClassifierError(f"{spec_path}: not a valid classifier spec ({exc})") from exc


def load_classifier(model: str | Path) -> tuple[nn.Module, ClassifierSpec]:
    """The network (in eval mode, on the CPU) and spec of a trained classifier.

    Raises:
        ClassifierError: ``model`` is not a classifier, or its weights do not fit its architecture.
    """
    from cutkit.nets import build_net
    from cutkit.zoo.checkpoint import CheckpointError, load_weights

    spec, weights = find_classifier(model)
    net = build_net(spec.arch, **spec.arch_kwargs)
    try:
        if spec.pruned and spec.pruned.get("method") == "channel":
            _narrow(net, weights)
        load_weights(net, weights)
    except CheckpointError as exc:  # its message names the file
        raise ClassifierError(str(exc)) from exc
    except ValueError as exc:  # a pruned layer that cannot be resized
        raise ClassifierError(f"{weights}: {exc}") from exc
    return net.eval(), spec


def _narrow(net: nn.Module, weights: Path) -> None:
    """Resize the layers of a freshly built network to a channel-pruned network's narrower weights."""
    from cutkit.compress.reshape import fit_to_state_dict
    from cutkit.zoo.checkpoint import read_state_dict

    fit_to_state_dict(net, read_state_dict(weights))


def _spec_path(path: Path) -> Path | None:
    if path.is_dir():
        return path / SPEC_NAME
    if path.name in (SPEC_NAME, WEIGHTS_NAME):
        return path.parent / SPEC_NAME
    return None
