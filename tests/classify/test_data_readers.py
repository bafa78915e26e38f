"""Readers of classification sources: IDX/MNIST, CIFAR-10 batches, image-folder trees, CSV lists."""

from __future__ import annotations

import gzip
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _parity import find_shared
from cutkit.data.classify import DataError, available_splits, detect_format, open_classification
from cutkit.data.classify.cifar import load_batch
from cutkit.data.classify.idx import read_idx

# --- IDX / MNIST ------------------------------------------------------------------------------------


def write_idx(path: Path, arr: np.ndarray, *, compress: bool = True) -> Path:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    big = arr.astype(arr.dtype.newbyteorder(">")) if arr.dtype.itemsize > 1 else arr
    data = (
        bytes([0, 0, codes[big.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + big.tobytes()
    )
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def make_mnist(folder: Path, n_train: int = 12, n_test: int = 5, *, compress: bool = True) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    gz = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(
            folder / f"{prefix}-images-idx3-ubyte{gz}",
            rng.integers(0, 256, (n, 28, 28), np.uint8),
            compress=compress,
        )
        write_idx(
            folder / f"{prefix}-labels-idx1-ubyte{gz}",
            (np.arange(n) % 10).astype(np.uint8),
            compress=compress,
        )
    return folder


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trips_types_and_shapes(tmp_path: Path, compress: bool) -> None:
    ints = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    floats = np.linspace(0, 1, 5, dtype=np.float32)
    got_ints = read_idx(write_idx(tmp_path / "i", ints.astype(">i4"), compress=compress))
    got_floats = read_idx(write_idx(tmp_path / "f", floats.astype(">f4"), compress=compress))
    np.testing.assert_array_equal(got_ints, ints)
    np.testing.assert_array_equal(got_floats, floats)
    assert got_ints.dtype.isnative and got_floats.dtype == np.float32


def test_read_idx_rejects_bad_files_naming_them(tmp_path: Path) -> None:
    (tmp_path / "text").write_bytes(b"hello world")
    with pytest.raises(DataError, match="text: not an IDX file"):
        read_idx(tmp_path / "text")
    good = gzip.decompress(write_idx(tmp_path / "g", np.zeros((4, 2, 2), np.uint8)).read_bytes())
    (tmp_path / "short").write_bytes(good[:-3])
    with pytest.raises(DataError, match=r"short: IDX header announces shape \(4, 2, 2\)"):
        read_idx(tmp_path / "short")
    (tmp_path / "broken.gz").write_bytes(gzip.compress(good)[:20])
    with pytest.raises(DataError, match=r"broken.gz: cannot read"):
        read_idx(tmp_path / "broken.gz")


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_folder_is_detected_and_split(tmp_path: Path, compress: bool) -> None:
    folder = make_mnist(tmp_path / "mnist", compress=compress)
    assert detect_format(folder) == "mnist"
    assert available_splits(folder) == ("train", "test")
    train, test = open_classification(folder, "train"), open_classification(str(folder), "test")
    assert (len(train), len(test)) == (12, 5)
    assert train.classes == [str(i) for i in range(10)] and train.channels == 1
    sample = train[11]
    assert sample["image"].shape == (28, 28) and sample["image"].dtype == np.uint8
    assert sample["label"] == 1 and sample["name"] == "train/00011"
    np.testing.assert_array_equal(train.labels, np.arange(12) % 10)
    with pytest.raises(DataError, match="no MNIST 'val' split"):
        open_classification(folder, "val")


def test_mnist_with_only_images_names_the_missing_file(tmp_path: Path) -> None:
    folder = make_mnist(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="has the MNIST t10k images but not the t10k labels"):
        open_classification(folder, "train")


def test_mnist_mismatched_counts_are_refused(tmp_path: Path) -> None:
    folder = make_mnist(tmp_path / "m")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz"):
        open_classification(folder, "train")


def test_mnist_as_rgb(tmp_path: Path) -> None:
    data = open_classification(make_mnist(tmp_path / "m"), "test", channels=3)
    image = data[0]["image"]
    assert data.channels == 3 and image.shape == (28, 28, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 2])


def _shared_mnist() -> Path:
    shared = find_shared()
    folder = shared / "data" / "classification" / "mnist" if shared else None
    if folder is None or not folder.is_dir():
        pytest.skip("shared/data/classification/mnist not found")
    return folder


def test_shared_mnist_reads_the_canonical_sets() -> None:
    folder = _shared_mnist()
    train, test = open_classification(folder, "train"), open_classification(folder, "test")
    assert (len(train), len(test)) == (60000, 10000)
    # the published class frequencies of MNIST's training and test sets
    assert train.counts().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert test.counts().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train[0]["image"].shape == (28, 28)


# --- CIFAR-10 batches ---------------------------------------------------------------------------------

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _numpy1_pickle(obj: object) -> bytes:
    """A protocol-2 pickle naming ``numpy.core.multiarray`` as NumPy 1.x (and the official files) do."""
    return pickle.dumps(obj, protocol=2).replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def make_cifar(folder: Path, batches: int = 2, per_batch: int = 4, *, byte_keys: bool = False) -> Path:
    """A tiny CIFAR-10 python folder; image ``i`` of batch ``b`` has R = 10*b + i, G = 100, B = 200."""
    folder.mkdir(parents=True, exist_ok=True)
    key = (lambda k: k.encode()) if byte_keys else (lambda k: k)

    def batch(b: int, n: int) -> bytes:
        planes = np.zeros((n, 3, 1024), np.uint8)
        planes[:, 0] = (10 * b + np.arange(n))[:, None]
        planes[:, 1], planes[:, 2] = 100, 200
        return _numpy1_pickle(
            {
                key("data"): planes.reshape(n, 3072),
                key("labels"): [(b + i) % 10 for i in range(n)],
                key("filenames"): [f"img_{b}_{i}.png" for i in range(n)],
            }
        )

    for b in range(1, batches + 1):
        (folder / f"data_batch_{b}").write_bytes(batch(b, per_batch))
    (folder / "test_batch").write_bytes(batch(0, 3))
    (folder / "batches.meta").write_bytes(_numpy1_pickle({key("label_names"): CIFAR_CLASSES}))
    return folder


@pytest.mark.parametrize("byte_keys", [False, True])
def test_cifar_batches_decode_planes_in_order(tmp_path: Path, byte_keys: bool) -> None:
    folder = make_cifar(tmp_path / "cifar-10-batches-py", byte_keys=byte_keys)
    assert detect_format(folder) == "cifar10" and available_splits(folder) == ("train", "test")
    train = open_classification(folder, "train")
    assert train.classes == CIFAR_CLASSES and len(train) == 8 and train.channels == 3
    sample = train[5]  # batch 2, image 1
    assert sample["image"].shape == (32, 32, 3)
    assert sample["image"][7, 9].tolist() == [21, 100, 200]
    assert sample["label"] == 3 and sample["name"] == "img_2_1.png"
    assert open_classification(folder, "test").labels.tolist() == [0, 1, 2]


def test_cifar_parent_folder_and_batch_order(tmp_path: Path) -> None:
    make_cifar(tmp_path / "cifar-10-batches-py", batches=10, per_batch=1)
    train = open_classification(tmp_path, "train")  # the folder the archive was extracted into
    assert [n.split("_")[1] for n in train.names] == [str(b) for b in range(1, 11)]  # 10 after 9, not after 1


def test_cifar_refuses_a_pickle_that_would_run_code(tmp_path: Path) -> None:
    folder = make_cifar(tmp_path / "c")
    evil = b"cos\nsystem\n(S'echo owned'\ntR."  # protocol-0 pickle calling os.system
    (folder / "test_batch").write_bytes(evil)
    with pytest.raises(
        DataError, match=r"test_batch: not a readable CIFAR batch \(refusing to load os.system"
    ):
        open_classification(folder, "test")


def test_cifar_batch_with_wrong_shape_is_refused(tmp_path: Path) -> None:
    folder = make_cifar(tmp_path / "c")
    (folder / "test_batch").write_bytes(
        pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]})
    )
    with pytest.raises(DataError, match=r"test_batch: 'data' must be N x 3072 uint8"):
        open_classification(folder, "test")
    assert load_batch(folder / "batches.meta")["label_names"] == CIFAR_CLASSES


