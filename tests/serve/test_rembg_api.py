"""rembg's ``/api/remove`` with rembg's parameter names."""

from __future__ import annotations

import numpy as np

from conftest import decoded, photo, upload
from cutkit.serve.rembg import rembg_model, to_cutkit


def test_rembg_names_map_onto_cutkit_options_with_rembg_defaults():
    assert to_cutkit({}) == {
        "matting": False,
        "matting_fg_threshold": 240,
        "matting_bg_threshold": 10,
        "matting_erode": 10,
        "mask": False,
        "post_process": False,
    }
    mapped = to_cutkit(
        {
            "a": "true",
            "af": "200",
            "ab": "20",
            "ae": "5",
            "om": "1",
            "ppm": "true",
            "bgc": "255,0,0,255",
            "model": "silueta",
        }
    )
    assert mapped == {
        "matting": "true",
        "matting_fg_threshold": "200",
        "matting_bg_threshold": "20",
        "matting_erode": "5",
        "mask": "1",
        "post_process": "true",
        "bg": "255,0,0,255",
        "model": "silueta.onnx",
    }
    assert rembg_model("u2netp") == "u2netp" and rembg_model("nonesuch") == "nonesuch"


def test_post_returns_a_png_cutout(client):
    r = client.post("/api/remove", files=upload(photo()))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert decoded(r.content).mode == "RGBA"


def test_only_mask_and_post_process(client):
    r = client.post("/api/remove", files=upload(photo()), data={"om": "true", "ppm": "true"})
    mask = np.asarray(decoded(r.content))
    assert mask.ndim == 2 and set(np.unique(mask)) <= {0, 255}  # post-processing binarises


def test_background_colour_as_query(client):
    r = client.post("/api/remove?bgc=255,0,0,255", files=upload(photo()))
    corner = np.asarray(decoded(r.content).convert("RGBA"))[0, 0]
    assert tuple(corner) == (255, 0, 0, 255)


def test_alpha_matting_with_thresholds(client):
    r = client.post(
        "/api/remove", files=upload(photo()), data={"a": "true", "af": "240", "ab": "10", "ae": "3"}
    )
    assert r.status_code == 200 and decoded(r.content).mode == "RGBA"


def test_unknown_model_lists_ours(client):
    r = client.post("/api/remove", files=upload(photo()), data={"model": "birefnet-nonesuch"})
    assert r.status_code == 400 and "cutnet-duts" in r.json()["error"]["message"]


def test_unknown_parameter(client):
    r = client.post("/api/remove", files=upload(photo()), data={"om": "1", "extras": "{}"})
    assert r.status_code == 400 and "extras" in r.json()["error"]["message"]


def test_bad_colour(client):
    r = client.post("/api/remove?bgc=red", files=upload(photo()))
    assert r.status_code == 400 and "bgc" in r.json()["error"]["message"]


def test_get_by_url_is_off_by_default(client):
    r = client.get("/api/remove", params={"url": "http://example.com/cat.jpg"})
    assert r.status_code == 403 and "--allow-url" in r.json()["error"]["message"]
