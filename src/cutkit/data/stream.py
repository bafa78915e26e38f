"""Streaming datasets over tar shards: :class:`ShardDataset` and :class:`MixedStream` (weighted sources).

Each DataLoader worker of each DDP rank is one *consumer*. Shards are dealt out to consumers (the same
epoch order on every rank, seeded by ``(seed, epoch)``); with fewer shards than consumers every consumer
reads every shard and keeps every n-th sample instead, so each sample is still seen once per epoch.
Within a consumer, samples are shuffled through a buffer; the buffer also supplies the backgrounds for
background-swap augmentation.

The order of a stream depends on the number of consumers (unavoidably); the augmentation of a sample does
not: its generator is seeded by ``(seed, epoch, cycle, hash of its name)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset

from cutkit.data.pairs import DataError
from cutkit.data.shards import Record, decode_image, decode_record, iter_records

Sample = dict[str, Any]


def consumer_slot(*, distributed: bool = True) -> tuple[int, int]:
    """``(this consumer, number of consumers)`` over DataLoader workers and, if ``distributed``, DDP ranks."""
    info = torch.utils.data.get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    rank, world = 0, 1
    if distributed and torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    return rank * workers + worker, world * workers


def name_seed(name: str) -> int:
    """A stable 64-bit number for a sample name (Python's ``hash`` changes between processes)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")


def check_seed(seed: int) -> int:
    """``seed`` if it can seed NumPy's generators (an int ≥ 0), else a ``ValueError``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer ≥ 0, got {seed!r}")
    return int(seed)


class SharedEpoch:
    """An epoch counter in shared memory, so ``set_epoch`` reaches persistent DataLoader workers too."""

    def __init__(self) -> None:
        self._value = torch.zeros((), dtype=torch.int64).share_memory_()

    def get(self) -> int:
        return int(self._value.item())

    def set(self, epoch: int) -> None:
        if epoch < 0:
            raise ValueError(f"epoch must be ≥ 0, got {epoch}")
        self._value.fill_(int(epoch))


class ShardDataset(IterableDataset):
    """Samples streamed from tar shards (see :mod:`cutkit.data.shards` for the layout).

    Args:
        shards: the shard files.
        transform: called as ``transform(sample, rng, background=pick)``; ``pick(rng)`` returns the image of
            another sample in the shuffle buffer.
        seed: seeds shard order, shuffling and augmentation together with the epoch.
        shuffle_buffer: samples held for shuffling (0 or 1: file order within a shard).
        select: keeps only the samples whose name it accepts (the validation split), checked before
            decoding.
        shuffle: shuffle the shard order each epoch (off for validation).
        distributed: split the shards over DDP ranks; off for validation, which one process reads whole.
    """

    def __init__(
        self,
        shards: Sequence[Path],
        *,
        transform: Callable[..., Sample] | None = None,
        seed: int = 0,
        shuffle_buffer: int = 256,
        select: Callable[[str], bool] | None = None,
        shuffle: bool = True,
        distributed: bool = True,
    ) -> None:
        super().__init__()
        if not shards:
            raise DataError("ShardDataset: no shards given")
        if shuffle_buffer < 0:
            raise ValueError(f"shuffle_buffer must be ≥ 0, got {shuffle_buffer}")
        self.shards = [Path(s) for s in shards]
        self.transform, self.seed, self.select = transform, check_seed(seed), select
        self.shuffle_buffer, self.shuffle, self.distributed = shuffle_buffer, shuffle, distributed
        self._epoch = SharedEpoch()

    @property
    def epoch(self) -> int:
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch: shard order, shuffling and augmentation change with it."""
        self._epoch.set(epoch)

    def __iter__(self) -> Iterator[Sample]:
        return self.samples(self.epoch)

    def samples(self, epoch: int, cycle: int = 0) -> Iterator[Sample]:
        """This consumer's samples of one pass; ``cycle`` numbers repeated passes within an epoch."""
        me, consumers = consumer_slot(distributed=self.distributed)
        records = self._my_records(epoch, cycle, me, consumers)
        if self.select is not None:
            records = (r for r in records if self.select(r.key))
        rng = np.random.default_rng([self.seed, epoch, cycle, me])
        for record, buffer in shuffle_buffered(records, self.shuffle_buffer if self.shuffle else 0, rng):
            yield self._sample(record, buffer, epoch, cycle)

    def _my_records(self, epoch: int, cycle: int, me: int, consumers: int) -> Iterator[Record]:
        n = len(self.shards)
        order = np.random.default_rng([self.seed, epoch, cycle]).permutation(n) if self.shuffle else range(n)
        shards = [self.shards[i] for i in order]
        if n >= consumers:
            for shard in shards[me::consumers]:
                yield from iter_records(shard)
            return
        k = 0  # fewer shards than consumers: all read everything, each keeps every n-th sample
        for shard in shards:
            for record in iter_records(shard):
                if k % consumers == me:
                    yield record
                k += 1

    def _sample(self, record: Record, buffer: list[Record], epoch: int, cycle: int) -> Sample:
        sample = decode_record(record)
        if self.transform is None:
            return sample

        def pick(rng: np.random.Generator) -> np.ndarray:
            # Another buffered sample; when the buffer has run dry at the end of a stream, the sample itself.
            return decode_image(buffer[int(rng.integers(len(buffer)))]) if buffer else sample["image"].copy()

        rng = np.random.default_rng([self.seed, epoch, cycle, name_seed(record.key)])
        return self.transform(sample, rng, background=pick)


def shuffle_buffered(
    items: Iterator[Record], size: int, rng: np.random.Generator
) -> Iterator[tuple[Record, list[Record]]]:
    """Items in a buffered random order, each with the buffer left after taking it out."""
    buffer: list[Record] = []
    for item in items:
        if len(buffer) < max(size, 1):
            buffer.append(item)
            continue
        j = int(rng.integers(len(buffer))) if size > 1 else 0
        out, buffer[j] = buffer[j], item
        yield out, buffer
    if size > 1:
        rng.shuffle(buffer)  # type: ignore[arg-type]
    while buffer:
        out = buffer.pop(0)
        yield out, buffer


class MixedStream(IterableDataset):
    """Interleaves shard streams, drawing each sample from stream k with probability ``weights[k] / sum``.

    An epoch is ``length`` samples over all consumers. A stream that runs out starts another pass (with a
    new shuffle), so small heavily-weighted sources repeat within an epoch, as with
    ``WeightedRandomSampler(replacement=True)`` over folders.
    """

    def __init__(
        self, streams: Sequence[ShardDataset], weights: Sequence[float], *, length: int, seed: int = 0
    ):
        super().__init__()
        if len(streams) != len(weights) or not streams:
            raise ValueError(f"MixedStream: {len(streams)} stream(s) but {len(weights)} weight(s)")
        if any(not w > 0 for w in weights):
            raise ValueError(f"MixedStream: weights must be > 0, got {list(weights)}")
        self.streams, self.length, self.seed = list(streams), int(length), check_seed(seed)
        total = float(sum(weights))
        self.probabilities = [float(w) / total for w in weights]
        self._epoch = SharedEpoch()

    @property
    def epoch(self) -> int:
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch for the mixing draws and for every stream."""
        self._epoch.set(epoch)

    def __iter__(self) -> Iterator[Sample]:
        epoch = self.epoch
        me, consumers = consumer_slot()
        share = self.length // consumers + (1 if me < self.length % consumers else 0)
        rng = np.random.default_rng([self.seed, epoch, me, len(self.streams)])
        cycles = [0] * len(self.streams)
        iters = [s.samples(epoch, 0) for s in self.streams]
        for k in rng.choice(len(self.streams), size=share, p=self.probabilities):
            sample = next(iters[k], None)
            if sample is None:
                cycles[k] += 1
                iters[k] = self.streams[k].samples(epoch, cycles[k])
                sample = next(iters[k], None)
            if sample is None:
                raise DataError(
                    f"{self.streams[k].shards[0].parent}: this source has no sample for consumer {me}"
                )
            yield sample
