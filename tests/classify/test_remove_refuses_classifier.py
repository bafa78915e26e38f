"""`cutkit remove` given a classification run: a clear error, not a broken model spec."""

from __future__ import annotations

import numpy as np
from PIL import Image

from _tiny_classifier import cached_run
from cutkit.cli.main import main


def test_remove_with_a_classifier_run_says_to_use_predict(tmp_path_factory, capsys) -> None:
    """A classification run is not a background remover: the error names the run and the right command."""
    _, run = cached_run(tmp_path_factory)
    photo = tmp_path_factory.mktemp("photo") / "a.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(photo)
    assert main(["remove", str(photo), "--model", str(run), "-o", str(photo.with_name("out.png"))]) == 2
    err = capsys.readouterr().err
    assert "a trained classifier, not a background-removal model" in err and "cutkit predict" in err