# --- image-folder trees -----------------------------------------------------------------------------


def write_image(path: Path, value: int, *, mode: str = "RGB", size: tuple[int, int] = (6, 4)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, value, value)).save(path)


def test_flat_tree_reads_whole_with_no_split(tmp_path: Path) -> None:
    for cls, n in (("dog", 2), ("cat", 3)):
        for i in range(n):
            write_image(tmp_path / cls / f"{i}.png", 10 * i)
    write_image(tmp_path / "cat" / "sub" / "deep.png", 99)  # nested images count for their class
    write_image(tmp_path / ".cache" / "x.png", 1)  # hidden: ignored
    data = open_classification(tmp_path, "test")
    assert detect_format(tmp_path) == "folder" and available_splits(tmp_path) == ()
    assert data.split is None and data.classes == ["cat", "dog"]
    assert data.labels.tolist() == [0, 0, 0, 0, 1, 1]
    assert data.names[:4] == ["cat/0.png", "cat/1.png", "cat/2.png", "cat/sub/deep.png"]
    assert data[3]["image"].shape == (4, 6, 3) and data[3]["image"][0, 0, 0] == 99


def test_split_tree_unions_classes_over_splits(tmp_path: Path) -> None:
    for split, classes in (("Train", ["10", "2", "9"]), ("test", ["2", "10"])):
        for cls in classes:
            write_image(tmp_path / split / cls / "a.png", int(cls))
    assert available_splits(tmp_path) == ("train", "test")
    test = open_classification(tmp_path, "test")
    assert test.classes == ["2", "9", "10"]  # numeric order, and "9" though the test split lacks it
    assert dict(zip(test.names, test.labels.tolist(), strict=True)) == {"10/a.png": 2, "2/a.png": 0}
    assert test.split == "test"
    with pytest.raises(DataError, match="no 'val' folder"):
        open_classification(tmp_path, "val")


