"""Running an ONNX model with ONNX Runtime (CPU provider; CUDA provider when asked and present)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cutkit.engine.device import DeviceError
from cutkit.zoo.spec import ModelSpec


class OnnxEngine:
    """An ONNX Runtime session; ``predict`` maps a float32 NCHW batch to NxHxW probabilities.

    Files exported by cutkit already output probabilities; rembg's files output the raw first map, so
    the spec's activation is applied here.
    """

    name = "onnx"

    def __init__(
        self,
        spec: ModelSpec,
        path: Path,
        *,
        device: str = "cpu",
        threads: int | None = None,
        raw_outputs: bool = True,
    ) -> None:
        import onnxruntime as ort

        self.spec = spec
        self.raw_outputs = raw_outputs
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=providers(device, ort))
        self.input_name = self.session.get_inputs()[0].name
        self.fixed_batch = _fixed_batch(self.session)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if self.fixed_batch is not None and batch.shape[0] != self.fixed_batch:
            return np.concatenate([self.predict(batch[i : i + 1]) for i in range(batch.shape[0])])
        out = self.session.run(None, {self.input_name: batch.astype(np.float32, copy=False)})[0]
        return self._probability(out)

    def _probability(self, out: np.ndarray) -> np.ndarray:
        if not self.raw_outputs:
            return out[:, 0]
        c = self.spec.fg_channel
        if self.spec.activation == "softmax":
            e = np.exp(out - out.max(axis=1, keepdims=True))
            return (e[:, c] / e.sum(axis=1)).astype(np.float32)
        if self.spec.activation == "sigmoid":
            return (1.0 / (1.0 + np.exp(-out[:, c]))).astype(np.float32)
        return out[:, c].astype(np.float32)


def providers(device: str, ort: object) -> list[str]:
    """ONNX Runtime's providers for ``device`` (auto, cpu, cuda[:N]); CUDA asked for and absent raises."""
    available = ort.get_available_providers()  # type: ignore[attr-defined]
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto":
        return ["CPUExecutionProvider"]
    raise DeviceError(
        f"device '{device}' requested, but this onnxruntime has no CUDA provider "
        f"(available: {', '.join(available)}); install onnxruntime-gpu or use --device cpu"
    )


def _fixed_batch(session: object) -> int | None:
    dim = session.get_inputs()[0].shape[0]  # type: ignore[attr-defined]
    return dim if isinstance(dim, int) else None
