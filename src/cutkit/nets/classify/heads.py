"""Classification heads: global pooling and a linear classifier, or dense layers on a small grid."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from cutkit.nets.mobilenet import ConvBNAct


class PoolHead(nn.Module):
    """``[1×1 expansion] → global average pool → dropout → linear``.

    Args:
        in_ch: channels of the feature map it reads.
        num_classes: output logits.
        dropout: dropout probability before the linear layer.
        expand: channels of an optional 1×1 conv + BN + ReLU6 before pooling (MobileNetV2's 1280), or None.
    """

    def __init__(
        self, *, in_ch: int, num_classes: int, dropout: float = 0.0, expand: int | None = None
    ) -> None:
        super().__init__()
        self.expand = ConvBNAct(in_ch=in_ch, out_ch=expand, kernel=1) if expand else None
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(expand or in_ch, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``(N, num_classes)`` logits."""
        if self.expand is not None:
            x = self.expand(x)
        return self.fc(self.drop(self.pool(x).flatten(1)))


class DenseHead(nn.Module):
    """``average pool to a grid × grid map → flatten → linear → ReLU → dropout → linear``: the textbook head.

    A map already ``grid × grid`` (28 px MNIST after two 2× poolings gives 7 × 7) is read as it is; any other
    size is average-pooled to the grid first, so one set of dense layers serves every input size.

    Args:
        in_ch: channels of the feature map it reads.
        num_classes: output logits.
        hidden: units of the hidden dense layer.
        grid: side of the pooled map that is flattened.
        dropout: dropout probability before the last layer.
    """

    def __init__(self, *, in_ch: int, num_classes: int, hidden: int, grid: int, dropout: float) -> None:
        super().__init__()
        self.grid = grid
        self.hidden = nn.Linear(in_ch * grid * grid, hidden)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Return ``(N, num_classes)`` logits."""
        h, w = x.shape[-2:]
        if (h, w) != (self.grid, self.grid):
            # The same averages either way; only ONNX needs them as matrix products (see grid_pool), which
            # channel pruning could not trace.
            pool = grid_pool if torch.onnx.is_in_onnx_export() else F.adaptive_avg_pool2d
            x = pool(x, self.grid)
        return self.fc(self.drop(self.act(self.hidden(x.flatten(1)))))


def grid_pool(x: Tensor, grid: int) -> Tensor:
    """``adaptive_avg_pool2d(x, grid)`` as two matrix products.

    ONNX has no adaptive pooling whose output size does not divide the input's (8 × 8 → 7 × 7 for a 32 px
    CIFAR image); a product with constant bin-averaging matrices exports everywhere and gives the same values.
    """
    rows = _bin_matrix(x.shape[-2], grid, x)
    cols = _bin_matrix(x.shape[-1], grid, x)
    return rows @ x @ cols.transpose(0, 1)


def _bin_matrix(size: int, grid: int, like: Tensor) -> Tensor:
    """A ``(grid, size)`` matrix whose row ``i`` averages adaptive pooling's bin ``i``:
    ``[floor(i * size / grid), ceil((i + 1) * size / grid))``."""
    size = int(size)
    rows = []
    for i in range(grid):
        lo, hi = (i * size) // grid, -((-(i + 1) * size) // grid)
        rows.append([1.0 / (hi - lo) if lo <= j < hi else 0.0 for j in range(size)])
    # from Python numbers, so a traced ONNX export keeps it as a constant (its in-place writes went wrong)
    return torch.tensor(rows, dtype=like.dtype, device=like.device)
