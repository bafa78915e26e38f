"""``cutkit serve``: the HTTP API and the web page (needs the ``server`` extra: FastAPI, uvicorn)."""
