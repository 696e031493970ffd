"""Live view by the camera's kind: /video/live/<id> plays HLS with hls.js, HTTP-FLV or MPEG-TS with
mpegts.js (both vendored under assets/vendor, loaded by this page only), MJPEG in an <img>; the
upstream playlist, segments and streams reach the browser through a scoped same-origin proxy,
so its URL and credentials never leave the server."""
from __future__ import annotations

import html
import logging
import posixpath
from collections.abc import Callable, Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import flask
import redis
import requests

from domain.access import User
from domain.video import Camera, CameraKind
from feeds.video.httpauth import redact
from feeds.video.playback import PlaybackError, open_get
from feeds.video.store import record_view

log = logging.getLogger(__name__)

HLS_JS = "/assets/vendor/hls.js-1.7.4/hls.min.js"
MPEGTS_JS = "/assets/vendor/mpegts.js-1.8.2/mpegts.js"
PLAYER_JS = "/assets/player/liveplayer.js"
# asset folders Dash must not put on every page (dashboard/app.py assets_path_ignore)
PLAYER_ASSET_DIRS = (r"^hls\.js-\d", r"^mpegts\.js-\d", r"^player$")
PROXY_TIMEOUT_S = 10.0
PASSED_HEADERS = ("Content-Type", "Content-Length", "Cache-Control")
CHUNK = 64 * 1024


def live_path(camera_id: str, name: str = "") -> str:
    """The dashboard's proxy path of a camera's live stream (its file name by default)."""
    return f"/video/camera/{quote(camera_id, safe='')}/live/{quote(name, safe='/')}"


def stream_name(cam: Camera) -> str:
    """The last part of the stream URL's path: the playlist or stream file."""
    return posixpath.basename(urlsplit(cam.stream_url).path) or "index"


def upstream_url(cam: Camera, rest: str) -> str | None:
    """The upstream URL of a proxied path: beside the stream URL (its directory), the query
    kept for the stream file itself; None if the path leaves that directory."""
    u = urlsplit(cam.stream_url)
    if not rest or ".." in rest.split("/") or rest.startswith("/") or "\\" in rest:
        return None
    folder = posixpath.dirname(u.path)
    target = posixpath.normpath(posixpath.join(folder, rest))
    if not target.startswith(folder.rstrip("/") + "/"):
        return None
    query = u.query if rest == stream_name(cam) else flask.request.query_string.decode()
    return urlunsplit(u._replace(path=target, query=query))


def page(cam: Camera, lang: str) -> str:
    """The live page: one player of the camera's kind and its state line."""
    name = html.escape(cam.name)
    if cam.kind is CameraKind.HLS or cam.kind is CameraKind.FLV:
        lib = HLS_JS if cam.kind is CameraKind.HLS else MPEGTS_JS
        src = html.escape(live_path(cam.camera_id, stream_name(cam)))
        player = (f'<video id="gw-live" class="gw-live" muted autoplay playsinline controls '
                  f'data-kind="{cam.kind.value}" data-src="{src}"></video>'
                  f'<script src="{lib}"></script>')
    else:
        src = f"/video/camera/{quote(cam.camera_id, safe='')}.mjpg"
        player = (f'<img id="gw-live" class="gw-live" alt="{name}" data-kind="mjpeg" '
                  f'src="{html.escape(src)}">')
    return (f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
            f'<title>{name}</title><link rel="icon" href="data:,">'
            '<link rel="stylesheet" href="/assets/video.css"></head>'
            f'<body class="gw-live-page"><h1>{name}</h1>{player}'
            f'<p id="gw-live-state" role="status"></p><script src="{PLAYER_JS}"></script>'
            "</body></html>")


def proxy(cam: Camera, rest: str) -> flask.Response:
    """Relay one upstream file or live stream (playlist, segment, FLV/TS stream)."""
    url = upstream_url(cam, rest)
    if url is None:
        return flask.Response("path outside the camera's stream folder\n", 404,
                              {"Content-Type": "text/plain; charset=utf-8"})
    try:
        r = open_get(url, PROXY_TIMEOUT_S)
    except (PlaybackError, requests.RequestException) as e:
        log.info("live proxy %s: %s", redact(url), type(e).__name__)
        return flask.Response(f"camera unreachable: {type(e).__name__}\n", 502,
                              {"Content-Type": "text/plain; charset=utf-8"})
    if r.status_code != 200:
        r.close()
        return flask.Response(f"camera answered {r.status_code}\n", 502 if r.status_code >= 500
                              else 404, {"Content-Type": "text/plain; charset=utf-8"})

    def body() -> Iterator[bytes]:
        with r:
            yield from r.iter_content(CHUNK)

    headers = {k: r.headers[k] for k in PASSED_HEADERS if k in r.headers}
    headers.setdefault("Cache-Control", "no-store")
    return flask.Response(flask.stream_with_context(body()), 200, headers)


def register(bp: flask.Blueprint, camera_of: Callable[[str, User], Camera | flask.Response],
             client: redis.Redis) -> None:
    """Add the live page and the proxy to the video blueprint (`camera_of(id, user)`: the
    camera if the user may see it, else the error response)."""

    @bp.get("/video/live/<camera_id>")
    def live_page(camera_id: str) -> flask.Response:
        user: User = flask.g.user
        cam = camera_of(camera_id, user)
        if isinstance(cam, flask.Response):
            return cam
        record_view(client, user, cam.camera_id, "video.live")
        lang = flask.request.args.get("lang", "zh")
        return flask.Response(page(cam, lang if lang in ("zh", "en") else "zh"), 200,
                              {"Content-Type": "text/html; charset=utf-8",
                               "Cache-Control": "no-store"})

    @bp.get("/video/camera/<camera_id>/live/<path:rest>")
    def live_proxy(camera_id: str, rest: str) -> flask.Response:
        cam = camera_of(camera_id, flask.g.user)
        if isinstance(cam, flask.Response):
            return cam
        if not cam.kind.browser_plays:
            return flask.Response(f"camera {cam.camera_id} is {cam.kind.value}: watch "
                                  f"/video/camera/{quote(cam.camera_id, safe='')}.mjpg\n", 404,
                                  {"Content-Type": "text/plain; charset=utf-8"})
        return proxy(cam, rest)
