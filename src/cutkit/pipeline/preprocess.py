"""Photo → network input, following the model's own preprocessing (its spec)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from cutkit.zoo.spec import ModelSpec


def resize(rgb: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize ``HxWxC`` to ``size_hw``: area averaging when shrinking (no aliasing), bilinear when growing."""
    h, w = size_hw
    shrink = h * w < rgb.shape[0] * rgb.shape[1]
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def normalise(rgb: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """``HxWx3`` uint8 RGB at network size → ``3xHxW`` float32, as ``(pixel/255 - mean) / std``."""
    x = rgb.astype(np.float32) * np.float32(1 / 255)
    if spec.channel_order == "BGR":
        x = x[..., ::-1]
    x = (x - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where the resized photo lies in the network's input, so its prediction can be cut out again.

    Attributes:
        top: first row of the photo in the input.
        left: first column of the photo in the input.
        height: rows the photo covers.
        width: columns the photo covers.
    """

    top: int
    left: int
    height: int
    width: int

    def crop(self, prob: np.ndarray) -> np.ndarray:
        """The part of a network-sized map that covers the photo (the padding cut off)."""
        return prob[self.top : self.top + self.height, self.left : self.left + self.width]


def place(photo_hw: tuple[int, int], input_hw: tuple[int, int], mode: str) -> Placement:
    """Where a ``photo_hw`` photo goes in an ``input_hw`` input.

    ``squash`` stretches it over the whole input. ``pad`` scales its long side to fit, keeping the aspect
    ratio, and centres it (letterbox): the rest is padding.
    """
    (h, w), (height, width) = photo_hw, input_hw
    if mode == "squash":
        return Placement(top=0, left=0, height=height, width=width)
    if mode != "pad":
        raise ValueError(f"resize mode '{mode}' is not one of pad, squash")
    scale = min(height / h, width / w)
    nh, nw = min(height, max(1, round(h * scale))), min(width, max(1, round(w * scale)))
    return Placement(top=(height - nh) // 2, left=(width - nw) // 2, height=nh, width=nw)


def to_input(rgb: np.ndarray, spec: ModelSpec, mode: str) -> np.ndarray:
    """One photo → ``3xHxW`` float32 at the model's input size, placed as :func:`place` says.

    ``pad`` fills the padding by repeating the photo's border pixels. A flat fill (the mean colour, 0
    after normalisation) draws a hard rectangle around the photo, and a salient-object network takes the
    whole photo for the object: the mean-colour padding's MAE is a multiple of the border's
    (``benchmarks/quality.py``, docs/quality.md).
    """
    at = place(rgb.shape[:2], spec.input_size, mode)
    (height, width), small = spec.input_size, resize(rgb, (at.height, at.width))
    bottom, right = height - at.top - at.height, width - at.left - at.width
    padded = cv2.copyMakeBorder(small, at.top, bottom, at.left, right, cv2.BORDER_REPLICATE)
    return normalise(padded, spec)
