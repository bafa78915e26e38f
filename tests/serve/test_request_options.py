"""Request options: checked against REMOVE_OPTIONS, and nothing in a request may name a server path."""

from __future__ import annotations

import pytest

from conftest import decoded, photo, upload


def _error(r) -> str:
    assert r.status_code == 400, r.text
    return r.json()["error"]["message"]


def test_unknown_option_suggests_the_closest(client):
    assert "did you mean 'matting'" in _error(client.post("/v1/remove?mating=1", files=upload(photo())))


def test_bad_value_names_the_option(client):
    message = _error(client.post("/v1/remove", files=upload(photo()), data={"format": "gif"}))
    assert "option 'format'" in message
    assert "margin" in _error(client.post("/v1/remove", files=upload(photo()), data={"margin": "lots"}))


@pytest.mark.parametrize(
    ("field", "value", "expect"),
    [
        ("weights", "/etc/passwd", "names a file"),
        ("model", "/srv/models/evil.onnx", "unknown model"),
        ("model", "../runs/salient/x", "unknown model"),
        ("bg", "/etc/hosts.png", "bg_file"),
        ("bg", "backgrounds/beach.jpg", "bg_file"),
        ("threads", "64", "server-wide"),
    ],
)
def test_paths_and_server_settings_refused(client, field, value, expect):
    assert expect in _error(client.post("/v1/remove", files=upload(photo()), data={field: value}))


def test_unknown_model_lists_the_available_ones(client):
    message = _error(client.post("/v1/remove", files=upload(photo()), data={"model": "u2nett"}))
    assert "did you mean" in message and "available here: cutnet-duts" in message


def test_model_without_weights_is_refused_not_downloaded(client):
    message = _error(client.post("/v1/remove", files=upload(photo()), data={"model": "u2net"}))
    assert "not available" in message


def test_rembg_alias_and_colour_background(client):
    r = client.post("/v1/remove", files=upload(photo()), data={"only_mask": "1"})
    assert decoded(r.content).mode == "L"
    r = client.post("/v1/remove", files=upload(photo()), data={"bg": "#00ff00"})
    assert decoded(r.content).mode == "RGB"


def test_same_field_in_query_and_form_must_agree(client):
    message = _error(client.post("/v1/remove?bg=red", files=upload(photo()), data={"bg": "blue"}))
    assert "given twice" in message


def test_jpeg_needs_an_opaque_background(client):
    assert "JPEG" in _error(client.post("/v1/remove", files=upload(photo()), data={"format": "jpg"}))