def test_tree_errors_name_the_folder(tmp_path: Path) -> None:
    write_image(tmp_path / "a" / "1.png", 0)
    write_image(tmp_path / "stray.png", 0)
    with pytest.raises(DataError, match=r"images directly in the folder \(stray.png\)"):
        open_classification(tmp_path, "train")
    (tmp_path / "stray.png").unlink()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="empty: a class folder without images"):
        open_classification(tmp_path, "train")


def test_tree_with_given_classes_and_grey(tmp_path: Path) -> None:
    write_image(tmp_path / "b" / "1.png", 50)
    data = open_classification(tmp_path, "train", classes=["a", "b", "c"], channels=1)
    assert data.classes == ["a", "b", "c"] and data.labels.tolist() == [1]
    assert data[0]["image"].shape == (4, 6) and data[0]["image"][0, 0] == 50
    with pytest.raises(DataError, match="class 'b' is not one of the given classes"):
        open_classification(tmp_path, "train", classes=["x"])


def test_unreadable_image_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bad.png").write_bytes(b"not an image")
    data = open_classification(tmp_path, "train")
    with pytest.raises(ValueError, match=r"bad.png"):
        data[0]


def test_shared_cifar10_mini_tree() -> None:
    shared = find_shared()
    root = shared / "data" / "classification" / "cifar10-mini" if shared else None
    if root is None or not root.is_dir():
        pytest.skip("shared/data/classification/cifar10-mini not found")
    train, test = open_classification(root, "train"), open_classification(root, "test")
    assert train.classes == test.classes == CIFAR_CLASSES
    assert train.counts().tolist() == [500] * 10 and test.counts().tolist() == [100] * 10
    assert test[0]["image"].shape == (32, 32, 3)


# --- CSV lists ------------------------------------------------------------------------------------------


