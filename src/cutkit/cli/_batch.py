"""Running many removals: stream decode → network → write, one bad file never stopping the rest.

Photos are decoded a few at a time in worker threads (:func:`cutkit.io.prefetch.map_ahead`), batched through
the network and written in input order, each atomically; memory holds at most ``workers + 2 × batch_size``
decoded photos however many there are. Every failure is counted with its reason, for the summary line
and ``--report``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from cutkit._util.iters import batched
from cutkit.io.decode import ImageError, ImageWarning, open_image, to_rgb_array
from cutkit.io.icc import rgb_profile
from cutkit.io.image import remove_stale_temps, write_atomic
from cutkit.io.prefetch import map_ahead

if TYPE_CHECKING:
    from cutkit import options as opt
    from cutkit.cli.remove import Job

# rgb, alpha, options, destination, ICC profile → encoded bytes (ValueError when the format cannot hold it)
Render = Callable[[np.ndarray, np.ndarray, "opt.RemoveOptions", Path, "bytes | None"], bytes]


@dataclass(frozen=True)
class Failure:
    """One input that produced no output, and why."""

    input: str
    output: str
    stage: str  # plan, decode, network, encode or write
    error: str


@dataclass
class Tally:
    """What happened to each input of a run."""

    ok: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)

    def fail(self, job: Job, stage: str, error: str) -> None:
        """Count ``job`` as failed at ``stage``; ``error`` is a whole message that names the input."""
        self.failures.append(Failure(str(job.src), str(job.dst), stage, error))
        say(f"error: {error}")


@dataclass(frozen=True, kw_only=True)
class BatchSettings:
    """How a batch run goes, beyond the removal options.

    Attributes:
        workers: decoding threads.
        skip_existing: leave inputs whose output already exists alone (counted as skipped).
        report: write a JSON report of the run (failures with reasons) to this file.
        quiet: no progress bar and no summary line.
    """

    workers: int = 2
    skip_existing: bool = False
    report: Path | None = None
    quiet: bool = False


@dataclass(frozen=True)
class Photo:
    """A decoded input: its RGB pixels and the ICC profile its colours are in (if any)."""

    rgb: np.ndarray
    icc: bytes | None


def find_conflicts(jobs: list[Job]) -> dict[int, str]:
    """Jobs that must not run, as index → why.

    An output that would overwrite its own input, or the output of an earlier job (``a.jpg`` and ``a.png``
    both → ``a.png``), is refused rather than silently lost.
    """
    first: dict[Path, Job] = {}
    refused: dict[int, str] = {}
    for i, job in enumerate(jobs):
        key = Path(os.path.abspath(job.dst))
        if key == Path(os.path.abspath(job.src)):
            refused[i] = (
                f"{job.src}: the output would overwrite this input; choose another -o folder or --format"
            )
        elif key in first:
            refused[i] = f"{job.src}: its output {job.dst} is also the output of {first[key].src}; rename one"
        else:
            first[key] = job
    return refused


def run_batch(
    remover: Any,
    jobs: list[Job],
    options: opt.RemoveOptions,
    settings: BatchSettings,
    *,
    render: Render,
    refused: dict[int, str] | None = None,
) -> int:
    """Remove the background of every job; returns the exit code (0 only when none failed).

    Args:
        remover: a loaded :class:`cutkit.Remover`.
        jobs: inputs and their outputs, in the order to write them.
        options: the removal options.
        settings: workers, ``--skip-existing``, ``--report``, quiet.
        render: composes and encodes one result (``cutkit.cli.remove.render``).
        refused: index in ``jobs`` → why that job cannot run (found while planning); counted as failed.
    """
    start, tally = time.perf_counter(), Tally()
    todo = _todo(jobs, refused or {}, settings.skip_existing, tally)
    remove_stale_temps(job.dst for job in todo)  # left by a run that was killed mid-write
    with image_warnings_as_lines(), _progress(len(todo), settings.quiet) as bar:
        for batch in batched(_decoded(todo, options, settings.workers, tally, bar), options.batch_size):
            _remove(remover, batch, options, render, tally)
            bar.update(len(batch))
    seconds = time.perf_counter() - start
    if not settings.quiet:
        say(summary_line(tally, seconds, jobs))
    if settings.report is not None:
        write_report(settings.report, tally, seconds)
    return 2 if tally.failures else 0


def _todo(jobs: list[Job], refused: dict[int, str], skip_existing: bool, tally: Tally) -> list[Job]:
    todo = []
    for i, job in enumerate(jobs):
        if i in refused:
            tally.fail(job, "plan", refused[i])
        elif skip_existing and job.dst.exists():
            tally.skipped += 1
        else:
            todo.append(job)
    return todo


def decode_photo(src: Path, max_pixels: int) -> Photo:
    """Decode one input file (runs in a worker thread)."""
    img = open_image(src, max_pixels=max_pixels)
    try:
        rgb = to_rgb_array(img)
    except ValueError as exc:  # a mode Pillow cannot convert to RGB (LAB, unusual float images)
        raise ImageError(f"{src}: cannot convert its {img.mode} pixels to RGB ({exc})") from exc
    return Photo(rgb=rgb, icc=rgb_profile(img))


def _decoded(
    todo: list[Job], options: opt.RemoveOptions, workers: int, tally: Tally, bar: Any
) -> Iterator[Any]:
    """``(job, photo)`` in order; inputs that fail to decode are tallied (and ticked off) and left out."""
    ahead = workers + options.batch_size  # the next batch decodes while this one is in the network

    def decode(job: Job) -> Photo:
        return decode_photo(job.src, options.max_pixels)

    for job, future in map_ahead(decode, todo, workers=workers, ahead=ahead):
        try:
            yield job, future.result()
        except ImageError as exc:
            tally.fail(job, "decode", str(exc))
            bar.update(1)


def _remove(remover: Any, batch: list[Any], options: opt.RemoveOptions, render: Render, tally: Tally) -> None:
    for (job, photo), alpha in zip(batch, _alphas(remover, batch, options, tally), strict=True):
        if alpha is not None:
            _write(job, render_or_fail(render, job, photo, alpha, options, tally), tally)


def _alphas(remover: Any, batch: list[Any], options: opt.RemoveOptions, tally: Tally) -> list[Any]:
    """Each photo's alpha, or ``None`` where the network failed on it (tallied)."""
    try:
        return remover.alpha_batch([photo.rgb for _, photo in batch], options)
    except (ValueError, RuntimeError) as exc:
        if len(batch) == 1:
            job, photo = batch[0]
            h, w = photo.rgb.shape[:2]
            tally.fail(job, "network", f"{job.src}: removal failed on this {w}×{h} photo ({exc})")
            return [None]
    # One photo broke the batch: run them one by one, so only that one fails.
    return [_alphas(remover, [pair], options, tally)[0] for pair in batch]


