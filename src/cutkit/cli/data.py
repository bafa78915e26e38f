"""``cutkit data pack SRC -o DIR`` and ``cutkit data check DIR``: tar shards and dataset checks."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable

from cutkit.cli.main import CliError

# Decimal units as disks and cloud storage count them, binary ones for who wants them.
SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"50MB"``, ``"1GB"``, ``"200kB"``, ``"64MiB"`` or plain bytes → bytes; ``ValueError`` otherwise."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in SIZE_UNITS:
        raise ValueError(f"'{text}' is not a size; write e.g. 50MB, 1GB, 200kB, 64MiB or a number of bytes")
    size = int(float(match.group(1)) * SIZE_UNITS[unit])
    if size < 1:
        raise ValueError(f"'{text}': the size must be at least 1 byte")
    return size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    pack = sub.add_parser("pack", help="pack an image/mask folder or list file into tar shards")
    pack.add_argument(
        "source", metavar="SRC", help="pair folder (images/ + masks/, DUTS, ECSSD) or list file"
    )
    pack.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the shards (empty)")
    pack.add_argument("--shard-size", default="50MB", help="size a shard stops growing at (default: 50MB)")
    pack.add_argument("--max-side", type=int, metavar="N", help="downscale so the longer side is at most N")
    pack.add_argument("--quality", type=int, default=95, metavar="Q", help="JPEG quality 1-100 (default: 95)")
    pack.add_argument("--seed", type=int, default=0, help="seed of the sample order across shards")
    pack.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    check = sub.add_parser("check", help="decode every sample and report problems (exit 1 on corrupt files)")
    check.add_argument("source", metavar="DIR", help="pair folder, list file, or shard folder")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    return _pack(args) if args.action == "pack" else _check(args)


def _pack(args: argparse.Namespace) -> int:
    from cutkit.data.pairs import DataError
    from cutkit.data.shards import pack

    try:
        size = parse_size(args.shard_size)
    except ValueError as exc:
        raise CliError(f"--shard-size: {exc}") from None
    with _ProgressBar(args.quiet, "pair") as progress:
        try:
            report = pack(
                args.source,
                args.output,
                shard_size_bytes=size,
                max_side=args.max_side,
                quality=args.quality,
                seed=args.seed,
                progress=progress,
            )
        except (DataError, ValueError) as exc:
            raise CliError(str(exc)) from None
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    from cutkit.data.check import check
    from cutkit.data.pairs import DataError

    with _ProgressBar(args.quiet, "sample") as progress:
        try:
            report = check(args.source, progress=progress)
        except DataError as exc:
            raise CliError(str(exc)) from None
    print(report.to_json() if args.json else report.format())
    return 0 if report.ok else 1


class _ProgressBar:
    """A tqdm bar on stderr fed by ``progress(done, total)`` callbacks; nothing when ``quiet``."""

    def __init__(self, quiet: bool, unit: str) -> None:
        self.quiet, self.unit, self.bar = quiet, unit, None

    def __enter__(self) -> Callable[[int, int | None], None] | None:
        return None if self.quiet else self._update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def _update(self, done: int, total: int | None) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=self.unit, file=sys.stderr)
        self.bar.update(done - self.bar.n)
