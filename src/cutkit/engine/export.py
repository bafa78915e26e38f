"""Export to ONNX (dynamic batch/height/width), optionally int8-quantized with calibration images."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from cutkit.zoo.spec import ModelSpec

META_SPEC = "cutkit_spec"
META_OUTPUT = "cutkit_output"  # "probability": the file already applies output selection + activation


def export_onnx(spec: ModelSpec, weights: Path, out: Path, *, opset: int = 17, dynamic: bool = True) -> Path:
    """Export ``spec`` with ``weights`` to ``out``; the file carries the spec in its metadata.

    Args:
        spec: the model (a PyTorch architecture of the zoo).
        weights: the weight file to load.
        out: the ``.onnx`` path to write (atomically).
        opset: ONNX opset.
        dynamic: make batch, height and width dynamic (else fixed at the spec's input size).
    """
    import torch

    from cutkit.engine.predictor import Predictor, flush_subnormals
    from cutkit.nets import build_net
    from cutkit.zoo.checkpoint import load_weights

    if spec.arch == "onnx":
        raise ValueError(f"model '{spec.name}' is already an ONNX file: nothing to export")
    net = load_weights(build_net(spec.arch, **spec.arch_kwargs), weights)
    module = flush_subnormals(Predictor.for_spec(net, spec).eval())  # fast on CPU in ONNX Runtime too
    dummy = torch.zeros(1, 3, *spec.input_size)
    axes = {"input": {0: "batch", 2: "height", 3: "width"}, "prob": {0: "batch", 2: "height", 3: "width"}}
    tmp = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notices
        torch.onnx.export(
            module,
            (dummy,),
            str(tmp),
            dynamo=False,
            opset_version=opset,
            input_names=["input"],
            output_names=["prob"],
            dynamic_axes=axes if dynamic else None,
        )
    _write_metadata(tmp, spec)
    tmp.replace(out)
    return out


def _write_metadata(path: Path, spec: ModelSpec) -> None:
    import onnx

    from cutkit.zoo.registry import spec_to_json

    model = onnx.load(str(path))
    for key, value in ((META_SPEC, spec_to_json(spec)), (META_OUTPUT, "probability")):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))


def read_metadata(path: Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file (without loading its weights)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def quantize_int8(fp32: Path, out: Path, spec: ModelSpec, calib_dir: Path, *, max_images: int = 32) -> Path:
    """Static int8 quantization of a segmentation network, calibrated on the images in ``calib_dir``.

    See :func:`quantize_onnx_int8` for what is quantized and why.
    """
    images = _calibration_images(calib_dir, max_images)
    return quantize_onnx_int8(fp32, out, (x[None] for x in _calib_inputs(images, spec)))


def quantize_onnx_int8(fp32: Path, out: Path, batches: Iterable[np.ndarray]) -> Path:
    """Static int8 quantization (QDQ, per-channel weights) of an ONNX file with one input named ``input``.

    Only dense convolutions (and matrix products) are quantized. Quantizing every op also quantized
    BatchNorm scales per tensor and the small-range Add/Mul/Concat paths, and grouped (depthwise)
    convolutions lose the most under per-tensor activation ranges while holding little of the compute.
    Measured against fp32 on people-mini, 12 hard photos: SINet mean |dp| 0.057 → 0.023, mask IoU
    0.61 → 0.81; ExtremeC3 0.039 → 0.021, 0.74 → 0.86; 12 clear photos: SINet 0.009 → 0.004 (IoU ≥ 0.97).

    Args:
        fp32: the float ONNX file; its metadata is copied to ``out``.
        out: the int8 file, written through a temporary file.
        batches: preprocessed input batches ``(n, C, H, W)`` whose activation ranges are recorded.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it: Iterator[np.ndarray] = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._it, None)
            return None if batch is None else {"input": np.ascontiguousarray(batch, dtype=np.float32)}

    tmp = out.with_name(out.name + ".part")
    quantize_static(
        str(fp32),
        str(tmp),
        _Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["Conv", "ConvTranspose", "MatMul", "Gemm"],
        nodes_to_exclude=_grouped_convs(fp32),
    )
    _copy_metadata(fp32, tmp)
    tmp.replace(out)
    return out


def _grouped_convs(path: Path) -> list[str]:
    """Names of the grouped (e.g. depthwise) convolutions of an ONNX file."""
    import onnx

    graph = onnx.load(str(path)).graph
    return [
        n.name
        for n in graph.node
        if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
    ]


def _copy_metadata(src: Path, dst: Path) -> None:
    import onnx

    meta = read_metadata(src)
    model = onnx.load(str(dst))
    present = {p.key for p in model.metadata_props}
    for key, value in meta.items():
        if key not in present:
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.save(model, str(dst))


def _calibration_images(calib_dir: Path, max_images: int) -> list[Path]:
    from cutkit.io.paths import list_images

    if not calib_dir.is_dir():
        raise ValueError(f"{calib_dir}: calibration folder not found")
    images = list_images(calib_dir)[:max_images]
    if not images:
        raise ValueError(f"{calib_dir}: no images to calibrate int8 quantization on")
    return images


def _calib_inputs(images: list[Path], spec: ModelSpec) -> Iterator[np.ndarray]:
    from cutkit.io.image import open_image, to_rgb_array
    from cutkit.options import OPTIONS_BY_NAME
    from cutkit.pipeline.preprocess import to_input

    mode = OPTIONS_BY_NAME["resize"].default  # calibrate on inputs placed as a removal places them
    for path in images:
        yield to_input(to_rgb_array(open_image(path)), spec, mode)
