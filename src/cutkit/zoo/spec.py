"""A named model as data: architecture, preprocessing, output, weights file and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Activation = Literal["identity", "sigmoid", "softmax"]


@dataclass(frozen=True, kw_only=True)
class WeightsFile:
    """Where a weight file comes from and how to check it.

    Attributes:
        filename: the name it has in the cache (``$CUTKIT_HOME``) and on disk.
        urls: download locations, tried in order.
        sha256: hex digest to verify (preferred).
        md5: hex digest to verify where only an md5 is published.
        size: size in bytes where known (shown in listings, checked after download).
        bundled: the file ships inside the package (``cutkit/zoo/bundled/``): found without a cache or a
            download, so the model works offline on a fresh install.
    """

    filename: str
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    bundled: bool = False


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """One named model of the zoo.

    Pixels are mapped as ``x = (pixel / 255 - mean) / std`` per channel in ``channel_order``.

    Attributes:
        name: the public name (``--model NAME``).
        arch: registered architecture (``cutkit.nets``), or ``"onnx"`` for an ONNX-only model.
        arch_kwargs: constructor keywords for ``arch``.
        input_size: ``(height, width)`` the network runs at.
        mean: per-channel mean, in ``channel_order``.
        std: per-channel std, in ``channel_order``.
        channel_order: ``"RGB"`` or ``"BGR"``.
        output: index path into the network's return value to reach the prediction map.
        activation: what turns that map into a probability (``softmax`` takes channel ``fg_channel``).
        fg_channel: the foreground channel of a multi-channel output.
        weights: the weight file.
        licence: the weights' licence.
        description: one line for ``cutkit models``.
        task: what it segments: ``general``, ``portrait`` or ``human``.
        size_multiple: H and W must be multiples of this.
    """

    name: str
    arch: str
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    input_size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    channel_order: Literal["RGB", "BGR"] = "RGB"
    output: tuple[int, ...] = ()
    activation: Activation = "identity"
    fg_channel: int = 0
    weights: WeightsFile
    licence: str
    description: str = ""
    task: str = "general"
    size_multiple: int = 1

    def __post_init__(self) -> None:
        for h_or_w in self.input_size:
            if h_or_w % self.size_multiple:
                raise ValueError(
                    f"model '{self.name}': input size {self.input_size} is not a multiple of "
                    f"{self.size_multiple}"
                )
