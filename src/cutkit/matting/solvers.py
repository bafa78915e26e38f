"""Alpha-matting solvers from pymatting (imported lazily): closed-form and learning-based matting."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

# cf: closed-form matting (Levin et al. 2008), a system over the unknown pixels only: the fast one.
# lbdm: learning-based digital matting (Zheng & Kambhamettu 2009), a system over every pixel of the
# region: several times slower, about as good on the lemur (docs/quality.md).
SOLVERS = ("cf", "lbdm")
# The incomplete Cholesky preconditioner drops entries below this (pymatting: 1e-4) and conjugate
# gradients stop at this relative residual (pymatting: 1e-7). Both defaults aim at a solution exact to
# far below one uint8 step; these moved no pixel of the lemur's or a 1024² photo's matte by more than
# about 0.01 (2-3 uint8 levels) and cut the solve's time by about a quarter.
_DISCARD, _RTOL = 1e-3, 1e-5


def solve_alpha(rgb: np.ndarray, tri: np.ndarray, solver: str) -> np.ndarray:
    """The alpha matte of ``rgb`` (``HxWx3`` uint8) under ``tri`` (uint8 0 / 128 / 255), float in [0, 1].

    ``tri`` must hold sure foreground, sure background and unknown pixels.

    Raises:
        ImportError: pymatting is not installed.
        ValueError: an unknown ``solver``.
    """
    estimate = _estimator(solver)
    image = rgb.astype(np.float64) / 255.0
    # pymatting prints its preconditioner's retries to stdout, which carries the image with `cutkit
    # remove -`: they go to stderr instead.
    with contextlib.redirect_stdout(sys.stderr):
        alpha = estimate(
            image, tri.astype(np.float64) / 255.0, preconditioner=_preconditioner, cg_kwargs={"rtol": _RTOL}
        )
    return alpha.astype(np.float32)


def _estimator(solver: str) -> Callable[..., np.ndarray]:
    if solver not in SOLVERS:
        raise ValueError(f"matting solver '{solver}' is not one of {', '.join(SOLVERS)}")
    try:
        import pymatting
    except ImportError as exc:
        raise ImportError("matting needs pymatting: pip install 'cutkit[matting]'") from exc
    return pymatting.estimate_alpha_cf if solver == "cf" else pymatting.estimate_alpha_lbdm


def _preconditioner(matrix: Any) -> Any:
    from pymatting import ichol

    return ichol(matrix, discard_threshold=_DISCARD)