def render_or_fail(
    render: Render, job: Job, photo: Photo, alpha: np.ndarray, options: opt.RemoveOptions, tally: Tally
) -> bytes | None:
    try:
        return render(photo.rgb, alpha, options, job.dst, photo.icc)
    except ValueError as exc:
        tally.fail(job, "encode", f"{job.src}: {exc}")
        return None


def _write(job: Job, data: bytes | None, tally: Tally) -> None:
    if data is None:
        return
    try:
        write_atomic(job.dst, data)
    except OSError as exc:  # disk full, no permission: this output fails, the next may not
        tally.fail(job, "write", f"{job.src}: cannot write {job.dst} ({exc.strerror or exc})")
        return
    tally.ok += 1


def summary_line(tally: Tally, seconds: float, jobs: list[Job]) -> str:
    """``N image(s): ok, failed, skipped in S s (R images/s) → where``."""
    done = tally.ok + len(tally.failures)
    rate = done / seconds if seconds > 0 else 0.0
    where = (jobs[0].dst if len(jobs) == 1 else jobs[0].dst.parent) if jobs else "-"
    return (
        f"{len(jobs)} image(s): {tally.ok} ok, {len(tally.failures)} failed, {tally.skipped} skipped "
        f"in {seconds:.1f} s ({rate:.2f} images/s) → {where}"
    )


def write_report(path: Path, tally: Tally, seconds: float) -> None:
    """The run as JSON (counts, seconds, every failure with its reason), written atomically."""
    done = tally.ok + len(tally.failures)
    report = {
        "ok": tally.ok,
        "failed": len(tally.failures),
        "skipped": tally.skipped,
        "seconds": round(seconds, 3),
        "images_per_second": round(done / seconds, 3) if seconds > 0 else 0.0,
        "failures": [asdict(f) for f in tally.failures],
    }
    write_atomic(path, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def say(message: str) -> None:
    """A line on stderr that does not tear the progress bar."""
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


@contextlib.contextmanager
def image_warnings_as_lines() -> Iterator[None]:
    """Within: each :class:`ImageWarning` (from any thread) prints as one ``warning: ...`` line."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", ImageWarning)
        # Pillow warns about an image over its limit before cutkit refuses it with a clearer message.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if issubclass(category, ImageWarning):
                say(f"warning: {message}")
            else:
                shown(message, category, *args, **kwargs)

        warnings.showwarning = show
        yield


def _progress(total: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="img", disable=quiet or total < 2, file=sys.stderr)
