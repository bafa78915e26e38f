"""What one server instance holds: its settings, loaded models, worker pool and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from cutkit import options as opt
from cutkit.serve.config import ServeConfig
from cutkit.serve.metrics import Metrics
from cutkit.serve.pool import WorkerPool
from cutkit.serve.sessions import SessionCache


@dataclass
class ServerState:
    """Per-app state (never module globals: two apps with different settings can live in one process)."""

    config: ServeConfig
    sessions: SessionCache
    pool: WorkerPool
    metrics: Metrics
    default_options: opt.RemoveOptions


def build_state(cfg: ServeConfig) -> ServerState:
    """Build the state and load the default model now, so a bad model or device fails at start-up.

    Raises:
        cutkit.engine.device.DeviceError, cutkit.zoo.weights.WeightsError, KeyError, ValueError: the
            default model cannot be loaded as configured.
    """
    defaults = opt.resolve({**cfg.session_defaults(), "max_pixels": cfg.max_pixels})
    state = ServerState(
        config=cfg,
        sessions=SessionCache(size=cfg.sessions),
        pool=WorkerPool(workers=cfg.workers, queue=cfg.queue),
        metrics=Metrics(),
        default_options=defaults,
    )
    state.sessions.get(defaults)
    _register_gauges(state)
    return state


def _register_gauges(state: ServerState) -> None:
    m, pool, sessions = state.metrics, state.pool, state.sessions
    m.gauge("cutkit_queue_depth", "Removal jobs waiting for a worker.", lambda: pool.queued)
    m.gauge("cutkit_workers_busy", "Workers running a removal now.", lambda: pool.running)
    m.gauge("cutkit_workers", "Inference worker threads.", lambda: pool.workers)
    m.gauge("cutkit_models_loaded", "Models loaded in memory now.", lambda: len(sessions))
    m.gauge(
        "cutkit_model_loads",
        "Models loaded since start (a steady server stops loading).",
        lambda: sessions.loads,
    )
