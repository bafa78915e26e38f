"""A classifier exported to ONNX: fp32 matches torch, int8 runs in ONNX Runtime and agrees with fp32.

Tolerances: fp32 ONNX Runtime vs torch logits, max |d| <= 1e-4 (they differ only by summation order; measured
1.9e-6). int8 vs fp32: the same top-1 class on >= 95 % of the 60 test images (measured 100 %), and a file at
most 40 % of the fp32 one (weights 4x smaller; measured 30 %).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from _tiny_classifier import cached_run
from cutkit.cli.main import main
from cutkit.compress.quantize import META_CLASSIFIER, preprocess
from cutkit.data.classify import open_classification
from cutkit.engine.export import read_metadata as read_onnx_metadata
from cutkit.zoo.classifier import ClassifierSpec, load_classifier

ort = pytest.importorskip("onnxruntime")
pytestmark = pytest.mark.xdist_group("tiny-classifier")


@pytest.fixture(autouse=True)
def _quiet_quantizer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR)  # onnxruntime.quantization advises pre-processing on the root logger


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, Path]:
    data, run = cached_run(tmp_path_factory)
    out = tmp_path_factory.mktemp("onnx")
    assert main(["export", str(run), "-o", str(out / "fp32.onnx")]) == 0
    assert main(["export", str(run), "-o", str(out / "int8.onnx"), "--int8"]) == 0
    return data, run, out / "fp32.onnx", out / "int8.onnx"


def _logits(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["logits"], {"input": x})[0]


def _test_inputs(data: Path, spec: ClassifierSpec) -> tuple[np.ndarray, np.ndarray]:
    test = open_classification(str(data), "test")
    return preprocess([test.image(i) for i in range(len(test))], spec), np.asarray(test.labels)


def test_fp32_onnx_matches_torch_and_carries_the_spec(exported: tuple[Path, Path, Path, Path]) -> None:
    data, run, fp32, _ = exported
    net, spec = load_classifier(run)
    x, _ = _test_inputs(data, spec)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)).numpy()
    diff = np.abs(_logits(fp32, x) - expected).max()
    print(f"fp32 ONNX vs torch: max |d| {diff:.2e}")
    assert diff <= 1e-4
    meta = read_onnx_metadata(fp32)
    assert ClassifierSpec.from_dict(json.loads(meta[META_CLASSIFIER])) == spec


def test_int8_runs_and_agrees_with_fp32(exported: tuple[Path, Path, Path, Path]) -> None:
    data, run, fp32, int8 = exported
    _, spec = load_classifier(run)
    x, labels = _test_inputs(data, spec)
    top_fp32, top_int8 = _logits(fp32, x).argmax(1), _logits(int8, x).argmax(1)
    agree = (top_fp32 == top_int8).mean()
    print(f"int8/fp32 agreement {agree:.3f}, size ratio {int8.stat().st_size / fp32.stat().st_size:.3f}")
    assert agree >= 0.95
    assert (top_int8 == labels).mean() >= 0.9  # still a working classifier, not only a faithful copy
    assert int8.stat().st_size <= 0.4 * fp32.stat().st_size
    assert META_CLASSIFIER in read_onnx_metadata(int8)
    ops = {n.op_type for n in onnx.load(str(int8)).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops


def test_export_errors_are_clear(exported: tuple[Path, Path, Path, Path], tmp_path: Path, capsys) -> None:
    _, run, _, _ = exported
    code = main(
        ["export", str(run), "-o", str(tmp_path / "x.onnx"), "--int8", "--calib", str(tmp_path / "nope")]
    )
    assert code == 2 and "nope" in capsys.readouterr().err
    code = main(["export", str(run), "-o", str(tmp_path / "x.onnx"), "--weights", "w.safetensors"])
    assert code == 2 and "--weights is for zoo models" in capsys.readouterr().err


def _predict_json(model: Path, images: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, list]:
    capsys.readouterr()
    assert (
        main(["predict", "--model", str(model), str(images), "--json", "--top-k", "2", "--device", "cpu"])
        == 0
    )
    return {Path(r["image"]).name: r["top"] for r in json.loads(capsys.readouterr().out)}


def test_predict_and_eval_run_the_exported_file(
    exported: tuple[Path, Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The .onnx file labels images as its run does: fp32 probabilities within 1e-4, int8 the same top-1
    on >= 95 % of the images, and `eval --task classify` scores it (accuracy >= 0.9, as above)."""
    data, run, fp32, int8 = exported
    images = data / "test" / "bright"
    by_run, by_fp32 = _predict_json(run, images, capsys), _predict_json(fp32, images, capsys)
    assert by_run.keys() == by_fp32.keys() and len(by_run) == 30
    for name, top in by_run.items():
        assert [t["label"] for t in top] == [t["label"] for t in by_fp32[name]]
        assert all(
            abs(a["probability"] - b["probability"]) <= 1e-4 for a, b in zip(top, by_fp32[name], strict=True)
        )
    by_int8 = _predict_json(int8, images, capsys)
    same = np.mean([by_int8[n][0]["label"] == top[0]["label"] for n, top in by_run.items()])
    assert same >= 0.95

    assert main(["eval", "--task", "classify", "--model", str(int8), "--data", str(data), "--json",
                 "-o", str(fp32.parent / "eval-int8")]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["accuracy"] >= 0.9 and summary["model"] == str(int8)


def test_the_exported_file_is_refused_where_it_cannot_serve(
    exported: tuple[Path, Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _, fp32, _ = exported
    image = next((data / "test" / "dim").iterdir())
    assert main(["remove", str(image), "--model", str(fp32), "-o", str(tmp_path / "cut.png")]) == 2
    err = capsys.readouterr().err
    assert "an exported classifier, not a background-removal model" in err and "cutkit predict" in err
    assert main(["explain", "--model", str(fp32), str(image), "-o", str(tmp_path / "maps")]) == 2
    assert "need the PyTorch network's gradients" in capsys.readouterr().err
    assert not (tmp_path / "cut.png").exists() and not (tmp_path / "maps").exists()

    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["input"], ["logits"])], "plain",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [1, 2])],
        [onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [1, 2])],
    )  # fmt: skip
    plain = tmp_path / "plain.onnx"
    onnx.save(onnx.helper.make_model(graph), str(plain))
    assert main(["predict", "--model", str(plain), str(image)]) == 2
    assert "without cutkit's classifier metadata" in capsys.readouterr().err
    (tmp_path / "junk.onnx").write_bytes(b"not onnx at all")
    assert main(["predict", "--model", str(tmp_path / "junk.onnx"), str(image)]) == 2
    assert "junk.onnx: not a readable ONNX file" in capsys.readouterr().err
