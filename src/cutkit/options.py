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


def _str(value: Any) -> str:
    return str(value)


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
        help="composite onto a colour (name, #hex, r,g,b[,a]) or an image file instead of transparency",
    ),
    Option(
        name="format",
        parse=lambda v: str(v).lower().replace("jpeg", "jpg"),
        default=None,
        choices=("png", "webp", "jpg"),
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
        help="refine soft edges with closed-form alpha matting (needs pymatting)",
    ),
    Option(
        name="matting_fg_threshold",
        parse=int,
        default=240,
        minimum=0,
        maximum=255,
        aliases=("alpha_matting_foreground_threshold",),
        help="mask value above which a pixel is sure foreground",
    ),
    Option(
        name="matting_bg_threshold",
        parse=int,
        default=10,
        minimum=0,
        maximum=255,
        aliases=("alpha_matting_background_threshold",),
        help="mask value below which a pixel is sure background",
    ),
    Option(
        name="matting_erode",
        parse=int,
        default=10,
        minimum=0,
        maximum=200,
        aliases=("alpha_matting_erode_size",),
        help="erosion (pixels) of the sure regions of the trimap",
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
        if o.flag:
            parser.add_argument(*flags, dest=o.name, action="store_true", default=None, help=o.help)
        else:
            metavar = "{" + ",".join(o.choices) + "}" if o.choices else o.name.split("_")[-1].upper()
            parser.add_argument(
                *flags, dest=o.name, default=None, metavar=metavar, help=o.help + default_text
            )


def from_namespace(ns: argparse.Namespace) -> RemoveOptions:
    """Resolve the removal options present in an ``argparse`` namespace."""
    return resolve({o.name: getattr(ns, o.name) for o in REMOVE_OPTIONS if hasattr(ns, o.name)})
