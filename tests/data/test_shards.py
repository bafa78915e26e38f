"""Packing pairs into tar shards and streaming them back (ShardDataset, workers, corrupt members)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from _sod_synth import pair_folder, photo, soft_mask, write_pair
from PIL import Image
from torch.utils.data import DataLoader

from cutkit.data.pairs import DataError, find_pairs, read_pair
from cutkit.data.shards import decode_record, iter_records, list_shards, pack, scan_names, shard_names
from cutkit.data.stream import ShardDataset

TAR_SLACK = 10240  # tarfile pads an archive to a multiple of its 10 kB record


def _pack(src: Path, out: Path, **kwargs) -> list[Path]:
    pack(src, out, **{"shard_size_bytes": 6000, **kwargs})
    return list_shards(out)


def _read_all(out: Path) -> dict[str, dict]:
    return {s["name"]: s for shard in list_shards(out) for s in map(decode_record, iter_records(shard))}


# --- pack ---------------------------------------------------------------------------------------------------


def test_real_round_trip(tmp_path: Path) -> None:
    from _parity import find_shared

    shared = find_shared()
    folder = shared / "data" / "sod" / "duts-tr-mini" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared/data/sod/duts-tr-mini not found")
    report = pack(folder, tmp_path / "out", shard_size_bytes=2_000_000)
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    pairs = find_pairs(folder)
    assert report.count == index["total"] == len(pairs) == 200
    assert len(report.shards) == len(index["shards"]) >= 3
    assert sum(s["count"] for s in index["shards"]) == 200
    back = _read_all(tmp_path / "out")
    assert sorted(back) == [p.stem for p in pairs]
    for pair in pairs[::20]:
        original, copy = read_pair(pair), back[pair.stem]
        np.testing.assert_array_equal(copy["image"], original["image"])  # JPEG bytes copied unchanged
        np.testing.assert_allclose(copy["mask"], original["mask"], atol=0.5 / 255)


def test_shards_respect_the_size_and_the_index(tmp_path: Path) -> None:
    src = pair_folder(tmp_path / "src", 30)
    shards = _pack(src, tmp_path / "out", shard_size_bytes=8000)
    assert len(shards) > 3
    assert all(s.stat().st_size <= 8000 + TAR_SLACK for s in shards)
    assert not list((tmp_path / "out").glob("*.part"))
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert (
        [s["file"] for s in index["shards"]]
        == [s.name for s in shards]
        == [f"shard-{i:06d}.tar" for i in range(len(shards))]
    )
    names = shard_names(shards)
    assert names == [scan_names(s) for s in shards] == [s["names"] for s in index["shards"]]
    assert sorted(n for ns in names for n in ns) == [f"s{i:03d}" for i in range(30)]


def test_pack_is_reproducible(tmp_path: Path) -> None:
    src = pair_folder(tmp_path / "src", 12)
    digests = []
    for out in ("a", "b"):
        digests.append([hashlib.sha256(s.read_bytes()).hexdigest() for s in _pack(src, tmp_path / out)])
    assert digests[0] == digests[1]
    shuffled = _pack(src, tmp_path / "c", seed=1)
    assert [scan_names(s) for s in shuffled] != [scan_names(s) for s in list_shards(tmp_path / "a")]


def test_members_images_masks_and_names_with_dots(tmp_path: Path) -> None:
    src = tmp_path / "src"
    jpg, _ = write_pair(src, "cat.v2", size=(40, 30))
    write_pair(src, "dog", image_ext=".png", size=(40, 30), seed=3)
    (shard,) = _pack(src, tmp_path / "out", shard_size_bytes=10**6)
    with tarfile.open(shard) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    assert set(members) == {"cat.v2.jpg", "cat.v2.mask.png", "dog.jpg", "dog.mask.png"}
    assert members["cat.v2.jpg"] == jpg.read_bytes()  # already JPEG: copied
    assert members["dog.jpg"].startswith(b"\xff\xd8\xff")  # PNG photo: encoded as JPEG
    assert Image.open(io.BytesIO(members["dog.mask.png"])).mode == "L"
    back = _read_all(tmp_path / "out")
    assert sorted(back) == ["cat.v2", "dog"]
    # JPEG q95 with 4:2:0 chroma on a tiny noisy photo: close, not exact
    assert np.abs(back["dog"]["image"].astype(int) - photo(40, 30, 3)).mean() < 8


def test_downscale_16bit_and_mismatched_masks(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write_pair(src, "big", size=(64, 48))
    write_pair(src, "deep", size=(20, 16))
    write_pair(src, "small_mask", size=(30, 20))
    deep = (soft_mask(20, 16).astype(np.uint32) * 257).astype(np.uint16)
    Image.fromarray(deep).save(src / "masks" / "deep.png")
    Image.fromarray(soft_mask(15, 10)).save(src / "masks" / "small_mask.png")
    report = pack(src, tmp_path / "out", shard_size_bytes=10**6, max_side=32)
    assert report.downscaled == 1 and report.masks_resized == ["small_mask"]
    back = _read_all(tmp_path / "out")
    assert back["big"]["image"].shape == (24, 32, 3) and back["big"]["mask"].shape == (24, 32)
    np.testing.assert_allclose(back["deep"]["mask"], deep / 65535.0, atol=0.5 / 255 + 1e-6)
    assert back["small_mask"]["mask"].shape == (20, 30)


def test_pack_refuses_a_folder_with_shards_and_cleans_up_on_failure(tmp_path: Path) -> None:
    src = pair_folder(tmp_path / "src", 6)
    _pack(src, tmp_path / "out")
    with pytest.raises(DataError, match="already holds shards"):
        _pack(src, tmp_path / "out")
    (src / "masks" / "s004.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"s004.png: not an image"):
        _pack(src, tmp_path / "out2", shard_size_bytes=3000)
    assert list((tmp_path / "out2").iterdir()) == []  # no partial shards, no index


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"shard_size_bytes": 0}, "shard size"), ({"max_side": 0}, "max side"), ({"quality": 101}, "quality")],
)
def test_pack_rejects_bad_settings(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pack(tmp_path, tmp_path / "out", **{"shard_size_bytes": 1000, **kwargs})


# --- reading errors -----------------------------------------------------------------------------------------


def _tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_corrupt_member_names_shard_and_member(tmp_path: Path) -> None:
    shard = _tar(
        tmp_path / "bad.tar",
        {
            "a.jpg": _png(photo()),
            "a.mask.png": _png(soft_mask()),
            "b.jpg": _png(photo()),
            "b.mask.png": b"junk",
        },
    )
    with pytest.raises(DataError, match=r"bad.tar:b.mask.png: not an image"):
        list(ShardDataset([shard], shuffle_buffer=0))


def test_incomplete_sample_and_truncated_tar(tmp_path: Path) -> None:
    shard = _tar(tmp_path / "half.tar", {"a.jpg": _png(photo()), "a.json": b"{}"})
    with pytest.raises(DataError, match=r"half.tar: sample 'a' has no mask member"):
        list(ShardDataset([shard]))
    (good,) = _pack(pair_folder(tmp_path / "src", 3), tmp_path / "out", shard_size_bytes=10**6)
    cut = tmp_path / "cut.tar"
    with tarfile.open(good) as tar:
        third = tar.getmembers()[2]
    # cut at a member boundary, inside a header, inside a member's data
    for size in (third.offset, third.offset + 100, third.offset_data + 10):
        cut.write_bytes(good.read_bytes()[:size])
        with pytest.raises(DataError, match=r"cut.tar: .*truncated tar"):
            list(ShardDataset([cut]))
        with pytest.raises(DataError, match=r"cut.tar: .*truncated tar"):
            scan_names(cut)


# --- ShardDataset -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("shards")
    return _pack(pair_folder(root / "src", 24), root / "out", shard_size_bytes=6000)


def _names(loader) -> list[str]:
    return [s["name"] for s in loader]


def test_each_sample_once_per_epoch_across_two_workers(shards: list[Path]) -> None:
    assert len(shards) >= 4
    expected = [f"s{i:03d}" for i in range(24)]
    ds = ShardDataset(shards, seed=3, shuffle_buffer=8)
    loader = DataLoader(ds, batch_size=None, num_workers=2, persistent_workers=True)
    first = _names(loader)
    ds.set_epoch(1)  # reaches the persistent workers through shared memory
    second = _names(loader)
    assert sorted(first) == sorted(second) == expected
    assert first != second
    fresh = ShardDataset(shards, seed=3, shuffle_buffer=8)
    fresh.set_epoch(1)
    assert _names(DataLoader(fresh, batch_size=None, num_workers=2)) == second


def test_fewer_shards_than_workers_still_once_each(shards: list[Path]) -> None:
    names = _names(DataLoader(ShardDataset(shards[:1]), batch_size=None, num_workers=2))
    assert sorted(names) == sorted(scan_names(shards[0]))


def test_select_shuffle_and_determinism(shards: list[Path]) -> None:
    keep = ShardDataset(shards, select=lambda n: n.endswith("1"))
    assert sorted(_names(keep)) == ["s001", "s011", "s021"]
    plain = _names(ShardDataset(shards, shuffle=False, shuffle_buffer=0))
    assert plain == [n for s in shards for n in scan_names(s)]
    assert _names(ShardDataset(shards, seed=5)) == _names(ShardDataset(shards, seed=5)) != plain


def _probe(sample: dict, rng: np.random.Generator, background=None) -> dict:
    r = float(rng.random())  # drawn first: what background() draws depends on the buffer, hence on workers
    bg = background(rng)
    return {"name": sample["name"], "r": r, "other_bg": not np.array_equal(bg, sample["image"])}


def test_transform_rng_does_not_depend_on_workers_and_backgrounds_come_from_others(
    shards: list[Path],
) -> None:
    def run(workers: int) -> list[dict]:
        ds = ShardDataset(shards, transform=_probe, seed=1, shuffle_buffer=4)
        return list(DataLoader(ds, batch_size=None, num_workers=workers))

    single, double = run(0), run(2)
    assert {s["name"]: s["r"] for s in single} == {s["name"]: s["r"] for s in double}
    assert len(single) == 24
    assert sum(s["other_bg"] for s in single) == 23  # only the stream's last sample has no other to draw


def test_ddp_ranks_share_the_shards(shards: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    per_rank = []
    for rank in (0, 1):
        monkeypatch.setattr(dist, "get_rank", lambda rank=rank: rank)
        per_rank.append(_names(ShardDataset(shards, seed=9)))
    assert per_rank[0] and per_rank[1] and not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == [f"s{i:03d}" for i in range(24)]
