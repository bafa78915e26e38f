"""API key and CORS."""

from __future__ import annotations

import pytest

from conftest import photo, upload

KEY = "s3cret-key"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/remove"),
        ("get", "/v1/models"),
        ("post", "/api/remove"),
        ("get", "/api/remove"),
        ("get", "/metrics"),
    ],
)
def test_key_required(make_client, method, path):
    c = make_client(api_key=KEY)
    r = getattr(c, method)(path)
    assert r.status_code == 401 and "X-API-Key" in r.json()["error"]["message"]
    r = getattr(c, method)(path, headers={"X-API-Key": "wrong"})
    assert r.status_code == 401


def test_right_key_passes_and_open_paths_stay_open(make_client):
    c = make_client(api_key=KEY)
    assert c.post("/v1/remove", files=upload(photo()), headers={"X-API-Key": KEY}).status_code == 200
    for path in ("/", "/healthz", "/static/app.js", "/docs"):
        assert c.get(path).status_code == 200, path


def test_key_from_the_environment(make_client, monkeypatch):
    monkeypatch.setenv("CUTKIT_API_KEY", "from-env")
    c = make_client()
    assert c.get("/v1/models").status_code == 401
    assert c.get("/v1/models", headers={"X-API-Key": "from-env"}).status_code == 200


def test_no_cors_by_default(client):
    r = client.get("/v1/models", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_for_configured_origins(make_client):
    c = make_client(cors=("https://app.example",), api_key=KEY)
    r = c.get("/v1/models", headers={"Origin": "https://app.example", "X-API-Key": KEY})
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    # the preflight passes without the key, and a refused request still carries the header
    pre = c.options(
        "/v1/remove",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    assert pre.status_code == 200 and "x-api-key" in pre.headers["access-control-allow-headers"].lower()
    denied = c.get("/v1/models", headers={"Origin": "https://app.example"})
    assert (
        denied.status_code == 401 and denied.headers["access-control-allow-origin"] == "https://app.example"
    )
    other = c.get("/v1/models", headers={"Origin": "https://evil.example", "X-API-Key": KEY})
    assert "access-control-allow-origin" not in other.headers
