"""Oversize bodies, pixel bombs and malformed uploads are refused with a JSON message."""

from __future__ import annotations

from conftest import photo, png_header_only, upload


def test_body_over_the_limit_by_content_length(make_client):
    c = make_client(max_body_mb=0.01)  # 10 KiB
    r = c.post("/v1/remove", content=b"\0" * 20_000, headers={"Content-Type": "image/png"})
    assert r.status_code == 413 and "limit" in r.json()["error"]["message"]


def test_chunked_body_over_the_limit(make_client):
    c = make_client(max_body_mb=0.01)

    def chunks():
        for _ in range(40):
            yield b"\0" * 1000

    r = c.post("/v1/remove", content=chunks(), headers={"Content-Type": "image/png"})
    assert r.status_code == 413


def test_multipart_over_the_limit(make_client):
    c = make_client(max_body_mb=0.01)
    assert c.post("/v1/remove", files=upload(b"\0" * 20_000)).status_code == 413


def test_pixel_bomb_refused_from_its_header(client):
    r = client.post("/v1/remove", files=upload(png_header_only(100_000, 100_000), "bomb.png"))
    assert r.status_code == 413
    assert "bomb.png" in r.json()["error"]["message"]


def test_server_pixel_limit(make_client):
    c = make_client(max_pixels=1000)
    r = c.post("/v1/remove", files=upload(photo(64, 48)))
    assert r.status_code == 413 and "3,072" in r.json()["error"]["message"]
    # a request may lower the limit but never raise it
    assert c.post("/v1/remove?max_pixels=5000", files=upload(photo(8, 8))).status_code == 400


def test_request_lowers_the_pixel_limit(client):
    r = client.post("/v1/remove", files=upload(photo(64, 48)), data={"max_pixels": "100"})
    assert r.status_code == 413


def test_not_an_image(client):
    r = client.post("/v1/remove", files=upload(b"hello, I am text", "notes.png"))
    assert r.status_code == 400
    assert "notes.png" in r.json()["error"]["message"] and "text" in r.json()["error"]["message"]


def test_truncated_image(client):
    r = client.post("/v1/remove", files=upload(photo()[:120], "cut.png"))
    assert r.status_code == 400 and "truncated" in r.json()["error"]["message"]


def test_empty_upload(client):
    r = client.post("/v1/remove", files=upload(b"", "empty.png"))
    assert r.status_code == 400 and "empty" in r.json()["error"]["message"]


def test_no_photo(client):
    r = client.post("/v1/remove", data={"bg": "white"})
    assert r.status_code == 400 and "'file'" in r.json()["error"]["message"]


def test_broken_multipart(client):
    r = client.post(
        "/v1/remove", content=b"--x\r\nnot a part", headers={"Content-Type": "multipart/form-data"}
    )
    assert r.status_code == 400 and r.json()["error"]["message"]


def test_unexpected_file_field_and_content_type(client):
    r = client.post("/v1/remove", files={"photo": ("a.png", photo(), "image/png")})
    assert r.status_code == 400 and "'photo'" in r.json()["error"]["message"]
    r = client.post("/v1/remove", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "application/json" in r.json()["error"]["message"]
