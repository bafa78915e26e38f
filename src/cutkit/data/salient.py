"""Salient-object training data: sources with weights, a seeded validation split, and the datasets.

A source is ``PATH`` or ``PATH:WEIGHT``. PATH is a pair folder or list file (read with
:class:`PairDataset`), or a ``.tar`` shard or folder of shards (streamed with :class:`ShardDataset`).

Weights: when all training sources have the same weight, every sample is used once per epoch. When they
differ, each draw comes from source k with probability ``weight_k / sum(weights)``, whatever the sources'
sizes: ``train_weights`` (folders, for ``WeightedRandomSampler``) or a :class:`MixedStream` (shards).

The validation split is a pure function of ``(seed, name)`` (:func:`in_val_split`), so folders and the
shards packed from them split identically and a run's split can be recomputed from its record.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Dataset, IterableDataset

from cutkit.data.pairs import DataError, Pair, find_pairs, read_image, read_pair
from cutkit.data.shards import is_shard_source, list_shards, shard_names
from cutkit.data.stream import MixedStream, ShardDataset, SharedEpoch, check_seed

__all__ = [
    "MixedStream",
    "PairDataset",
    "SalientData",
    "ShardDataset",
    "Source",
    "SplitFilter",
    "build_sources",
    "in_val_split",
    "make_datasets",
    "parse_source",
    "sample_weights",
    "split_pairs",
]

Transform = Callable[..., dict[str, Any]]


# --- sources ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One training or validation source: its samples and its sampling weight."""

    spec: str
    path: Path
    weight: float
    kind: str  # "pairs" (folder or list file) or "shards"
    pairs: tuple[Pair, ...] = ()
    shards: tuple[Path, ...] = ()
    names: tuple[str, ...] = ()  # sample names, in pair order or shard order

    def __len__(self) -> int:
        return len(self.names)


def parse_source(spec: str) -> tuple[Path, float]:
    """``PATH`` or ``PATH:WEIGHT`` → ``(path, weight)``.

    Only the last ``:`` splits, and only when what follows is a number and the whole spec is not itself an
    existing path.
    """
    head, sep, tail = spec.rpartition(":")
    if not sep or Path(spec).exists():
        return Path(spec), 1.0
    try:
        weight = float(tail)
    except ValueError:
        return Path(spec), 1.0
    if not head:
        raise DataError(f"{spec!r}: no path before the weight")
    if not (math.isfinite(weight) and weight > 0):
        raise DataError(f"{spec!r}: the weight must be a finite number > 0, got {tail}")
    return Path(head), weight


def build_sources(specs: Sequence[str]) -> list[Source]:
    """The sources of ``PATH[:WEIGHT]`` specs, with their pairs or shards found (errors name the path)."""
    if isinstance(specs, str):
        raise TypeError("build_sources takes a list of source specs, not a single string")
    if not specs:
        raise DataError("no data sources given")
    return [_build_source(spec) for spec in specs]


def _build_source(spec: str) -> Source:
    path, weight = parse_source(spec)
    if is_shard_source(path):
        shards = tuple(list_shards(path))
        names = tuple(n for shard in shard_names(list(shards)) for n in shard)
        return Source(spec=spec, path=path, weight=weight, kind="shards", shards=shards, names=names)
    pairs = tuple(find_pairs(path))
    return Source(
        spec=spec, path=path, weight=weight, kind="pairs", pairs=pairs, names=tuple(p.stem for p in pairs)
    )


def sample_weights(sources: Sequence[Source], counts: Sequence[int] | None = None) -> list[float]:
    """Per-sample weights (summing to 1) that draw source k with probability ``weight_k / sum``.

    Args:
        sources: folder or list-file sources, in the order their samples are concatenated.
        counts: samples of each source in the dataset (default: all of them; pass the training counts
            after a validation carve-out).
    """
    counts = [len(s.pairs) for s in sources] if counts is None else list(counts)
    if any(s.kind != "pairs" for s in sources):
        raise DataError("sample weights are for folder/list sources; shard sources are mixed by MixedStream")
    total = sum(s.weight for s in sources)
    weights: list[float] = []
    for source, n in zip(sources, counts, strict=True):
        if n == 0:
            raise DataError(f"{source.path}: no training samples, but the source has weight {source.weight}")
        weights += [source.weight / total / n] * n
    return weights


# --- the split ----------------------------------------------------------------------------------------------


