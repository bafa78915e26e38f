"""Every endpoint of the server through an in-process client, and the JSON shape of every error."""

from __future__ import annotations

from conftest import decoded, photo, upload
from cutkit.options import REMOVE_OPTIONS
from cutkit.serve.params import REFUSED


def test_healthz(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["model"] == "cutnet-duts" and body["workers"] == 1


def test_models_lists_the_zoo_with_availability(client):
    body = client.get("/v1/models").json()
    assert body["default"] == "cutnet-duts"
    by_name = {m["name"]: m for m in body["models"]}
    assert by_name["cutnet-duts"]["available"] is True
    assert by_name["cutnet-duts"]["input_size"] == [288, 288]
    assert by_name["cutnet-duts"]["description"]
    assert by_name["u2net"]["available"] is False  # its 176 MB weights are not on this machine


def test_remove_multipart_returns_a_transparent_png(client):
    r = client.post("/v1/remove", files=upload(photo()))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = decoded(r.content)
    assert img.mode == "RGBA" and img.size == (64, 48)


def test_remove_raw_body(client):
    r = client.post("/v1/remove?format=webp", content=photo(), headers={"Content-Type": "image/png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    assert decoded(r.content).size == (64, 48)


def test_each_format_has_its_content_type(client):
    for fmt, kind in (
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("tif", "image/tiff"),
        ("jpeg", "image/jpeg"),
    ):
        r = client.post("/v1/remove", files=upload(photo()), data={"format": fmt, "bg": "white"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == kind
        assert decoded(r.content).mode == "RGB"


def test_options_as_form_and_query_fields(client):
    mask = client.post("/v1/remove", files=upload(photo()), data={"mask": "true"})
    assert decoded(mask.content).mode == "L"
    cropped = client.post("/v1/remove?crop=true", files=upload(photo(96, 64)))
    assert cropped.status_code == 200
    assert decoded(cropped.content).size[0] < 96  # cropped to the disc


def test_background_image_upload(client):
    files = {**upload(photo()), "bg_file": ("bg.png", photo(32, 32), "image/png")}
    r = client.post("/v1/remove", files=files)
    assert r.status_code == 200 and decoded(r.content).mode == "RGB"


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/missing.js").json()["error"]["status"] == 404


def test_openapi_documents_every_request_option(client):
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/v1/remove"]["post"]
    query = {p["name"]: p["schema"] for p in op["parameters"]}
    form = op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    expected = {o.name for o in REMOVE_OPTIONS} - set(REFUSED)
    assert set(query) == expected and expected <= set(form)
    assert query["format"]["enum"] == ["png", "webp", "jpg", "tif"]
    assert query["matting_fg_threshold"] == {
        **query["matting_fg_threshold"],
        "type": "integer",
        "maximum": 255,
    }
    assert form["file"]["format"] == "binary"
    assert "/api/remove" in spec["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_not_found_and_wrong_method_are_json(client):
    assert client.get("/nope").json() == {"error": {"status": 404, "message": "Not Found"}}
    r = client.get("/v1/remove")
    assert r.status_code == 405 and r.json()["error"]["status"] == 405


def test_validation_error_is_json(client):
    # The app's routes read their own fields; a typed route added here shows FastAPI's 422 goes through
    # the same JSON shape.
    app = client.app

    @app.get("/typed")
    def typed(n: int) -> dict:
        return {"n": n}

    r = client.get("/typed?n=abc")
    assert r.status_code == 422
    assert r.json()["error"]["status"] == 422 and "n" in r.json()["error"]["message"]


def test_unexpected_error_is_500_without_traceback(make_client):
    c = make_client(raise_server_exceptions=False)
    state = c.app.state.cutkit

    class Broken:
        def remove(self, *args, **kwargs):
            raise RuntimeError("secret detail at /srv/internal/path")

    state.sessions.get = lambda options: Broken()
    r = c.post("/v1/remove", files=upload(photo()))
    assert r.status_code == 500
    message = r.json()["error"]["message"]
    assert "RuntimeError" in message and "secret" not in message and "Traceback" not in r.text
