"""Running a trained classifier: images → the network's input → class probabilities and top-k labels.

Training uses the same two steps (:func:`fit_image` on each sample, :func:`to_input` on the batch), so a model
sees at inference exactly the pixels it was trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn

    from cutkit.zoo.classifier import ClassifierSpec


def fit_image(image: np.ndarray, *, size: tuple[int, int], channels: int) -> np.ndarray:
    """``image`` (HxW grey, HxWx3 RGB or HxWx4 RGBA, uint8) as ``size`` (h, w) × ``channels`` uint8 HxWxC.

    The same conversion (OpenCV's luma for grey) and resize (area when shrinking, bilinear when growing) as
    training's :func:`~cutkit.data.classify.base.convert_channels` and
    :class:`~cutkit.data.classify.transforms.Resize`; RGBA is composited over white first.
    """
    from cutkit.data.classify.base import convert_channels
    from cutkit.data.classify.transforms import Resize

    bad_shape = image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4))
    if image.dtype != np.uint8 or bad_shape:
        raise ValueError(f"expected an HxW, HxWx3 or HxWx4 uint8 image, got {image.dtype} {image.shape}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    elif image.ndim == 3 and image.shape[2] == 4:
        from PIL import Image

        from cutkit.io.image import to_rgb_array

        image = to_rgb_array(Image.fromarray(image, "RGBA"))
    image = convert_channels(image, channels)
    out = Resize(size=tuple(size))({"image": image}, np.random.default_rng(0))["image"]
    return out[..., None] if out.ndim == 2 else out


def to_unit(batch: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """A uint8 NHWC batch → float NCHW in [0, 1] on ``device`` (mixup and cutmix mix here)."""
    return batch.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``(x - mean) / std`` per channel of a float NCHW batch in [0, 1]."""
    import torch

    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s


def to_input(
    batch: torch.Tensor, mean: Sequence[float], std: Sequence[float], device: torch.device | str
) -> torch.Tensor:
    """A uint8 NHWC batch → the normalised float NCHW tensor the network takes, on ``device``."""
    return normalize(to_unit(batch, device), mean, std).contiguous()


def read_image(path: str | Path) -> np.ndarray:
    """An image file as HxWx3 uint8 RGB (EXIF orientation applied); a bad file raises ``ImageError``."""
    from cutkit.io.image import open_image, to_rgb_array

    return to_rgb_array(open_image(path))


class Classifier:
    """A trained classifier ready to label images.

    Args:
        net: the network (put in eval mode and moved to ``device``).
        spec: its spec (classes, input size, channels, normalisation).
        device: where it runs.
    """

    def __init__(self, *, net: nn.Module, spec: ClassifierSpec, device: str = "cpu") -> None:
        self.net = net.eval().to(device)
        self.spec, self.device = spec, device

    @classmethod
    def from_run(cls, model: str | Path, *, device: str = "cpu") -> Classifier:
        """Load a run folder, its ``model.json`` or ``model.safetensors``, or its exported ``.onnx`` file
        (an :class:`OnnxClassifier`, fp32 or int8)."""
        from cutkit.zoo.classifier import ClassifierError, load_classifier, onnx_classifier_spec

        if Path(model).suffix.lower() == ".onnx":
            spec = onnx_classifier_spec(model)
            if spec is None:
                raise ClassifierError(
                    f"{model}: an ONNX file without cutkit's classifier metadata; export a classification "
                    "run with `cutkit export RUN -o model.onnx [--int8]`"
                )
            return OnnxClassifier(path=Path(model), spec=spec, device=device)
        net, spec = load_classifier(model)
        return cls(net=net, spec=spec, device=device)

    def batch(self, images: Sequence[Any]) -> torch.Tensor:
        """uint8 NHWC of ``images`` (arrays or file paths), fitted to the model's size and channels."""
        import torch

        arrays = [read_image(im) if isinstance(im, (str, Path)) else np.asarray(im) for im in images]
        fitted = [fit_image(a, size=self.spec.input_size, channels=self.spec.in_channels) for a in arrays]
        return torch.from_numpy(np.stack(fitted))

    def logits(self, images: Sequence[Any]) -> torch.Tensor:
        """The network's raw scores for ``images``, ``N x classes`` float on the CPU."""
        import torch

        x = to_input(self.batch(images), self.spec.mean, self.spec.std, self.device)
        with torch.inference_mode():
            return self.net(x).float().cpu()

    def predict(self, images: Sequence[Any], *, top_k: int = 5) -> list[list[tuple[str, float]]]:
        """The ``top_k`` most probable classes of each image, as ``(name, probability)``, best first."""
        import torch

        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        probs = torch.softmax(self.logits(images), dim=1)
        values, indices = probs.topk(min(top_k, probs.shape[1]), dim=1)
        return [
            [(self.spec.classes[i], float(p)) for p, i in zip(row_p, row_i, strict=True)]
            for row_p, row_i in zip(values.tolist(), indices.tolist(), strict=True)
        ]


class OnnxClassifier(Classifier):
    """A classifier exported by ``cutkit export RUN`` (fp32 or int8), run by ONNX Runtime.

    It labels images as :class:`Classifier` does, from the same input; it has no PyTorch network (``net`` is
    None), so what needs gradients (``cutkit explain``) or weights (``prune``) takes the run folder instead.
    """

    def __init__(self, *, path: Path, spec: ClassifierSpec, device: str = "cpu") -> None:
        import onnxruntime as ort

        from cutkit.engine.onnx_engine import providers

        self.session = ort.InferenceSession(str(path), providers=providers(device, ort))
        self.net, self.spec, self.device, self.path = None, spec, "cpu", path
        batch_dim = self.session.get_inputs()[0].shape[0]
        self.fixed_batch = batch_dim if isinstance(batch_dim, int) else None

    def logits(self, images: Sequence[Any]) -> torch.Tensor:
        import torch

        x = to_input(self.batch(images), self.spec.mean, self.spec.std, "cpu").numpy()
        step = self.fixed_batch or len(x)
        out = [self.session.run(["logits"], {"input": x[i : i + step]})[0] for i in range(0, len(x), step)]
        return torch.from_numpy(np.concatenate(out)).float()
