"""``cutkit serve``: the HTTP API and the web page (FastAPI + uvicorn; the ``server`` extra)."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import Any

from cutkit._util import config_cli
from cutkit._util.memory import limit_malloc_arenas
from cutkit.cli.main import CliError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cutkit.serve.config import ServeConfig

    config_cli.add_fields(parser, ServeConfig)


def run(args: argparse.Namespace) -> int:
    cfg = _config(args)
    if not _is_loopback(cfg.host) and not cfg.key():
        print(
            f"warning: binding to {cfg.host} without an API key: anyone who can reach this port can use "
            "the server (pass --api-key or set CUTKIT_API_KEY)",
            file=sys.stderr,
        )
    limit_malloc_arenas()  # before the model's, the workers' and the event loop's threads: flat memory
    app = _app(cfg)
    import uvicorn

    print(f"cutkit serving on http://{_url_host(cfg.host)}:{cfg.port} (API docs at /docs)", file=sys.stderr)
    uvicorn.run(app, host=cfg.host, port=cfg.port, log_level=cfg.log_level)
    return 0


def _config(args: argparse.Namespace) -> Any:
    try:
        from cutkit.serve.config import ServeConfig
    except ImportError as exc:
        raise CliError(f"{exc}: `cutkit serve` needs the server extra: pip install 'cutkit[server]'") from exc
    try:
        return config_cli.build(ServeConfig, config_cli.explicit(args, ServeConfig), where="cutkit serve")
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _app(cfg: Any) -> Any:
    """Build the app; the default model loads now, so a missing device or model stops start-up here."""
    from cutkit.engine.device import DeviceError
    from cutkit.serve.app import create_app
    from cutkit.zoo.weights import WeightsError

    try:
        return create_app(cfg)
    except (DeviceError, WeightsError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise CliError(f"cannot start: {message}") from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: only the resolver knows, so warn
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
