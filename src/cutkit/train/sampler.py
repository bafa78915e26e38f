"""The order of training samples: set by (seed, epoch, rank) only, so a resumed run sees the same data."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class EpochSampler(Sampler[int]):
    """Shuffled (or weighted, with replacement) indices, split evenly over ``world`` processes.

    Args:
        n: dataset size.
        weights: per-sample weights; sampling is then with replacement in proportion to them.
        num_samples: samples per epoch over all processes (default ``n``).
        seed: base seed; epoch ``e`` uses ``seed`` and ``e`` together.
        rank: this process's rank.
        world: the number of processes.
    """

    def __init__(
        self,
        n: int,
        *,
        weights: Sequence[float] | None = None,
        num_samples: int | None = None,
        seed: int = 0,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if n <= 0:
            raise ValueError("cannot sample from an empty dataset")
        self.n, self.seed, self.rank, self.world = n, seed, rank, world
        self.weights = torch.as_tensor(weights, dtype=torch.double) if weights is not None else None
        self.per_rank = (num_samples or n) // world
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.per_rank

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        total = self.per_rank * self.world
        if self.weights is not None:
            order = torch.multinomial(self.weights, total, replacement=True, generator=g)
        else:
            reps = -(-total // self.n)
            order = torch.cat([torch.randperm(self.n, generator=g) for _ in range(reps)])[:total]
        return iter(order[self.rank :: self.world].tolist())