def test_csv_with_header_names_and_relative_paths(tmp_path: Path) -> None:
    for name, value in (("x.png", 1), ("y.png", 2), ("z.png", 3)):
        write_image(tmp_path / "img" / name, value)
    listing = tmp_path / "list.csv"
    listing.write_text("path,label\n\n# a comment\nimg/x.png,zebra\nimg/y.png, ant \nimg/z.png,zebra\n")
    data = open_classification(listing, "train")
    assert detect_format(listing) == "csv" and data.split is None
    assert data.classes == ["ant", "zebra"] and data.labels.tolist() == [1, 0, 1]
    assert data.names == ["img/x.png", "img/y.png", "img/z.png"]
    assert data[1]["image"][0, 0].tolist() == [2, 2, 2]


def test_csv_integer_labels_are_indices(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 0)
    (tmp_path / "l.csv").write_text(f"{tmp_path / 'a.png'},3\na.png,007\n")
    data = open_classification(tmp_path / "l.csv", "test")
    assert data.classes == ["0", "1", "2", "3", "4", "5", "6", "7"] and data.labels.tolist() == [3, 7]
    named = open_classification(tmp_path / "l.csv", "test", classes=[f"c{i}" for i in range(8)])
    assert named.labels.tolist() == [3, 7]
    with pytest.raises(DataError, match="label 7 is out of range for 4 classes"):
        open_classification(tmp_path / "l.csv", "test", classes=["a", "b", "c", "d"])


def test_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 0)
    (tmp_path / "bad.csv").write_text("a.png,cat\na.png\n")
    with pytest.raises(DataError, match=r"bad.csv, line 2: expected 'path,label'"):
        open_classification(tmp_path / "bad.csv", "train")
    (tmp_path / "gone.csv").write_text("a.png,cat\nmissing.png,dog\n")
    with pytest.raises(DataError, match=r"gone.csv: 1 listed files do not exist \(.*missing.png\)"):
        open_classification(tmp_path / "gone.csv", "train")
    (tmp_path / "empty.csv").write_text("path,label\n")
    with pytest.raises(DataError, match=r"empty.csv: no 'path,label' rows"):
        open_classification(tmp_path / "empty.csv", "train")


