"""Rebuilding a channel-pruned network: its architecture with each layer's width taken from the weights.

A channel-pruned run stores the original architecture and keywords plus weights whose shapes are narrower.
:func:`fit_to_state_dict` resizes the layers of a freshly built network to those shapes (in place, so
references such as a classifier's ``gradcam_layer`` stay valid); the weights then load strictly.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fit_to_state_dict(net: nn.Module, sd: Mapping[str, Tensor]) -> list[str]:
    """Resize every convolution, BatchNorm and dense layer of ``net`` to the shapes in ``sd``.

    Returns:
        The names of the modules that were resized.

    Raises:
        ValueError: a module of another kind would need resizing (naming it and both shapes).
    """
    resized = []
    for name, module in net.named_modules():
        prefix = f"{name}." if name else ""
        changed = {
            key: tuple(sd[prefix + key].shape)
            for key, t in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
            if prefix + key in sd and tuple(sd[prefix + key].shape) != tuple(t.shape)
        }
        if not changed:
            continue
        if isinstance(module, nn.Conv2d):
            _fit_conv(module, changed["weight"] if "weight" in changed else tuple(module.weight.shape))
        elif isinstance(module, _NORMS):
            _fit_norm(module, next(iter(changed.values()))[0])
        elif isinstance(module, nn.Linear):
            _fit_linear(module, changed["weight"] if "weight" in changed else tuple(module.weight.shape))
        else:
            raise ValueError(f"cannot resize {name or 'the network'} ({type(module).__name__}) to {changed}")
        resized.append(name)
    return resized


def _fit_conv(conv: nn.Conv2d, shape: tuple[int, ...]) -> None:
    """A convolution with ``shape[0]`` outputs; a depthwise one (one input per group) stays depthwise."""
    out_ch, in_per_group = shape[0], shape[1]
    depthwise = conv.groups > 1 and conv.groups == conv.in_channels == conv.out_channels
    groups = out_ch if depthwise else conv.groups
    conv.out_channels, conv.in_channels, conv.groups = out_ch, in_per_group * groups, groups
    conv.weight = nn.Parameter(torch.empty(shape, dtype=conv.weight.dtype))
    if conv.bias is not None:
        conv.bias = nn.Parameter(torch.empty(out_ch, dtype=conv.bias.dtype))


def _fit_norm(norm: nn.Module, features: int) -> None:
    norm.num_features = features
    for key, value in [*norm.named_parameters(recurse=False), *norm.named_buffers(recurse=False)]:
        if value.ndim == 1:
            fresh = torch.empty(features, dtype=value.dtype)
            if isinstance(value, nn.Parameter):
                setattr(norm, key, nn.Parameter(fresh))
            else:
                setattr(norm, key, fresh)


def _fit_linear(linear: nn.Linear, shape: tuple[int, ...]) -> None:
    linear.out_features, linear.in_features = shape
    linear.weight = nn.Parameter(torch.empty(shape, dtype=linear.weight.dtype))
    if linear.bias is not None:
        linear.bias = nn.Parameter(torch.empty(shape[0], dtype=linear.bias.dtype))
