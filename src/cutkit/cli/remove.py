"""``cutkit remove INPUT... [-o OUT]``: files, folders, globs, or ``-`` for stdin → stdout."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cutkit import options as opt
from cutkit.cli.main import CliError
from cutkit.io.image import SUFFIX_FORMAT, ImageError, encode, open_image, to_rgb_array, write_atomic

DEFAULT_OUT_DIR = "cutouts"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive), globs, or -"
    )
    parser.add_argument(
        "-o", "--output", help=f"output file (one input) or folder (default: ./{DEFAULT_OUT_DIR})"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    opt.add_to_parser(parser)


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
        return _stdin_to_stdout(options, args.output)
    jobs = plan_jobs(args.inputs, args.output, options)
    remover = load_remover(options)
    return _run_jobs(remover, jobs, options, quiet=args.quiet)


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
    return [Job(src, folder / src.relative_to(base).with_suffix(ext)) for src, base in found]


def _format(options: opt.RemoveOptions, dst: Path | None) -> str:
    if options.format:
        return options.format
    if dst is not None and dst.suffix.lower() in SUFFIX_FORMAT:
        return SUFFIX_FORMAT[dst.suffix.lower()]
    return "png"


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


def _run_jobs(remover, jobs: list[Job], options: opt.RemoveOptions, *, quiet: bool) -> int:
    from tqdm import tqdm

    start, failed = time.perf_counter(), 0
    bar = tqdm(total=len(jobs), unit="img", disable=quiet or len(jobs) < 2, file=sys.stderr)
    for i in range(0, len(jobs), options.batch_size):
        chunk = jobs[i : i + options.batch_size]
        failed += _run_chunk(remover, chunk, options)
        bar.update(len(chunk))
    bar.close()
    if not quiet:
        _summary(jobs, failed, time.perf_counter() - start)
    return 2 if failed else 0


def _run_chunk(remover, chunk: list[Job], options: opt.RemoveOptions) -> int:

    decoded, failed = [], 0
    for job in chunk:
        try:
            decoded.append((job, to_rgb_array(open_image(job.src))))
        except ImageError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
    alphas = remover.alpha_batch([rgb for _, rgb in decoded], options) if decoded else []
    for (job, rgb), alpha in zip(decoded, alphas, strict=True):
        try:
            data = render(rgb, alpha, options, job.dst)
        except ValueError as exc:
            failed += 1
            print(f"error: {job.src}: {exc}", file=sys.stderr)
            continue
        write_atomic(job.dst, data)
    return failed


def render(rgb: np.ndarray, alpha: np.ndarray, options: opt.RemoveOptions, dst: Path | None) -> bytes:
    """Compose the result and encode it in the format chosen for ``dst`` (``ValueError`` if impossible)."""
    from cutkit.pipeline.compose import compose

    return encode(compose(rgb, alpha, options.bg, mask_only=options.mask), _format(options, dst))


def _summary(jobs: list[Job], failed: int, seconds: float) -> None:
    done = len(jobs) - failed
    where = jobs[0].dst if len(jobs) == 1 else jobs[0].dst.parent
    rate = f", {len(jobs) / seconds:.2f} img/s" if seconds > 0 else ""
    print(
        f"{len(jobs)} image(s): {done} done, {failed} failed in {seconds:.1f} s{rate} → {where}",
        file=sys.stderr,
    )


def _stdin_to_stdout(options: opt.RemoveOptions, output: str | None) -> int:
    if output not in (None, "-"):
        raise CliError("with '-' as input the result goes to stdout; drop -o")
    data = sys.stdin.buffer.read()
    try:
        rgb = to_rgb_array(open_image(data, name="<stdin>"))
    except ImageError as exc:
        raise CliError(str(exc)) from exc

    remover = load_remover(options)
    alpha = remover.alpha_batch([rgb], options)[0]
    try:
        out = render(rgb, alpha, options, None)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    return 0
