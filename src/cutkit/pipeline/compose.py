"""Alpha + photo → cutout: transparent, over a colour, an image or the blurred photo; cropped if asked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageColor

from cutkit.io.paths import IMAGE_SUFFIXES
from cutkit.pipeline.blur import BlurBackground
from cutkit.pipeline.crop import subject_box


@dataclass(frozen=True)
class ImageBackground:
    """A background picture, scaled to cover the photo and centre-cropped."""

    image: Image.Image

    def render(self, size_wh: tuple[int, int]) -> np.ndarray:
        w, h = size_wh
        bw, bh = self.image.size
        scale = max(w / bw, h / bh)
        sw, sh = max(w, round(bw * scale)), max(h, round(bh * scale))
        big = self.image.convert("RGB").resize((sw, sh), Image.Resampling.BILINEAR)
        left, top = (sw - w) // 2, (sh - h) // 2
        return np.asarray(big.crop((left, top, left + w, top + h)), dtype=np.float32)


def parse_background(value: Any) -> tuple[int, int, int, int] | ImageBackground | BlurBackground:
    """A colour as RGBA, an :class:`ImageBackground` for an image path / PIL image / array, or ``blur``."""
    if isinstance(value, (ImageBackground, BlurBackground)):
        return value
    if isinstance(value, Image.Image):
        return ImageBackground(value)
    if isinstance(value, np.ndarray):
        from cutkit.io.image import open_image

        return ImageBackground(open_image(value))
    if isinstance(value, (tuple, list)):
        return _rgba(tuple(int(v) for v in value))
    text = str(value).strip()
    if text.lower() == "blur":
        return BlurBackground()
    if "," in text:
        return _rgba(tuple(int(v) for v in text.split(",")))
    if Path(text).suffix.lower() in IMAGE_SUFFIXES:
        if not Path(text).is_file():
            raise ValueError(f"background image {text}: file not found")
        from cutkit.io.image import open_image

        return ImageBackground(open_image(text))
    try:
        return _rgba(ImageColor.getrgb(text))
    except ValueError:
        raise ValueError(f"'{text}' is neither a colour (name, #hex, r,g,b[,a]) nor an image file") from None


def _rgba(values: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(values) not in (3, 4) or not all(0 <= v <= 255 for v in values):
        raise ValueError(f"a colour needs 3 or 4 values in 0..255, got {values}")
    return (*values, 255)[:4] if len(values) == 3 else values  # type: ignore[return-value]


def compose(
    rgb: np.ndarray,
    alpha: np.ndarray,
    bg: Any = None,
    mask_only: bool = False,
    *,
    blur_sigma: float | None = None,
    foreground: np.ndarray | None = None,
) -> Image.Image:
    """Build the output image.

    Args:
        rgb: ``HxWx3`` uint8 photo.
        alpha: ``HxW`` uint8 alpha.
        bg: ``None`` (transparent RGBA), an RGBA colour tuple, an :class:`ImageBackground` or a
            :class:`BlurBackground`.
        mask_only: return the alpha alone as a greyscale image.
        blur_sigma: the blur of a :class:`BlurBackground`, in percent of the photo's longer side.
        foreground: ``HxWx3`` uint8 colours of the subject to use instead of the photo's
            (:func:`cutkit.matting.foreground.decontaminate`); backgrounds made from the photo (blur)
            still use ``rgb``.
    """
    fg = rgb if foreground is None else foreground
    if mask_only:
        return Image.fromarray(alpha)
    if bg is None:
        return Image.fromarray(np.dstack([fg, alpha]))
    a = alpha.astype(np.float32)[..., None] / 255.0
    if isinstance(bg, ImageBackground):
        back, back_alpha = bg.render((rgb.shape[1], rgb.shape[0])), None
    elif isinstance(bg, BlurBackground):
        if blur_sigma is None:
            raise ValueError("bg 'blur' needs blur_sigma (percent of the photo's longer side)")
        back, back_alpha = bg.render(rgb, alpha, blur_sigma), None
    else:
        back, back_alpha = np.asarray(bg[:3], np.float32), bg[3]
    out = fg.astype(np.float32) * a + back * (1.0 - a)
    out8 = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if back_alpha is None or back_alpha == 255:
        return Image.fromarray(out8)
    out_alpha = np.clip(alpha + (255 - alpha.astype(np.float32)) * back_alpha / 255.0 + 0.5, 0, 255)
    return Image.fromarray(np.dstack([out8, out_alpha.astype(np.uint8)]))


def compose_output(rgb: np.ndarray, alpha: np.ndarray, options: Any) -> Image.Image:
    """The output that ``options`` (a :class:`cutkit.options.RemoveOptions`) ask for: composed, then cropped.

    Raises:
        cutkit.pipeline.crop.EmptySubjectError: ``crop`` is on and the alpha holds no subject.
    """
    out = compose(
        rgb,
        alpha,
        options.bg,
        mask_only=options.mask,
        blur_sigma=options.blur_sigma,
        foreground=_foreground(rgb, alpha, options),
    )
    return out.crop(subject_box(alpha, options.margin)) if options.crop else out


def _foreground(rgb: np.ndarray, alpha: np.ndarray, options: Any) -> np.ndarray | None:
    """The subject's colours with its soft edges decontaminated, unless turned off or only the mask is due.

    Used for every kind of output: over a new background (colour, image, blur) the photo's own mixed
    edge colours would carry the old background into it as a halo, just as a transparent cutout would.
    """
    if not options.decontaminate or options.mask:
        return None
    from cutkit.matting.foreground import decontaminate

    return decontaminate(rgb, alpha)


def output_has_alpha(bg: Any, mask_only: bool) -> bool:
    """Whether :func:`compose` returns an image with transparency (which JPEG cannot hold)."""
    if mask_only or isinstance(bg, (ImageBackground, BlurBackground)):
        return False
    return bg is None or bg[3] < 255
