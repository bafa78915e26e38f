"""An exponential moving average of a network's weights, with a warm-up so short runs are not dominated
by the random initialisation (the decay ramps up as ``decay * (1 - exp(-updates / tau))``)."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import nn


class ModelEMA:
    """Holds ``module``, the averaged copy of a network; floating buffers (BN statistics) are averaged too.

    Args:
        net: the (unwrapped) network being trained.
        decay: the decay once warmed up.
        tau: warm-up length in updates.
    """

    def __init__(self, net: nn.Module, *, decay: float = 0.999, tau: float = 2000.0) -> None:
        self.module = copy.deepcopy(net).eval().requires_grad_(False)
        self.decay, self.tau, self.updates = decay, tau, 0

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.tau))
        ema = self.module.state_dict()
        for key, value in net.state_dict().items():
            if value.dtype.is_floating_point:
                ema[key].lerp_(value.detach(), 1 - d)
            else:
                ema[key].copy_(value)

    def state_dict(self) -> dict[str, Any]:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
