"""``cutkit remove INPUT... [-o OUT]``: files, folders, globs, or ``-`` for stdin → stdout."""

from __future__ import annotations

import argparse
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cutkit import options as opt
from cutkit._util.memory import limit_malloc_arenas
from cutkit.cli._batch import BatchSettings, find_conflicts, image_warnings_as_lines, run_batch
from cutkit.cli.main import CliError
from cutkit.io.icc import rgb_profile, with_profile
from cutkit.io.image import SUFFIX_FORMAT, ImageError, encode, open_image, to_rgb_array

DEFAULT_OUT_DIR = "cutouts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive), globs, or -"
    )
    parser.add_argument(
        "-o", "--output", help=f"output file (one input) or folder (default: ./{DEFAULT_OUT_DIR})"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    _add_batch_arguments(parser)
    opt.add_to_parser(parser)


def _add_batch_arguments(parser: argparse.ArgumentParser) -> None:
    """Options about files and runs (not about one removal): they exist on the command line only."""
    parser.add_argument(
        "--workers", type=int, default=2, metavar="N", help="threads decoding inputs ahead (default: 2)"
    )
    parser.add_argument(
        "--skip-existing",
        action="store_true",
        help="leave inputs whose output already exists alone (to finish an interrupted run)",
    )
    parser.add_argument(
        "--report", metavar="FILE", help="write a JSON report of the run, with every failure and its reason"
    )


@dataclass
class Job:
    """One input and where its result goes."""

    src: Path
    dst: Path


def run(args: argparse.Namespace) -> int:
    try:
        options = opt.from_namespace(args)
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if args.inputs == ["-"]:
        check_output(options, [None])
        with image_warnings_as_lines():
            return _stdin_to_stdout(options, args.output)
    settings = _batch_settings(args)
    limit_malloc_arenas()  # before the model's and the workers' threads: a long batch's memory stays flat
    jobs = plan_jobs(args.inputs, args.output, options)
    if not jobs:
        raise CliError(f"no image files in {', '.join(args.inputs)}")
    check_output(options, [job.dst for job in jobs])
    remover = load_remover(options)
    return run_batch(remover, jobs, options, settings, render=render, refused=find_conflicts(jobs))


def _batch_settings(args: argparse.Namespace) -> BatchSettings:
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    report = Path(args.report) if args.report else None
    return BatchSettings(
        workers=args.workers, skip_existing=args.skip_existing, report=report, quiet=args.quiet
    )


def plan_jobs(inputs: list[str], output: str | None, options: opt.RemoveOptions) -> list[Job]:
    """Pair each input file with its output path."""
    from cutkit.io.paths import expand_inputs

    if "-" in inputs:
        raise CliError("'-' (stdin) must be the only input")
    try:
        found = expand_inputs(inputs)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from exc
    out = Path(output) if output else None
    if out is not None and len(found) == 1 and out.suffix.lower() in SUFFIX_FORMAT and not out.is_dir():
        return [Job(found[0][0], out)]
    folder = out or Path(DEFAULT_OUT_DIR)
    ext = "." + _format(options, None)
    found = _outside(found, folder)
    return [Job(src, folder / src.relative_to(base).with_suffix(ext)) for src, base in found]


def _outside(found: list[tuple[Path, Path]], folder: Path) -> list[tuple[Path, Path]]:
    """Leave out files that a folder input found inside the output folder: a previous run's outputs."""
    out = folder.resolve()
    holds_output = functools.cache(lambda base: out != base.resolve() and out.is_relative_to(base.resolve()))

    def earlier_output(src: Path, base: Path) -> bool:
        return holds_output(base) and src.resolve().is_relative_to(out)

    kept = [(src, base) for src, base in found if not earlier_output(src, base)]
    if len(kept) < len(found):
        print(
            f"note: {len(found) - len(kept)} file(s) inside the output folder {folder} are not inputs",
            file=sys.stderr,
        )
    return kept


def _format(options: opt.RemoveOptions, dst: Path | None) -> str:
    if options.format:
        return options.format
    if dst is not None and dst.suffix.lower() in SUFFIX_FORMAT:
        return SUFFIX_FORMAT[dst.suffix.lower()]
    return "png"


def check_output(options: opt.RemoveOptions, dsts: list[Path | None]) -> None:
    """Refuse, before any work, an output format that cannot hold the result (JPEG with transparency...)."""
    from cutkit.io.image import check_encodable
    from cutkit.pipeline.compose import output_has_alpha

    alpha = output_has_alpha(options.bg, options.mask)
    for fmt, dst in {_format(options, dst): dst for dst in dsts}.items():
        try:
            check_encodable(fmt, alpha=alpha, quality=options.quality)
        except ValueError as exc:
            where = f"--format {fmt}" if options.format else f"output {dst or fmt}"
            raise CliError(f"{where}: {exc}") from exc


def load_remover(options: opt.RemoveOptions):
    from cutkit.api import Remover
    from cutkit.engine.device import DeviceError
    from cutkit.zoo.weights import WeightsError

    try:
        return Remover(**options.group("model"))
    except KeyError as exc:
        raise CliError(str(exc).strip("'\"")) from exc
    except (WeightsError, DeviceError, ValueError, ImportError) as exc:
        raise CliError(str(exc)) from exc


def render(
    rgb: np.ndarray,
    alpha: np.ndarray,
    options: opt.RemoveOptions,
    dst: Path | None,
    icc: bytes | None = None,
) -> bytes:
    """Compose the result and encode it in the format chosen for ``dst`` (``ValueError`` if impossible).

    ``icc`` is the photo's ICC profile (:func:`cutkit.io.icc.rgb_profile`), embedded in colour outputs.
    """
    from cutkit.pipeline.compose import compose_output

    out = with_profile(compose_output(rgb, alpha, options), icc)
    return encode(out, _format(options, dst), options.quality)


def _stdin_to_stdout(options: opt.RemoveOptions, output: str | None) -> int:
    if output not in (None, "-"):
        raise CliError("with '-' as input the result goes to stdout; drop -o")
    data = sys.stdin.buffer.read()
    try:
        img = open_image(data, name="<stdin>", max_pixels=options.max_pixels)
        rgb, icc = to_rgb_array(img), rgb_profile(img)
    except ImageError as exc:
        raise CliError(str(exc)) from exc

    remover = load_remover(options)
    alpha = remover.alpha_batch([rgb], options)[0]
    try:
        out = render(rgb, alpha, options, None, icc)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0