def in_val_split(name: str, fraction: float, seed: int) -> bool:
    """Whether sample ``name`` is held out: the SHA-256 of ``"{seed}:{name}"`` falls below ``fraction``."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation fraction must be within [0, 1), got {fraction}")
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64 < fraction


def split_pairs(pairs: Sequence[Pair], fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """``(train, val)`` by :func:`in_val_split` on each pair's name, order kept."""
    train, val = [], []
    for pair in pairs:
        (val if in_val_split(pair.stem, fraction, seed) else train).append(pair)
    return train, val


@dataclass(frozen=True)
class SplitFilter:
    """``select`` for :class:`ShardDataset`: keeps the validation names (``val=True``) or the others."""

    fraction: float
    seed: int
    val: bool

    def __call__(self, name: str) -> bool:
        return in_val_split(name, self.fraction, self.seed) == self.val


# --- folder dataset -----------------------------------------------------------------------------------------


class PairDataset(Dataset):
    """Samples read from image/mask files, augmented reproducibly.

    Sample ``i`` of epoch ``e`` is augmented with ``np.random.default_rng([seed, e, i])``: the same whatever
    the number of workers, so a resumed run sees the same data.

    Args:
        pairs: the pairs, in index order.
        transform: called as ``transform(sample, rng, background=pick)``; ``pick(rng)`` returns the image of
            another random sample of this dataset.
        seed: the augmentation seed.
    """

    def __init__(self, pairs: Sequence[Pair], *, transform: Transform | None = None, seed: int = 0) -> None:
        self.pairs = list(pairs)
        self.transform, self.seed = transform, check_seed(seed)
        self._epoch = SharedEpoch()

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def epoch(self) -> int:
        return self._epoch.get()

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch the augmentation is seeded with (shared with running workers)."""
        self._epoch.set(epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        i = int(index)
        sample = read_pair(self.pairs[i])
        if self.transform is None:
            return sample
        rng = np.random.default_rng([self.seed, self.epoch, i])
        return self.transform(sample, rng, background=functools.partial(self._background, i))

    def _background(self, i: int, rng: np.random.Generator) -> np.ndarray:
        n = len(self.pairs)
        j = i if n == 1 else (i + 1 + int(rng.integers(n - 1))) % n  # any sample but i
        return read_image(self.pairs[j].image)


# --- the entry point ----------------------------------------------------------------------------------------


@dataclass
class SalientData:
    """The datasets of a run and the record of how they were made.

    Attributes:
        train: a :class:`PairDataset`, or a :class:`ShardDataset`/:class:`MixedStream` for shards.
        val: the validation dataset; None when there is no validation (fraction 0 and no val sources).
        train_weights: per-sample weights for folder sources with different weights, to use as
            ``WeightedRandomSampler(train_weights, num_samples=length, replacement=True)``; None when every
            sample is used once per epoch, and for shards (the mixing is inside :class:`MixedStream`).
        split: JSON-serialisable record: sources, weights, counts, fraction, seed, validation names.
        length: training samples per epoch.
        val_length: validation samples.
    """

    train: Dataset | IterableDataset
    val: Dataset | IterableDataset | None
    train_weights: list[float] | None
    split: dict[str, Any]
    length: int
    val_length: int


def make_datasets(
    train: Sequence[str],
    val: Sequence[str] | None,
    *,
    val_fraction: float,
    seed: int,
    train_transform: Transform | None,
    val_transform: Transform | None,
) -> SalientData:
    """Build the training and validation datasets from source specs.

    Args:
        train: training sources, ``PATH[:WEIGHT]``; all folders/list files, or all shards.
        val: validation sources (weights not allowed). None or empty: ``val_fraction`` is carved out of
            ``train`` by :func:`in_val_split`; when given, nothing is carved out (``val_fraction`` unused).
        val_fraction: the share of each training source held out when ``val`` is None.
        seed: seeds the split and the augmentation.
        train_transform: the augmentation of training samples.
        val_transform: the transform of validation samples (e.g. a plain resize).
    """
    check_seed(seed)
    sources = build_sources(train)
    val_sources = build_sources(val) if val else None
    fraction = 0.0 if val_sources else float(val_fraction)
    in_val_split("", fraction, seed)  # validates the fraction before any work
    kind = _one_kind(sources, "training")
    if kind == "pairs":
        data = _folder_data(sources, fraction, seed, train_transform, val_transform)
    else:
        data = _shard_data(sources, fraction, seed, train_transform, val_transform)
    if val_sources is not None:
        _attach_val_sources(data, val_sources, seed, val_transform)
    elif fraction > 0 and data.val_length == 0:
        raise DataError(
            f"the {fraction:g} validation split of {', '.join(train)} is empty; raise the fraction"
        )
    data.split.update(seed=seed, val_fraction=None if val_sources else fraction)
    return data


def _one_kind(sources: Sequence[Source], role: str) -> str:
    kinds = {s.kind for s in sources}
    if len(kinds) > 1:
        listed = ", ".join(f"{s.spec} ({s.kind})" for s in sources)
        raise DataError(
            f"{role} sources mix folders and shards ({listed}); pack the folders with 'cutkit data pack'"
        )
    return kinds.pop()


def _source_record(source: Source, train_names: list[str], val_names: list[str]) -> dict[str, Any]:
    return {
        "spec": source.spec,
        "path": str(source.path),
        "kind": source.kind,
        "weight": source.weight,
        "count": len(source),
        "train": len(train_names),
        "val": len(val_names),
        "val_names": val_names,
    }


def _equal_weights(sources: Sequence[Source]) -> bool:
    return len({s.weight for s in sources}) == 1


def _folder_data(
    sources: list[Source], fraction: float, seed: int, train_tf: Transform | None, val_tf: Transform | None
) -> SalientData:
    train_pairs: list[Pair] = []
    val_pairs: list[Pair] = []
    records, counts = [], []
    for source in sources:
        tr, va = split_pairs(source.pairs, fraction, seed)
        train_pairs += tr
        val_pairs += va
        counts.append(len(tr))
        records.append(_source_record(source, [p.stem for p in tr], [p.stem for p in va]))
    if not train_pairs:
        raise DataError(f"no training samples left after the {fraction:g} validation split")
    weights = None if _equal_weights(sources) else sample_weights(sources, counts)
    return SalientData(
        train=PairDataset(train_pairs, transform=train_tf, seed=seed),
        val=PairDataset(val_pairs, transform=val_tf, seed=seed) if fraction > 0 else None,
        train_weights=weights,
        split={
            "kind": "pairs",
            "sources": records,
            "train_count": len(train_pairs),
            "val_count": len(val_pairs),
        },
        length=len(train_pairs),
        val_length=len(val_pairs),
    )


def _shard_data(
    sources: list[Source], fraction: float, seed: int, train_tf: Transform | None, val_tf: Transform | None
) -> SalientData:
    keep_train = SplitFilter(fraction, seed, val=False) if fraction > 0 else None
    records, counts = [], []
    for source in sources:
        is_val = [in_val_split(n, fraction, seed) for n in source.names]
        va = sorted(n for n, v in zip(source.names, is_val, strict=True) if v)
        counts.append(len(source) - len(va))
        records.append(
            _source_record(source, [n for n, v in zip(source.names, is_val, strict=True) if not v], va)
        )
    length = sum(counts)
    if length == 0:
        raise DataError(f"no training samples left after the {fraction:g} validation split")
    if _equal_weights(sources):
        shards = [p for s in sources for p in s.shards]
        train: IterableDataset = ShardDataset(shards, transform=train_tf, seed=seed, select=keep_train)
    else:
        streams = [ShardDataset(s.shards, transform=train_tf, seed=seed, select=keep_train) for s in sources]
        train = MixedStream(streams, [s.weight for s in sources], length=length, seed=seed)
    val_length = sum(r["val"] for r in records)
    val = _val_stream(sources, seed, val_tf, SplitFilter(fraction, seed, val=True)) if fraction > 0 else None
    split = {"kind": "shards", "sources": records, "train_count": length, "val_count": val_length}
    return SalientData(
        train=train, val=val, train_weights=None, split=split, length=length, val_length=val_length
    )


def _val_stream(
    sources: Sequence[Source], seed: int, transform: Transform | None, select: SplitFilter | None
) -> ShardDataset:
    shards = [p for s in sources for p in s.shards]
    return ShardDataset(
        shards,
        transform=transform,
        seed=seed,
        shuffle_buffer=0,
        shuffle=False,
        select=select,
        distributed=False,
    )


def _attach_val_sources(
    data: SalientData, val_sources: list[Source], seed: int, transform: Transform | None
) -> None:
    weighted = [s.spec for s in val_sources if s.weight != 1.0]
    if weighted:
        raise DataError(f"weights apply to training sources only; drop them from {', '.join(weighted)}")
    if _one_kind(val_sources, "validation") == "pairs":
        data.val = PairDataset([p for s in val_sources for p in s.pairs], transform=transform, seed=seed)
    else:
        data.val = _val_stream(val_sources, seed, transform, None)
    data.val_length = sum(len(s) for s in val_sources)
    data.split["val_sources"] = [_source_record(s, [], list(s.names)) for s in val_sources]
    data.split["val_count"] = data.val_length