def test_folder_of_split_csvs_shares_classes(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", 0)
    (tmp_path / "train.csv").write_text("a.png,cat\na.png,dog\n")
    (tmp_path / "test.csv").write_text("a.png,dog\n")
    assert detect_format(tmp_path) == "csv" and available_splits(tmp_path) == ("train", "test")
    test = open_classification(tmp_path, "test")
    assert test.split == "test" and test.classes == ["cat", "dog"] and test.labels.tolist() == [1]
    with pytest.raises(DataError, match=r"no val.csv here \(found: train.csv, test.csv\)"):
        open_classification(tmp_path, "val")


# --- the entry point and the set ------------------------------------------------------------------------


def test_open_rejects_bad_requests(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown split 'tets' \\(did you mean 'test'\\?\\)"):
        open_classification(tmp_path, "tets")
    with pytest.raises(DataError, match="nowhere: no such file or folder"):
        open_classification(tmp_path / "nowhere", "train")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"notes.txt: a classification source file must be a .csv"):
        open_classification(tmp_path / "notes.txt", "train")
    with pytest.raises(ValueError, match="channels must be 1"):
        open_classification(tmp_path, "train", channels=2)
    mnist = make_mnist(tmp_path / "m")
    with pytest.raises(DataError, match="are not the expected"):
        open_classification(mnist, "train", classes=["a", "b"])


def test_subset_indexing_and_record(tmp_path: Path) -> None:
    data = open_classification(make_mnist(tmp_path / "m"), "train")
    part = data.subset([11, 0, -1])
    assert len(part) == 3 and part.labels.tolist() == [1, 0, 1] and part.names[1] == "train/00000"
    np.testing.assert_array_equal(part[0]["image"], data[11]["image"])
    np.testing.assert_array_equal(data[-1]["image"], data[11]["image"])
    with pytest.raises(IndexError):
        data[12]
    with pytest.raises(IndexError):
        data.subset([12])
    record = part.record()
    assert record["count"] == 3 and record["split"] == "train" and record["counts"][:2] == [1, 2]
    digest = hashlib.sha256(b"".join(part[i]["image"].tobytes() for i in range(3))).hexdigest()
    assert digest == hashlib.sha256(b"".join(data[i]["image"].tobytes() for i in (11, 0, 11))).hexdigest()


def test_sets_batch_through_a_dataloader(tmp_path: Path) -> None:
    import torch
    from torch.utils.data import DataLoader

    data = open_classification(make_cifar(tmp_path / "c"), "train")
    batch = next(iter(DataLoader(data, batch_size=8)))
    assert batch["image"].shape == (8, 32, 32, 3) and batch["image"].dtype == torch.uint8
    assert batch["label"].tolist() == data.labels.tolist()


# --- Tiny-ImageNet ----------------------------------------------------------------------------------


def make_tiny_imagenet(parent: Path, per_class: int = 3) -> Path:
    """``parent/tiny-imagenet-200`` as released: 3 classes, val labels in a table, an unlabelled test."""
    root = parent / "tiny-imagenet-200"
    wnids = ["n0300", "n0100", "n0200"]  # not sorted: the classes are
    rng = np.random.default_rng(0)
    for wnid in wnids:
        folder = root / "train" / wnid / "images"
        folder.mkdir(parents=True)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(folder / f"{wnid}_{i}.JPEG")
    (root / "val" / "images").mkdir(parents=True)
    (root / "test" / "images").mkdir(parents=True)
    rows = []
    for i, wnid in enumerate(["n0200", "n0100", "n0200", "n0300"]):
        Image.fromarray(rng.integers(0, 256, (64, 64, 3), np.uint8)).save(
            root / "val" / "images" / f"val_{i}.JPEG"
        )
        rows.append(f"val_{i}.JPEG\t{wnid}\t0\t0\t63\t63")
    (root / "val" / "val_annotations.txt").write_text("\n".join(rows))  # no final newline, like the original
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(root / "test" / "images" / "test_0.JPEG")
    (root / "wnids.txt").write_text("\n".join(wnids))
    return root


def test_tiny_imagenet_train_and_val_splits(tmp_path: Path) -> None:
    root = make_tiny_imagenet(tmp_path)
    for spec in (root, tmp_path):  # the folder itself, or the one holding it
        assert detect_format(spec) == "tiny-imagenet"
        assert available_splits(spec) == ("train", "val")
    train = open_classification(tmp_path, "train")
    assert train.classes == ["n0100", "n0200", "n0300"] and train.split == "train"
    assert train.counts().tolist() == [3, 3, 3] and len(train) == 9
    sample = train[0]
    assert sample["image"].shape == (64, 64, 3) and sample["name"] == "n0100/images/n0100_0.JPEG"
    val = open_classification(root, "val", channels=1)
    assert val.labels.tolist() == [1, 0, 1, 2] and val.names[0] == "images/val_0.JPEG"
    assert val[3]["image"].shape == (64, 64)


def test_tiny_imagenet_errors_name_the_file(tmp_path: Path) -> None:
    root = make_tiny_imagenet(tmp_path)
    with pytest.raises(DataError, match=r"test labels are not public.*'val'"):
        open_classification(root, "test")
    table = root / "val" / "val_annotations.txt"
    table.write_text("val_0.JPEG\tn0100\nval_1.JPEG\tn0999\n")
    with pytest.raises(DataError, match=r"val_annotations.txt, line 2: .*n0999"):
        open_classification(root, "val")
    table.write_text("val_9.JPEG\tn0100\n")
    with pytest.raises(DataError, match=r"line 1: no such image .*val_9.JPEG"):
        open_classification(root, "val")
    for image in (root / "train" / "n0200" / "images").iterdir():
        image.unlink()
    with pytest.raises(DataError, match=r"n0200: class 'n0200' of wnids.txt has no training images"):
        open_classification(root, "train")
