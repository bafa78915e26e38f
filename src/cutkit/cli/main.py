"""The ``cutkit`` command: ``cutkit COMMAND ARGS --flags``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from cutkit._util.config_cli import reject_unknown

# command → (module, one-line help); modules are imported only when their command runs.
COMMANDS = {
    "remove": ("cutkit.cli.remove", "remove backgrounds from images"),
    "models": ("cutkit.cli.models", "list the model zoo and which weights are present"),
    "export": ("cutkit.cli.export", "export a model to ONNX (optionally int8)"),
    "data": ("cutkit.cli.data", "pack image/mask folders into tar shards, check a dataset"),
    "train": ("cutkit.cli.train", "train a network on your data (runs/<task>/<name>)"),
    "eval": ("cutkit.cli.eval", "evaluate a model on image/mask pairs, or a classifier (--task classify)"),
    "serve": ("cutkit.cli.serve", "HTTP API and web page for background removal (FastAPI + uvicorn)"),
    "predict": ("cutkit.cli.predict", "label images with a trained classifier (top-k classes)"),
    "explain": ("cutkit.cli.explain", "heatmaps of why a classifier decided (Grad-CAM, saliency)"),
    "prune": ("cutkit.cli.prune", "prune a trained classifier (channels or weights) and fine-tune it"),
}


class CliError(Exception):
    """A user error: printed as ``error: ...`` and exit code 2, never a traceback."""


def build_parser() -> argparse.ArgumentParser:
    from cutkit import __version__

    parser = argparse.ArgumentParser(prog="cutkit", description="Background removal and its workbench.")
    parser.add_argument("--version", action="version", version=f"cutkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # --help/--version/unknown command (argparse suggests and exits)
        parser.print_help()
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    sub = argparse.ArgumentParser(prog=f"cutkit {argv[0]}", description=COMMANDS[argv[0]][1])
    module.add_arguments(sub)
    args = reject_unknown(sub, argv[1:])
    try:
        return int(module.run(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`cutkit models | head`): no traceback, and none at interpreter exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
