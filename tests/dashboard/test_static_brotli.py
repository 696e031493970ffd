"""Static scripts at Brotli 11: the first answer is Flask-Compress's, later ones the smaller
body made in the background; revalidation answers 304; a browser without Brotli gets what
Flask-Compress gives it."""
from __future__ import annotations

import time

import brotli
import flask
from flask_compress import Compress

from dashboard.paths import assets_dir
from dashboard.static_brotli import StaticBrotli

SCRIPT = (assets_dir() / "live.js").read_bytes()


def _app() -> flask.Flask:
    app = flask.Flask(__name__, static_folder=str(assets_dir()), static_url_path="/assets")
    app.config.update(COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_BR_LEVEL=5)
    app.get("/api/x")(lambda: flask.Response(SCRIPT, mimetype="application/javascript"))
    Compress(app)
    StaticBrotli().install(app)
    return app


def _get(client, path: str, **headers: str):  # noqa: ANN001, ANN202
    return client.get(path, headers={"Accept-Encoding": "br, gzip", **headers})


def test_a_script_is_served_at_brotli_11_once_it_is_made():
    client = _app().test_client()
    first = _get(client, "/assets/live.js")
    assert first.headers["Content-Encoding"] == "br"
    assert brotli.decompress(first.data) == SCRIPT
    best = first
    for _ in range(50):  # the background compression takes well under a second
        best = _get(client, "/assets/live.js")
        if best.headers["ETag"].endswith(':br11"'):
            break
        time.sleep(0.05)
    assert best.headers["ETag"].endswith(':br11"'), "never served the quality-11 body"
    assert brotli.decompress(best.data) == SCRIPT
    assert len(best.data) < len(first.data)
    again = _get(client, "/assets/live.js", **{"If-None-Match": best.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_other_answers_and_browsers_without_brotli_are_left_to_flask_compress():
    client = _app().test_client()
    for _ in range(3):
        dynamic = _get(client, "/api/x")
        time.sleep(0.1)
    assert not dynamic.headers.get("ETag", "").endswith(':br11"')
    assert brotli.decompress(dynamic.data) == SCRIPT  # still compressed, at level 5
    plain = client.get("/assets/live.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == SCRIPT
