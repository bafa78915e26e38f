"""The Python API: ``cutkit.remove(data, **options)`` and ``cutkit.Remover``."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from cutkit import options as opt
from cutkit._util.iters import batched
from cutkit.io.icc import rgb_profile, with_profile
from cutkit.io.image import encode, open_image, to_rgb_array
from cutkit.pipeline.compose import compose_output
from cutkit.pipeline.postprocess import clean_mask, resize_map, to_alpha
from cutkit.pipeline.preprocess import place, to_input

if TYPE_CHECKING:
    from cutkit.zoo.spec import ModelSpec


class Remover:
    """A loaded background remover: the model is loaded once and reused for every image.

    Args:
        model: a zoo name or an ``.onnx`` path (default: the zoo's default model).
        **options: any option of :data:`cutkit.options.REMOVE_OPTIONS` (rembg's names too). Model
            options choose what is loaded; output options become this remover's defaults.
    """

    def __init__(self, model: str | None = None, **options: Any) -> None:
        from cutkit.engine.session import load_session

        self.options = opt.resolve(options, model=model)
        self.session = load_session(**self.options.group("model"), progress=False)

    @property
    def spec(self) -> ModelSpec:
        """The loaded model's spec (preprocessing, output, provenance)."""
        return self.session.spec

    def remove(self, data: Any, **overrides: Any) -> Any:
        """Remove the background of one image; returns the same kind as given (see :func:`remove`)."""
        o = self._output_options(overrides)
        img = open_image(data, max_pixels=o.max_pixels)
        rgb = to_rgb_array(img)
        out = with_profile(compose_output(rgb, self.alpha_batch([rgb], o)[0], o), rgb_profile(img))
        return _same_kind(data, out, o)

    def remove_many(self, images: Iterable[Any], **overrides: Any) -> Iterator[Image.Image]:
        """Remove backgrounds of many images, ``batch_size`` at a time; yields PIL images in order."""
        o = self._output_options(overrides)
        opened = (open_image(data, max_pixels=o.max_pixels) for data in images)
        decoded = ((to_rgb_array(img), rgb_profile(img)) for img in opened)  # each photo with its ICC profile
        for batch in batched(decoded, o.batch_size):
            yield from self._compose_all(batch, o)

    def alpha_batch(self, rgbs: list[np.ndarray], o: opt.RemoveOptions | None = None) -> list[np.ndarray]:
        """The uint8 alpha of each ``HxWx3`` photo, the network run ``batch_size`` photos at a time."""
        o = o or self.options
        alphas: list[np.ndarray] = []
        for start in range(0, len(rgbs), o.batch_size):
            chunk = rgbs[start : start + o.batch_size]
            probs = self.session.engine.predict(np.stack([to_input(r, self.spec, o.resize) for r in chunk]))
            alphas += [self._finish(r, p, o) for r, p in zip(chunk, probs, strict=True)]
        return alphas

    def _finish(self, rgb: np.ndarray, prob: np.ndarray, o: opt.RemoveOptions) -> np.ndarray:
        alpha = self._to_alpha(rgb, prob, o)
        if o.post_process:
            alpha = clean_mask(alpha)
        if o.matting:
            from cutkit.matting.refine import refine_alpha

            alpha = refine_alpha(
                rgb,
                alpha,
                band=o.matting_band,
                erode=o.matting_erode,
                fg_threshold=o.matting_fg_threshold,
                bg_threshold=o.matting_bg_threshold,
                solver=o.matting_solver,
                max_side=o.matting_max_side,
            )
        return alpha

    def _to_alpha(self, rgb: np.ndarray, prob: np.ndarray, o: opt.RemoveOptions) -> np.ndarray:
        """The network's map → alpha at the photo's size: the padding cut off, then upsampled."""
        if prob.shape != tuple(self.spec.input_size):  # a network whose output is smaller than its input
            prob = resize_map(prob, self.spec.input_size)
        photo_part = place(rgb.shape[:2], self.spec.input_size, o.resize).crop(prob)
        return to_alpha(photo_part, rgb.shape[:2], guide=rgb if o.upsample == "guided" else None)

    def _compose_all(
        self, batch: list[tuple[np.ndarray, bytes | None]], o: opt.RemoveOptions
    ) -> Iterator[Image.Image]:
        alphas = self.alpha_batch([rgb for rgb, _ in batch], o)
        for (rgb, icc), alpha in zip(batch, alphas, strict=True):
            yield with_profile(compose_output(rgb, alpha, o), icc)

    def _output_options(self, overrides: dict[str, Any]) -> opt.RemoveOptions:
        o = self.options.replace(**overrides) if overrides else self.options
        changed = [k for k, v in o.group("model").items() if v != self.options.values[k]]
        if changed:
            raise ValueError(f"options {', '.join(changed)} choose the model: make a new Remover for them")
        return o


def _same_kind(data: Any, out: Image.Image, o: opt.RemoveOptions) -> Any:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return encode(out, o.format or "png", o.quality)
    if isinstance(data, np.ndarray):
        return np.asarray(out)
    return out  # PIL in → PIL out; a path in → a PIL image (write it with .save or use `cutkit remove`)


_REMOVERS: OrderedDict[tuple[Any, ...], Remover] = OrderedDict()
_MAX_REMOVERS = 2


def remove(data: Any, *, session: Remover | None = None, **options: Any) -> Any:
    """Remove the background of ``data``: a path, bytes, a PIL image or an ndarray.

    Returns the same kind: bytes → encoded bytes (PNG unless ``format``), PIL → PIL, ndarray → ndarray
    (HxWx4 RGBA, HxW with ``mask=True``, HxWx3 over an opaque ``bg``); a path gives a PIL image.
    Removers are cached per model, so repeated calls do not reload the network; pass ``session=`` (a
    :class:`Remover`) to choose one explicitly, as with ``rembg.remove``.
    """
    if session is not None:
        return session.remove(data, **options)
    resolved = opt.resolve(options)
    key = (*resolved.model_key(), _file_state(resolved.model), _file_state(resolved.weights))
    if key not in _REMOVERS:
        _REMOVERS[key] = Remover(**resolved.group("model"))
        while len(_REMOVERS) > _MAX_REMOVERS:
            _REMOVERS.popitem(last=False)
    _REMOVERS.move_to_end(key)
    return _REMOVERS[key].remove(data, **resolved.group("output"))


def _file_state(path: str | None) -> tuple[int, int] | None:
    """Size and mtime of a model given by path, so a re-trained or re-exported model is reloaded."""
    from pathlib import Path

    if not path:
        return None
    p = Path(path).expanduser()
    target = p / "model.safetensors" if p.is_dir() else p
    if not target.is_file():
        return None
    stat = target.stat()
    return stat.st_size, stat.st_mtime_ns


def new_session(model: str | None = None, **options: Any) -> Remover:
    """rembg-style alias: ``new_session("u2netp")`` returns a :class:`Remover`."""
    return Remover(model, **options)


__all__ = ["Remover", "new_session", "remove"]
