"""Pruning a trained classifier by name of method, with the record its spec keeps."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from cutkit._util.suggest import unknown
from cutkit.compress import PRUNE_METHODS
from cutkit.compress.channel import prune_channels
from cutkit.compress.magnitude import magnitude_prune


def prune_classifier(
    net: nn.Module, spec: Any, *, method: str, amount: float, source: str
) -> tuple[nn.Module, Any]:
    """Prune ``net`` in place and return it with the spec of the pruned model.

    Args:
        net: the classifier.
        spec: its :class:`~cutkit.zoo.classifier.ClassifierSpec`.
        method: ``magnitude`` (zero the smallest weights) or ``channel`` (remove whole channels).
        amount: fraction of the weights (magnitude) or of each layer's channels (channel) to remove.
        source: where the model came from (recorded in the spec).
    """
    if method not in PRUNE_METHODS:
        raise ValueError(unknown("pruning method", method, PRUNE_METHODS))
    if method == "magnitude":
        magnitude_prune(net, amount=amount)
    else:
        example = torch.randn(
            2, spec.in_channels, *spec.input_size, generator=torch.Generator().manual_seed(0)
        )
        prune_channels(net, example, amount=amount)
    record = {"method": method, "amount": amount, "source": source, "epochs": 0}
    return net, dataclasses.replace(
        spec, pruned=record, description=f"{spec.description}; pruned: {method} {amount}"
    )
