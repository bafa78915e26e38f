"""A classifier in ONNX, fp32 or int8 (static post-training quantization calibrated on its own data).

The file takes the normalised ``NCHW`` input (``input``) and returns the logits (``logits``); its metadata
``cutkit_classifier`` holds the classifier's spec (classes, size, channels, mean, std), so the file alone is
enough to run it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cutkit.zoo.classifier import ONNX_META_KEY as META_CLASSIFIER

if TYPE_CHECKING:
    from torch import nn

    from cutkit.zoo.classifier import ClassifierSpec


def export_classifier_onnx(
    net: nn.Module, spec: ClassifierSpec, out: Path, *, opset: int = 17, dynamic: bool = True
) -> Path:
    """Write ``net`` as ONNX to ``out`` (atomically), with ``spec`` in its metadata.

    Args:
        net: the classifier (a channel-pruned one exports as the narrower network it is).
        spec: its spec.
        out: the ``.onnx`` path.
        opset: ONNX opset.
        dynamic: a dynamic batch axis (else batch 1).
    """
    import torch

    from cutkit.compress.magnitude import make_permanent

    make_permanent(net)  # masks (from an unfinished magnitude pruning) are not exportable, their product is
    dummy = torch.zeros(1, spec.in_channels, *spec.input_size)
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        torch.onnx.export(
            net.eval(), (dummy,), str(tmp), dynamo=False, opset_version=opset, input_names=["input"],
            output_names=["logits"], dynamic_axes=axes,
        )  # fmt: skip
    _set_metadata(tmp, {META_CLASSIFIER: json.dumps(spec.to_dict())})
    tmp.replace(out)
    return out


def quantize_classifier_int8(fp32: Path, out: Path, calibration: Iterable[np.ndarray]) -> Path:
    """Static int8 quantization of an exported classifier (:func:`cutkit.engine.export.quantize_onnx_int8`).

    Args:
        fp32: the file :func:`export_classifier_onnx` wrote; its classifier metadata is kept.
        out: the int8 ``.onnx`` path.
        calibration: normalised input batches ``(n, C, H, W)`` float32 whose activation ranges are recorded.
    """
    from cutkit.engine.export import quantize_onnx_int8

    return quantize_onnx_int8(fp32, out, calibration)


def calibration_batches(
    spec: ClassifierSpec, data: str | Path, *, count: int = 256, batch: int = 32, seed: int = 0
) -> Iterator[np.ndarray]:
    """Normalised input batches of ``count`` training images of ``data`` drawn at random (seeded).

    Args:
        spec: the classifier (size, channels, normalisation).
        data: a classification source (see :func:`cutkit.data.classify.open_classification`), train split.
        count: images to calibrate on (all of them when the set is smaller).
        batch: images per yielded batch.
        seed: which images.
    """
    from cutkit.data.classify import open_classification

    dataset = open_classification(str(data), "train")
    if len(dataset) == 0:
        raise ValueError(f"{data}: no images to calibrate int8 quantization on")
    order = np.random.default_rng(seed).permutation(len(dataset))[:count]
    for start in range(0, len(order), batch):
        yield preprocess([dataset.image(int(i)) for i in order[start : start + batch]], spec)


def preprocess(images: list[np.ndarray], spec: ClassifierSpec) -> np.ndarray:
    """uint8 images → the float32 ``NCHW`` input the exported file takes, as :mod:`cutkit.engine.classify`
    prepares it for the torch network."""
    import torch

    from cutkit.engine.classify import fit_image, to_input

    fitted = np.stack([fit_image(im, size=spec.input_size, channels=spec.in_channels) for im in images])
    return to_input(torch.from_numpy(fitted), spec.mean, spec.std, "cpu").numpy().astype(np.float32)


def _set_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    present = {p.key: p for p in model.metadata_props}
    for key, value in meta.items():
        entry = present[key] if key in present else model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
