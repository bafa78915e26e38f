"""The classifier run format (model.json + model.safetensors), inference preprocessing and the val split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cutkit.engine.classify import Classifier, fit_image, to_input
from cutkit.nets import build_net
from cutkit.train.classify_data import stratified_split
from cutkit.zoo.classifier import (
    ClassifierError,
    ClassifierSpec,
    find_classifier,
    is_classifier,
    load_classifier,
    save_classifier,
)


def _spec(**kw) -> ClassifierSpec:
    base = dict(
        name="tiny", arch="simple-cnn", arch_kwargs={"num_classes": 3, "in_channels": 1, "hidden": 16},
        classes=("a", "b", "c"), input_size=(12, 12), in_channels=1, mean=(0.5,), std=(0.25,),
    )  # fmt: skip
    return ClassifierSpec(**{**base, **kw})


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    spec = _spec()
    save_classifier(build_net(spec.arch, **spec.arch_kwargs), tmp_path / "run", spec)
    return tmp_path / "run"


def test_save_and_load_round_trip(run_dir: Path) -> None:
    data = json.loads((run_dir / "model.json").read_text())
    assert data["format"] == "cutkit-classifier" and data["classes"] == ["a", "b", "c"]
    assert is_classifier(run_dir) and is_classifier(run_dir / "model.safetensors")
    net, spec = load_classifier(run_dir / "model.json")
    assert spec == _spec() and not net.training
    torch.manual_seed(0)
    fresh = build_net(spec.arch, **spec.arch_kwargs).eval()
    x = torch.randn(2, 1, 12, 12)
    assert torch.equal(net(x), fresh(x))  # the saved weights, not a new initialisation


def test_spec_rejects_inconsistent_fields() -> None:
    with pytest.raises(ClassifierError, match="1 value"):
        _spec(mean=(0.5, 0.5, 0.5))
    with pytest.raises(ClassifierError, match="in_channels must be 1 or 3"):
        _spec(in_channels=2)
    with pytest.raises(ClassifierError, match="2 or more classes"):
        _spec(classes=("a",))


def test_not_a_classifier_is_a_clear_error(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(ClassifierError, match="not a trained classifier"):
        find_classifier(tmp_path / "missing")
    seg = tmp_path / "seg"
    seg.mkdir()
    (seg / "model.json").write_text(json.dumps({"name": "x", "arch": "cutnet"}))
    (seg / "model.safetensors").write_bytes((run_dir / "model.safetensors").read_bytes())
    assert not is_classifier(seg)
    with pytest.raises(ClassifierError, match="not a classifier's spec"):
        load_classifier(seg)
    (seg / "model.json").write_text("{broken")
    with pytest.raises(ClassifierError, match="not valid JSON"):
        load_classifier(seg)


def test_fit_image_converts_channels_and_size() -> None:
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 0] = 255  # pure red: luma 0.299 * 255
    grey = fit_image(rgb, size=(10, 15), channels=1)
    assert grey.shape == (10, 15, 1) and abs(int(grey[5, 5, 0]) - 76) <= 1
    back = fit_image(grey, size=(10, 15), channels=3)
    assert back.shape == (10, 15, 3) and (back[..., 0] == back[..., 2]).all()
    rgba = np.zeros((8, 8, 4), np.uint8)  # fully transparent: white, as a viewer shows it
    assert (fit_image(rgba, size=(8, 8), channels=3) == 255).all()
    with pytest.raises(ValueError, match="uint8"):
        fit_image(np.zeros((4, 4), np.float32), size=(4, 4), channels=1)


def test_to_input_normalises_per_channel() -> None:
    batch = torch.full((2, 4, 4, 3), 255, dtype=torch.uint8)
    x = to_input(batch, (0.5, 0.0, 1.0), (0.5, 1.0, 0.25), "cpu")
    assert x.shape == (2, 3, 4, 4)
    assert torch.allclose(x[0, :, 0, 0], torch.tensor([1.0, 1.0, 0.0]))


def test_predict_returns_sorted_probabilities(run_dir: Path) -> None:
    clf = Classifier.from_run(run_dir)
    images = [np.random.default_rng(i).integers(0, 256, (20, 20, 3), dtype=np.uint8) for i in range(3)]
    top = clf.predict(images, top_k=5)  # more than the 3 classes: all of them
    assert len(top) == 3
    for row in top:
        assert sorted(name for name, _ in row) == ["a", "b", "c"]
        probs = [p for _, p in row]
        assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-5)
    assert [len(r) for r in clf.predict(images, top_k=1)] == [1, 1, 1]
    logits = clf.logits(images)
    assert [r[0][0] for r in top] == [clf.spec.classes[i] for i in logits.argmax(1).tolist()]


def test_stratified_split_keeps_every_class_and_is_seeded() -> None:
    labels = np.array([0] * 100 + [1] * 10 + [2] * 2)
    train, val = stratified_split(labels, 0.1, seed=5)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(labels)
    assert np.bincount(labels[val]).tolist() == [10, 1, 1]
    assert set(labels[train]) == {0, 1, 2}
    again = stratified_split(labels, 0.1, seed=5)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(stratified_split(labels, 0.1, seed=6)[1], val)
    assert len(stratified_split(labels, 0.0, seed=5)[1]) == 0


def test_channel_pruned_weights_rebuild_a_narrower_network(tmp_path: Path) -> None:
    """A channel-pruned run keeps the original keywords; the layer widths come from its weights."""
    narrow = build_net("simple-cnn", num_classes=3, in_channels=1, hidden=16, width=0.5).eval()
    spec = _spec(pruned={"method": "channel", "amount": 0.5})
    save_classifier(narrow, tmp_path / "pruned", spec)
    net, loaded = load_classifier(tmp_path / "pruned")
    assert loaded.pruned == {"method": "channel", "amount": 0.5}
    x = torch.randn(2, 1, 12, 12)
    assert torch.equal(net(x), narrow(x))
    save_classifier(narrow, tmp_path / "plain", _spec())
    with pytest.raises(ClassifierError, match=r"model\.safetensors"):  # not marked pruned: shapes do not fit
        load_classifier(tmp_path / "plain")
