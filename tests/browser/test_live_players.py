"""Live view by kind in headless Chromium: an HLS camera (segments ffmpeg writes, served over
loopback HTTP) plays through hls.js, HTTP-FLV and MPEG-TS live streams (ffmpeg piped out by a
loopback server) through mpegts.js — all through the dashboard's scoped same-origin proxy,
under the app's Content-Security-Policy."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import flask
import pytest
import redis
from werkzeug.serving import make_server

from dashboard import auth as web_auth
from dashboard import public, video_routes
from domain.access import Role, User
from domain.regions import Level
from domain.video import Camera, CameraKind
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.video.registry import save_cameras
from tests.support import CHROMIUM, CHROMIUM_ARGS
from tests.video_support import FFMPEG_SOURCE, hls_writer, wait_for

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM) or not shutil.which("ffmpeg"),
                                 reason="no /usr/bin/chromium or ffmpeg")]
ASSETS = Path(__file__).resolve().parents[2] / "assets"
H264 = 'video/mp4; codecs="avc1.42E01E"'


class LiveFiles(http.server.SimpleHTTPRequestHandler):
    """The HLS folder as files; /live.flv and /live.ts as endless ffmpeg streams."""

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        fmt = {"/live.flv": "flv", "/live.ts": "mpegts"}.get(self.path)
        if fmt is None:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "video/x-flv" if fmt == "flv" else "video/mp2t")
        self.end_headers()
        proc = subprocess.Popen([*FFMPEG_SOURCE, "-f", fmt, "pipe:1"], stdout=subprocess.PIPE)
        try:
            while chunk := proc.stdout.read1(65536):  # type: ignore[union-attr]
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            os.kill(proc.pid, signal.SIGTERM)
            proc.wait(5)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@dataclass
class Live:
    """The served app and a logged-in Chromium context."""

    url: str
    context: object


@pytest.fixture(scope="module")
def live(city_ctx: CityContext, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from feeds.store.embedded import EmbeddedRedis

    tmp = tmp_path_factory.mktemp("live")
    hls_dir = tmp / "hls"
    hls_dir.mkdir()
    files = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(LiveFiles, directory=str(hls_dir)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{files.server_port}"
    try:
        with hls_writer(hls_dir), EmbeddedRedis(tmp) as rs:
            client = redis.Redis.from_url(rs.url)
            town = city_ctx.towns[0]
            grid = next(city_ctx.hierarchy.descendants(town, Level.GRID)).code
            p = city_ctx.city.shapes[grid].representative_point()
            save_cameras(client, [
                Camera("camH", "HLS 摄像头", p.x, p.y, grid, f"{base}/index.m3u8", CameraKind.HLS),
                Camera("camF", "FLV 摄像头", p.x, p.y, grid, f"{base}/live.flv", CameraKind.FLV),
                Camera("camT", "TS 摄像头", p.x, p.y, grid, f"{base}/live.ts", CameraKind.FLV)])
            server = flask.Flask(__name__, static_folder=str(ASSETS), static_url_path="/assets")
            public.install(server, public.Public(), 0)
            web_auth.install(server, client)
            server.register_blueprint(video_routes.blueprint(city_ctx, client, tmp, 9))
            web = make_server("127.0.0.1", 0, server, threaded=True)
            threading.Thread(target=web.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{web.server_port}"
            token = auth.open_session(client, User("rev", Role.REVIEWER, town))
            with sync_api.sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
                context = browser.new_context()
                context.add_cookies([{"name": web_auth.SESSION_COOKIE, "value": token,
                                      "url": url}])
                yield Live(url, context)
                browser.close()
            web.shutdown()
    finally:
        files.shutdown()


STATE = """(() => { const v = document.getElementById('gw-live');
  return {t: v.currentTime, rs: v.readyState, err: v.error && v.error.code, w: v.videoWidth,
          state: v.dataset.state, mse: v.dataset.mse,
          frags: Number(v.dataset.fragments || 0)}; })()"""


@pytest.mark.parametrize("camera", ["camH", "camF", "camT"])
def test_live_stream_plays_by_kind(live: Live, camera: str):
    page = live.context.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{live.url}/video/live/{camera}")
    assert page.evaluate(f"document.createElement('video').canPlayType('{H264}')") != "", \
        "this Chromium decodes no H.264: the playback checks below would not mean anything"
    # polled from here: wait_for_function evaluates strings, which the page's CSP forbids
    wait_for(lambda: page.evaluate("document.getElementById('gw-live').readyState") >= 2, 20,
             0.1)
    first = page.evaluate(STATE)
    later = wait_for(lambda: (v := page.evaluate(STATE)) and v["t"] > first["t"] + 0.5 and
                     v["state"] == "playing" and v, 10, 0.2)  # live: frames keep coming
    assert later["err"] is None and later["mse"] == "1" and later["w"] == 320, later
    assert later["t"] > first["t"] + 0.5 and later["state"] == "playing", (first, later)
    if camera == "camH":
        assert later["frags"] >= 1  # hls.js appended fragments through MSE
    assert errors == []
    page.close()


def test_live_proxy_stays_in_the_stream_folder_and_scope(live: Live):
    page = live.context.new_page()  # type: ignore[attr-defined]
    for path, status in (("/video/camera/camH/live/index.m3u8", 200),
                         ("/video/camera/camH/live/..%2F..%2Fetc/passwd", 404),
                         ("/video/camera/nope/live/index.m3u8", 404)):
        r = page.request.get(live.url + path)
        assert r.status == status, (path, r.status, r.text()[:200])
    assert "#EXTM3U" in page.request.get(live.url + "/video/camera/camH/live/index.m3u8").text()
    page.close()
