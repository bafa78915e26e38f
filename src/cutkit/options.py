"""Every user-facing option of a removal, declared once.

The CLI (``cutkit remove``), the Python API (``cutkit.remove``/``cutkit.Remover``) and the HTTP API are
all derived from :data:`REMOVE_OPTIONS`; no default is written anywhere else.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cutkit._util.suggest import did_you_mean

_MISSING = object()


@dataclass(frozen=True, kw_only=True)
class Option:
    """One option: its name, parser, default, bounds, help and the names it is known by.

    Attributes:
        name: the Python keyword (``batch_size``); the CLI flag is ``--batch-size``.
        parse: turns a string (CLI, HTTP form) or a Python value into the option's value.
        default: the value when not given; ``None`` means "the model's own" where that applies.
        help: one line for ``--help`` and the API docs.
        choices: the allowed values, if a closed set.
        minimum: the smallest allowed number, if any.
        maximum: the largest allowed number, if any.
        aliases: other keyword names accepted from Python (rembg's names).
        short: a one-letter CLI flag, if any.
        group: ``model`` options choose the session (model, weights, engine, ...); ``output`` options
            shape each result and may change from call to call.
        flag: a boolean switch (``--mask``) rather than a valued option.
    """

    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    aliases: tuple[str, ...] = ()
    short: str | None = None
    group: str = "output"
    flag: bool = False

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def validate(self, value: Any) -> Any:
        """Parse and check ``value``; raise ``ValueError`` naming the option on a bad one."""
        if value is None:
            return None
        try:
            parsed = self.parse(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"option '{self.name}': {exc}") from exc
        if self.choices is not None and parsed not in self.choices:
            raise ValueError(
                f"option '{self.name}': '{value}' is not one of {', '.join(map(str, self.choices))}"
            )
        if self.minimum is not None and parsed < self.minimum:
            raise ValueError(f"option '{self.name}': {parsed} is below the minimum {self.minimum}")
        if self.maximum is not None and parsed > self.maximum:
            raise ValueError(f"option '{self.name}': {parsed} is above the maximum {self.maximum}")
        return parsed


def parse_bool(value: Any) -> bool:
    """Accept Python booleans and the usual strings (``true``/``false``/``1``/``0``/``yes``/``no``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"'{value}' is not a boolean")


def parse_bg(value: Any) -> Any:
    """A background: a colour (name, ``#hex``, ``r,g,b[,a]``, a tuple) or an image path/array/PIL image."""
    from cutkit.pipeline.compose import parse_background

    return parse_background(value)


def parse_format(value: Any) -> str:
    """An output format name: ``jpeg`` → ``jpg``, ``tiff`` → ``tif``, any case, a leading dot allowed."""
    text = str(value).strip().lower().lstrip(".")
    return {"jpeg": "jpg", "tiff": "tif"}.get(text, text)


def parse_margin(value: Any) -> Any:
    """A crop margin: pixels (``20``) or percent of the subject box's longer side (``"5%"``)."""
    from cutkit.pipeline.crop import parse_margin as parse

    return parse(value)


def _str(value: Any) -> str:
    return str(value)


def _whole_number(value: Any) -> int:
    """An int from ``100000000``, ``"100_000_000"`` or ``"1e8"``; fractions are refused."""
    number = float(value) if isinstance(value, str) else value
    if isinstance(number, bool) or int(number) != number:
        raise ValueError(f"'{value}' is not a whole number")
    return int(number)


REMOVE_OPTIONS: tuple[Option, ...] = (
    Option(
        name="model",
        parse=_str,
        default=None,
        short="m",
        group="model",
        help="model name (see `cutkit models`) or path to an .onnx file; default: the zoo's default",
    ),
    Option(
        name="weights",
        parse=_str,
        default=None,
        group="model",
        help="weight file to use instead of the cache/download",
    ),
    Option(
        name="engine",
        parse=_str,
        default=None,
        choices=("torch", "onnx"),
        group="model",
        help="inference engine (default: torch for zoo models, onnx for .onnx files)",
    ),
    Option(
        name="device",
        parse=_str,
        default="auto",
        choices=("auto", "cpu", "cuda"),
        group="model",
        help="auto = CUDA when available; asking for cuda without one is an error",
    ),
    Option(
        name="precision",
        parse=_str,
        default="auto",
        choices=("auto", "fp32", "fp16", "bf16"),
        group="model",
        help="compute precision on CUDA (auto = fp16); CPU always runs fp32",
    ),
    Option(
        name="threads",
        parse=int,
        default=None,
        minimum=1,
        group="model",
        help="CPU threads for inference (default: all cores)",
    ),
    Option(
        name="input_size",
        parse=int,
        default=None,
        minimum=32,
        maximum=4096,
        group="model",
        help="run the network at N×N pixels instead of the model's own size (larger: finer edges, slower)",
    ),
    Option(name="batch_size", parse=int, default=1, minimum=1, maximum=256, help="images per network call"),
    Option(
        name="mask",
        parse=parse_bool,
        default=False,
        flag=True,
        aliases=("only_mask",),
        help="write the alpha mask alone (greyscale)",
    ),
    Option(
        name="bg",
        parse=parse_bg,
        default=None,
        aliases=("bgcolor",),
        help="composite onto a colour (name, #hex, r,g,b[,a]), an image file (scaled to cover) or 'blur' "
        "(the photo's own background, blurred) instead of transparency",
    ),
    Option(
        name="format",
        parse=parse_format,
        default=None,
        choices=("png", "webp", "jpg", "tif"),
        help="output format (default: from the output name, else png)",
    ),
    Option(
        name="post_process",
        parse=parse_bool,
        default=False,
        flag=True,
        aliases=("post_process_mask",),
        help="clean the mask: binarise, keep the largest object, fill its holes",
    ),
    Option(
        name="matting",
        parse=parse_bool,
        default=False,
        flag=True,
        aliases=("alpha_matting",),
        help="refine the alpha in the uncertain band around the mask's edge with an alpha-matting solver "
        "(needs pymatting)",
    ),
    Option(
        name="matting_fg_threshold",
        parse=int,
        default=127,
        minimum=0,
        maximum=255,
        aliases=("alpha_matting_foreground_threshold",),
        help="matting: mask value above which a pixel is on the trimap's foreground side before the band "
        "is cut (rembg uses 240; the default splits the mask at its middle)",
    ),
    Option(
        name="matting_bg_threshold",
        parse=int,
        default=128,
        minimum=0,
        maximum=255,
        aliases=("alpha_matting_background_threshold",),
        help="matting: mask value below which a pixel is on the trimap's background side before the band "
        "is cut (rembg uses 10); values between the two thresholds are unknown too",
    ),
    Option(
        name="matting_erode",
        parse=int,
        default=None,
        minimum=0,
        maximum=1000,
        aliases=("alpha_matting_erode_size",),
        help="matting: the unknown band's reach into each side in pixels (rembg's erode size); given, it "
        "replaces --matting-band",
    ),
    Option(
        name="blur_sigma",
        parse=float,
        default=2.0,
        minimum=0.1,
        maximum=50.0,
        help="strength of --bg blur: the Gaussian's sigma in percent of the photo's longer side",
    ),
    Option(
        name="crop",
        parse=parse_bool,
        default=False,
        flag=True,
        help="crop the output to the subject (alpha above 8/255) plus --margin; no subject is an error",
    ),
    Option(
        name="margin",
        parse=parse_margin,
        default=0,
        help="space around the subject with --crop: pixels (20) or percent of the subject's longer side (5%)",
    ),
    Option(
        name="quality",
        parse=int,
        default=None,
        minimum=1,
        maximum=100,
        help="lossy quality 1-100 for jpg (default 95) and webp (default: lossless); png, tif are lossless",
    ),
    Option(
        name="resize",
        parse=_str,
        default="squash",
        choices=("pad", "squash"),
        help="fit the photo to the network's input: pad = keep its aspect ratio and pad (letterbox), "
        "squash = stretch it",
    ),
    Option(
        name="upsample",
        parse=_str,
        default="guided",
        choices=("guided", "bilinear"),
        help="enlarge the network's mask to the photo: guided = along the photo's edges (fast guided "
        "filter), bilinear = plain",
    ),
    Option(
        name="max_pixels",
        parse=_whole_number,
        default=100_000_000,  # about 100 MP: a 12,000×8,000 scan passes, a bomb does not
        minimum=1,
        help="refuse input files with more pixels than this (decompression bombs), before decoding them",
    ),
    Option(
        name="matting_band",
        parse=float,
        default=0.04,
        minimum=0.001,
        maximum=0.5,
        help="matting: the unknown band's reach on each side of the mask's edge, as a fraction of the "
        "photo's short side",
    ),
    Option(
        name="matting_solver",
        parse=_str,
        default="cf",
        choices=("cf", "lbdm"),
        help="matting solver: cf = closed-form (fast), lbdm = learning-based (slower)",
    ),
    Option(
        name="matting_max_side",
        parse=int,
        default=384,
        minimum=64,
        maximum=16384,
        help="matting: solve at most at this long side (px); larger photos are solved smaller and the "
        "result enlarged along the photo's edges",
    ),
    Option(
        name="decontaminate",
        parse=parse_bool,
        default=True,
        flag=True,
        help="estimate the true foreground colour at soft edges, so the old background does not show as a "
        "halo (transparent and composited outputs)",
    ),
)

OPTIONS_BY_NAME: dict[str, Option] = {o.name: o for o in REMOVE_OPTIONS}
_ALIASES: dict[str, str] = {a: o.name for o in REMOVE_OPTIONS for a in o.aliases}


@dataclass(frozen=True)
class RemoveOptions:
    """The resolved options of a removal; build with :func:`resolve`."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def group(self, group: str) -> dict[str, Any]:
        """The values of the options in ``group`` (``model`` or ``output``)."""
        return {o.name: self.values[o.name] for o in REMOVE_OPTIONS if o.group == group}

    def model_key(self) -> tuple[Any, ...]:
        """What identifies a loaded session: every ``model`` group option."""
        return tuple(self.group("model").values())

    def replace(self, **changes: Any) -> RemoveOptions:
        """These options with ``changes`` (rembg names accepted) applied."""
        return resolve({**self.values, **resolve_names(changes)})


def resolve_names(given: Mapping[str, Any]) -> dict[str, Any]:
    """Map every key to its option's own name; the same option given under two names is an error."""
    merged: dict[str, Any] = {}
    for key, value in given.items():
        name = canonical_name(key)
        if name in merged and value is not None and merged[name] != value:
            raise TypeError(f"option '{name}' given twice (as '{key}' and by another name)")
        merged[name] = value
    return merged


def resolve(given: Mapping[str, Any] | None = None, **kwargs: Any) -> RemoveOptions:
    """Validate user options (rembg aliases accepted), fill defaults, reject unknown names."""
    merged = resolve_names({**(given or {}), **kwargs})
    values = {o.name: _value(o, merged.get(o.name, _MISSING)) for o in REMOVE_OPTIONS}
    return RemoveOptions(values)


def _value(option: Option, given: Any) -> Any:
    if given is _MISSING or given is None:
        return option.default
    return option.validate(given)


def canonical_name(key: str) -> str:
    """The option's own name for ``key`` (an alias or the name); unknown keys raise ``TypeError``."""
    if key in OPTIONS_BY_NAME:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    names = list(OPTIONS_BY_NAME) + list(_ALIASES)
    raise TypeError(f"unknown option '{key}'{did_you_mean(key, names)}")


def add_to_parser(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """Add every removal option to an ``argparse`` parser (values stay raw; :func:`resolve` checks them)."""
    for o in REMOVE_OPTIONS:
        if o.name in skip:
            continue
        flags = [o.cli_flag] + ([f"-{o.short}"] if o.short else [])
        default_text = "" if o.default in (None, False) else f" (default: {o.default})"
        # argparse %-formats help strings: a literal percent sign ("5%") must be doubled
        help_text = (o.help + default_text).replace("%", "%%")
        if o.flag:
            # A switch that is on by default needs its --no-X form to be turned off from the CLI.
            action = argparse.BooleanOptionalAction if o.default is True else "store_true"
            parser.add_argument(*flags, dest=o.name, action=action, default=None, help=help_text)
        else:
            metavar = "{" + ",".join(o.choices) + "}" if o.choices else o.name.split("_")[-1].upper()
            parser.add_argument(*flags, dest=o.name, default=None, metavar=metavar, help=help_text)


def from_namespace(ns: argparse.Namespace) -> RemoveOptions:
    """Resolve the removal options present in an ``argparse`` namespace."""
    return resolve({o.name: getattr(ns, o.name) for o in REMOVE_OPTIONS if hasattr(ns, o.name)})
