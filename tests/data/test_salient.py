"""Sources and weights, the seeded validation split, PairDataset, MixedStream and make_datasets."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from _sod_synth import pair_folder
from torch.utils.data import DataLoader, WeightedRandomSampler

from cutkit.data.pairs import DataError, find_pairs
from cutkit.data.salient import (
    MixedStream,
    PairDataset,
    ShardDataset,
    build_sources,
    in_val_split,
    make_datasets,
    parse_source,
    sample_weights,
    split_pairs,
)
from cutkit.data.shards import list_shards, pack

# --- sources ------------------------------------------------------------------------------------------------


def test_parse_source(tmp_path: Path) -> None:
    assert parse_source("data/duts") == (Path("data/duts"), 1.0)
    assert parse_source("data/duts:2.5") == (Path("data/duts"), 2.5)
    assert parse_source("s3:bucket") == (Path("s3:bucket"), 1.0)  # not a number: part of the path
    assert parse_source("a:b:3") == (Path("a:b"), 3.0)
    odd = tmp_path / "set:2"
    odd.mkdir()
    assert parse_source(str(odd)) == (odd, 1.0)  # an existing path wins over a weight
    for bad in ("d:0", "d:-1", "d:inf", "d:nan"):
        with pytest.raises(DataError, match="weight must be a finite number > 0"):
            parse_source(bad)
    with pytest.raises(DataError, match="no path before the weight"):
        parse_source(":2")


def test_build_sources_kinds(tmp_path: Path) -> None:
    folder = pair_folder(tmp_path / "f", 4)
    pack(folder, tmp_path / "sh", shard_size_bytes=4000)
    a, b, c = build_sources([str(folder), f"{tmp_path / 'sh'}:3", str(list_shards(tmp_path / "sh")[0])])
    assert (a.kind, a.weight, len(a), len(a.pairs)) == ("pairs", 1.0, 4, 4)
    assert (b.kind, b.weight, len(b), sorted(b.names)) == ("shards", 3.0, 4, [p.stem for p in a.pairs])
    assert c.kind == "shards" and len(c.shards) == 1
    with pytest.raises(DataError, match="no data sources"):
        build_sources([])
    with pytest.raises(DataError, match="nope: no such file or folder"):
        build_sources([str(tmp_path / "nope")])


def test_sample_weights_draw_sources_by_weight_not_size(tmp_path: Path) -> None:
    small = pair_folder(tmp_path / "small", 5, prefix="a")
    big = pair_folder(tmp_path / "big", 45, prefix="b")
    sources = build_sources([f"{small}:3", str(big)])
    weights = sample_weights(sources)
    assert len(weights) == 50 and sum(weights) == pytest.approx(1.0)
    sampler = WeightedRandomSampler(weights, num_samples=20000, generator=torch.Generator().manual_seed(0))
    from_small = np.mean([i < 5 for i in sampler])
    assert from_small == pytest.approx(0.75, abs=0.02)
    with pytest.raises(DataError, match="no training samples"):
        sample_weights(sources, counts=[0, 45])


# --- split --------------------------------------------------------------------------------------------------


def test_split_is_fixed_by_the_seed() -> None:
    names = [f"img_{i}" for i in range(2000)]
    a = [n for n in names if in_val_split(n, 0.2, seed=0)]
    assert a == [n for n in names if in_val_split(n, 0.2, seed=0)]
    assert a != [n for n in names if in_val_split(n, 0.2, seed=1)]
    assert len(a) / len(names) == pytest.approx(0.2, abs=0.03)
    assert not any(in_val_split(n, 0.0, seed=0) for n in names)
    smaller = {n for n in names if in_val_split(n, 0.1, seed=0)}
    assert smaller <= set(a)  # growing the fraction only moves samples into validation
    with pytest.raises(ValueError, match=r"within \[0, 1\)"):
        in_val_split("x", 1.0, 0)


def test_split_pairs(tmp_path: Path) -> None:
    pairs = find_pairs(pair_folder(tmp_path, 40))
    train, val = split_pairs(pairs, 0.25, seed=7)
    assert set(train + val) == set(pairs) and len(train + val) == 40 and not set(train) & set(val)
    assert [p.stem for p in val] == [p.stem for p in pairs if in_val_split(p.stem, 0.25, 7)]


# --- PairDataset --------------------------------------------------------------------------------------------


def _probe(sample: dict, rng: np.random.Generator, background=None) -> dict:
    r = float(rng.random())
    bg = background(rng)
    return {"name": sample["name"], "r": r, "same_bg": bool(np.array_equal(bg, sample["image"]))}


def test_pair_dataset_raw_and_transformed(tmp_path: Path) -> None:
    pairs = find_pairs(pair_folder(tmp_path, 6))
    raw = PairDataset(pairs)
    assert len(raw) == 6 and raw[2]["name"] == "s002" and raw[2]["mask"].dtype == np.float32
    ds = PairDataset(pairs, transform=_probe, seed=4)
    first = [ds[i] for i in range(6)]
    assert first == [ds[i] for i in range(6)]
    assert not any(s["same_bg"] for s in first)  # the background is another sample's image
    ds.set_epoch(1)
    assert [s["r"] for s in first] != [ds[i]["r"] for i in range(6)]
    expected = np.random.default_rng([4, 1, 3]).random()
    assert ds[3]["r"] == expected  # the documented seeding: (seed, epoch, index)


def test_pair_dataset_same_with_any_worker_count(tmp_path: Path) -> None:
    ds = PairDataset(find_pairs(pair_folder(tmp_path, 8)), transform=_probe, seed=2)
    ds.set_epoch(3)
    sampler = torch.utils.data.RandomSampler(ds, generator=torch.Generator().manual_seed(0))
    zero = list(DataLoader(ds, batch_size=None, sampler=sampler, num_workers=0))
    sampler = torch.utils.data.RandomSampler(ds, generator=torch.Generator().manual_seed(0))
    two = list(DataLoader(ds, batch_size=None, sampler=sampler, num_workers=2))
    assert zero == two


def test_bad_seed_and_epoch(tmp_path: Path) -> None:
    pairs = find_pairs(pair_folder(tmp_path, 2))
    with pytest.raises(ValueError, match="seed must be an integer"):
        PairDataset(pairs, seed=-1)
    with pytest.raises(ValueError, match="epoch must be"):
        PairDataset(pairs).set_epoch(-1)


# --- MixedStream --------------------------------------------------------------------------------------------


def test_mixed_stream_follows_weights(tmp_path: Path) -> None:
    pack(pair_folder(tmp_path / "a", 20, prefix="a", size=(8, 8)), tmp_path / "sa", shard_size_bytes=3000)
    pack(pair_folder(tmp_path / "b", 4, prefix="b", size=(8, 8)), tmp_path / "sb", shard_size_bytes=3000)
    streams = [ShardDataset(list_shards(tmp_path / s), shuffle_buffer=4) for s in ("sa", "sb")]
    mix = MixedStream(streams, [1.0, 3.0], length=800, seed=0)
    names = [s["name"] for s in mix]
    assert len(names) == 800
    share_b = np.mean([n.startswith("b") for n in names])
    assert share_b == pytest.approx(0.75, abs=0.05)
    counts = Counter(n for n in names if n.startswith("b"))
    assert len(counts) == 4 and max(counts.values()) - min(counts.values()) <= 2  # whole passes over b
    assert names == [s["name"] for s in mix]
    mix.set_epoch(1)
    assert names != [s["name"] for s in mix]


def test_mixed_stream_splits_its_length_over_workers(tmp_path: Path) -> None:
    pack(pair_folder(tmp_path / "a", 6, size=(8, 8)), tmp_path / "sa", shard_size_bytes=3000)
    mix = MixedStream([ShardDataset(list_shards(tmp_path / "sa"))], [1.0], length=13)
    assert len(list(DataLoader(mix, batch_size=None, num_workers=2))) == 13


# --- make_datasets ------------------------------------------------------------------------------------------


def test_make_datasets_folders_with_carved_split(tmp_path: Path) -> None:
    a = pair_folder(tmp_path / "a", 30, prefix="a")
    b = pair_folder(tmp_path / "b", 10, prefix="b")
    data = make_datasets(
        [str(a), f"{b}:2"], None, val_fraction=0.25, seed=1, train_transform=None, val_transform=None
    )
    split = json.loads(json.dumps(data.split))  # JSON-serialisable
    assert split["seed"] == 1 and split["val_fraction"] == 0.25
    val_names = [n for s in split["sources"] for n in s["val_names"]]
    assert sorted(val_names) == sorted(s["name"] for s in data.val)
    assert data.length == len(data.train) == 40 - len(val_names) and data.val_length == len(val_names)
    assert {s["name"] for s in data.train}.isdisjoint(val_names)
    assert data.train_weights is not None and len(data.train_weights) == data.length
    trained_a = split["sources"][0]["train"]
    assert sum(data.train_weights[:trained_a]) == pytest.approx(1 / 3)


def test_make_datasets_equal_weights_and_given_val(tmp_path: Path) -> None:
    a = pair_folder(tmp_path / "a", 12)
    v = pair_folder(tmp_path / "v", 5, prefix="v")
    data = make_datasets(
        [str(a)], [str(v)], val_fraction=0.5, seed=0, train_transform=None, val_transform=None
    )
    assert data.train_weights is None and data.length == 12  # nothing carved out of train
    assert data.val_length == len(data.val) == 5 and data.split["val_fraction"] is None
    assert data.split["val_sources"][0]["count"] == 5
    none = make_datasets([str(a)], None, val_fraction=0.0, seed=0, train_transform=None, val_transform=None)
    assert none.val is None and none.length == 12
    with pytest.raises(DataError, match="weights apply to training sources only"):
        make_datasets([str(a)], [f"{v}:2"], val_fraction=0, seed=0, train_transform=None, val_transform=None)
    with pytest.raises(DataError, match=r"validation split .* is empty"):
        make_datasets([str(a)], None, val_fraction=0.001, seed=0, train_transform=None, val_transform=None)


def test_folder_and_shards_split_alike(tmp_path: Path) -> None:
    folder = pair_folder(tmp_path / "f", 40)
    pack(folder, tmp_path / "sh", shard_size_bytes=5000)
    kwargs = {"val_fraction": 0.3, "seed": 5, "train_transform": None, "val_transform": None}
    by_folder = make_datasets([str(folder)], None, **kwargs)
    by_shards = make_datasets([str(tmp_path / "sh")], None, **kwargs)
    assert isinstance(by_shards.train, ShardDataset) and by_shards.train_weights is None
    assert by_folder.split["sources"][0]["val_names"] == by_shards.split["sources"][0]["val_names"]
    assert (by_folder.length, by_folder.val_length) == (by_shards.length, by_shards.val_length)
    assert sorted(s["name"] for s in by_shards.val) == by_folder.split["sources"][0]["val_names"]
    assert sorted(s["name"] for s in by_shards.train) == sorted(s["name"] for s in by_folder.train)
    with pytest.raises(DataError, match="mix folders and shards"):
        make_datasets([str(folder), str(tmp_path / "sh")], None, **kwargs)


def test_weighted_shard_sources_mix(tmp_path: Path) -> None:
    pack(pair_folder(tmp_path / "a", 10, prefix="a", size=(8, 8)), tmp_path / "sa", shard_size_bytes=3000)
    pack(pair_folder(tmp_path / "b", 10, prefix="b", size=(8, 8)), tmp_path / "sb", shard_size_bytes=3000)
    data = make_datasets(
        [str(tmp_path / "sa"), f"{tmp_path / 'sb'}:4"],
        None,
        val_fraction=0.2,
        seed=0,
        train_transform=None,
        val_transform=None,
    )
    assert isinstance(data.train, MixedStream) and data.length == 20 - data.val_length
    val = set(n for s in data.split["sources"] for n in s["val_names"])
    assert val and not val & {s["name"] for s in data.train}
