"""The app factory: ``create_app(config)`` builds a FastAPI app with its own state (tests build many)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from cutkit.serve import errors, rembg, routes
from cutkit.serve.config import ServeConfig
from cutkit.serve.limits import BodyLimit
from cutkit.serve.metrics import MetricsMiddleware
from cutkit.serve.security import HEADER, ApiKeyMiddleware
from cutkit.serve.state import ServerState, build_state


def create_app(config: ServeConfig | None = None) -> FastAPI:
    """A ready app: the default model is loaded before this returns, so a bad model or device fails here.

    Args:
        config: the server's settings (default: :class:`ServeConfig`'s defaults).
    """
    from cutkit import __version__

    state = build_state(config or ServeConfig())
    app = FastAPI(
        title="cutkit",
        version=__version__,
        description="Background removal. `POST /v1/remove` with a photo; rembg's `/api/remove` works too.",
        docs_url="/docs",
        lifespan=_lifespan(state),
    )
    app.state.cutkit = state
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(rembg.router)
    app.mount("/static", StaticFiles(directory=routes.STATIC_DIR), name="static")
    _add_middleware(app, state)
    return app


def _add_middleware(app: FastAPI, state: ServerState) -> None:
    # Added innermost first: CORS outermost (a 401 or 413 still carries its headers, so the browser shows
    # the error), then metrics (every answer is counted, refusals included), the key, the body limit.
    cfg = state.config
    app.add_middleware(BodyLimit, limit=cfg.max_body_bytes)
    key = cfg.key()
    if key:
        app.add_middleware(ApiKeyMiddleware, key=key)
    app.add_middleware(MetricsMiddleware, metrics=state.metrics)
    if cfg.cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cfg.cors),
            allow_methods=["GET", "POST"],
            allow_headers=[HEADER, "Content-Type"],
        )


def _lifespan(state: ServerState) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Stop the worker pool when the server stops."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.pool.shutdown()

    return lifespan
