"""`--data mnist` / `fashion-mnist` / `cifar10`: downloaded once, checked, unpacked whole, offline explained.

The registry's real URLs are replaced by a local HTTP server on 127.0.0.1 serving small files written here,
with their true MD5s and sizes; the cache is a temporary ``$CUTKIT_HOME``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import pickle
import socket
import struct
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cutkit.cli.main import main
from cutkit.data.classify import DataError, detect_format, named, open_classification
from cutkit.zoo.spec import WeightsFile

MNIST_NAMES = named._MNIST_NAMES


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """``(folder, base URL)``: what is written into the folder is served at the URL."""
    folder = tmp_path / "www"
    folder.mkdir()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUTKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # a folder named like a dataset would win over the name
    return tmp_path / "home"


def _idx(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return gzip.compress(header + arr.astype(np.uint8).tobytes())


def _entry(name: str, base: str, payloads: dict[str, bytes], **kw: object) -> named.NamedDataset:
    files = tuple(
        WeightsFile(filename=f, urls=(base + f,), md5=hashlib.md5(data).hexdigest(), size=len(data))
        for f, data in payloads.items()
    )
    return named.NamedDataset(name=name, files=files, **kw)


def _serve_mnist(folder: Path, n: int = 12) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    payloads = {}
    for images, labels, count in ((MNIST_NAMES[0], MNIST_NAMES[1], n), (MNIST_NAMES[2], MNIST_NAMES[3], 5)):
        payloads[images] = _idx(rng.integers(0, 256, (count, 28, 28)))
        payloads[labels] = _idx(np.arange(count) % 10)
    for name, data in payloads.items():
        (folder / name).write_bytes(data)
    return payloads


def test_the_registry_names_real_sources() -> None:
    assert set(named.DATASETS) == {"mnist", "fashion-mnist", "cifar10"}
    for dataset in named.DATASETS.values():
        assert dataset.licence and dataset.files
        for wf in dataset.files:
            assert wf.urls and all(u.startswith(("https://", "http://")) for u in wf.urls)
            assert wf.md5 and len(wf.md5) == 32 and wf.size and wf.size > 0
    assert len(named.DATASETS["fashion-mnist"].classes) == 10


def test_a_named_mnist_is_downloaded_once_then_read_offline(
    served: tuple[Path, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, base = served
    payloads = _serve_mnist(folder)
    monkeypatch.setitem(named.DATASETS, "mnist", _entry("mnist", base, payloads))
    train = open_classification("mnist", "train")
    assert len(train) == 12 and train.classes == [str(i) for i in range(10)] and train.channels == 1
    assert sorted(p.name for p in (home / "datasets" / "mnist").iterdir()) == sorted(MNIST_NAMES)
    for name in payloads:
        (folder / name).unlink()  # the server has nothing now: the cache must serve
    assert len(open_classification("MNIST", "test")) == 5 and detect_format("mnist") == "mnist"


def test_fashion_mnist_gets_its_class_names(
    served: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, base = served
    entry = _entry("fashion-mnist", base, _serve_mnist(folder), classes=named._FASHION_CLASSES)
    monkeypatch.setitem(named.DATASETS, "fashion-mnist", entry)
    assert open_classification("fashion-mnist", "test").classes[9] == "Ankle boot"


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more


def test_offline_the_error_says_where_to_get_the_files(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _refused_url()
    monkeypatch.setitem(named.DATASETS, "mnist", _entry("mnist", base, {n: b"x" for n in MNIST_NAMES}))
    code = main(["train", "classify", "--data", "mnist", "--epochs", "1", "--project", str(home / "runs")])
    err = capsys.readouterr().err
    assert code == 2
    assert "dataset 'mnist': could not download train-images-idx3-ubyte.gz" in err
    assert base + "train-images-idx3-ubyte.gz" in err and str(home / "datasets" / "mnist") in err
    assert "--data FOLDER" in err
    assert not (home / "datasets" / "mnist" / MNIST_NAMES[0]).exists() and not (home / "runs").exists()


def test_a_file_with_the_wrong_checksum_is_not_kept(
    served: tuple[Path, str], home: Path, monkeypatch
) -> None:
    folder, base = served
    payloads = _serve_mnist(folder)
    entry = _entry("mnist", base, payloads)
    tampered = bytearray(payloads[MNIST_NAMES[1]])
    tampered[len(tampered) // 2] ^= 0xFF
    (folder / MNIST_NAMES[1]).write_bytes(bytes(tampered))  # same size, other bytes
    monkeypatch.setitem(named.DATASETS, "mnist", entry)
    with pytest.raises(DataError, match="md5"):
        open_classification("mnist", "train")
    assert not (home / "datasets" / "mnist" / MNIST_NAMES[1]).exists()


def _cifar_archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _batch(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    return pickle.dumps(
        {"data": data, "labels": list(np.arange(n) % 10), "filenames": [f"{i}.png" for i in range(n)]}
    )


def _cifar_members() -> dict[str, bytes]:
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    members = {f"cifar-10-batches-py/data_batch_{i}": _batch(4, i) for i in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = _batch(3, 9)
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({"label_names": names})
    return members


def test_cifar10_is_unpacked_whole(served: tuple[Path, str], home: Path, monkeypatch) -> None:
    folder, base = served
    archive = _cifar_archive(_cifar_members())
    (folder / "cifar-10-python.tar.gz").write_bytes(archive)
    entry = _entry(
        "cifar10", base, {"cifar-10-python.tar.gz": archive}, unpack=True, folder="cifar-10-batches-py"
    )
    monkeypatch.setitem(named.DATASETS, "cifar10", entry)
    train = open_classification("cifar10", "train")
    assert len(train) == 20 and train.classes[0] == "airplane" and train[0]["image"].shape == (32, 32, 3)
    root = home / "datasets" / "cifar10"
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]  # archive deleted, no leftovers
    (folder / "cifar-10-python.tar.gz").unlink()
    assert len(open_classification("cifar10", "test")) == 3  # from the cache


def test_an_archive_reaching_outside_its_folder_is_refused(
    served: tuple[Path, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, base = served
    archive = _cifar_archive({**_cifar_members(), "../../escaped.txt": b"gotcha"})
    (folder / "cifar-10-python.tar.gz").write_bytes(archive)
    entry = _entry(
        "cifar10", base, {"cifar-10-python.tar.gz": archive}, unpack=True, folder="cifar-10-batches-py"
    )
    monkeypatch.setitem(named.DATASETS, "cifar10", entry)
    with pytest.raises(DataError, match="cannot unpack it"):
        open_classification("cifar10", "train")
    root = home / "datasets" / "cifar10"
    assert not (root / "cifar-10-batches-py").exists() and not (root / ".unpacking").exists()
    assert not any(p.name == "escaped.txt" for p in home.parent.rglob("escaped.txt"))


def test_an_existing_folder_wins_over_a_name(tmp_path: Path) -> None:
    (tmp_path / "mnist" / "digits").mkdir(parents=True)  # a user's image-folder tree called mnist
    from PIL import Image

    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "mnist" / "digits" / "a.png")
    assert detect_format("mnist") == "folder"
    with pytest.raises(DataError, match="dataset name: mnist, fashion-mnist, cifar10"):
        open_classification("mnits", "train")
