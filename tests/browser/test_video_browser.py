"""Video in headless Chromium: the MJPEG re-stream shows changing frames in an <img>, a clip
plays in a <video>, the review page keeps every clip on one timeline, the camera layer's
popup is built as text."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dash
import dash_leaflet as dl
import flask
import orjson
import pytest
import redis
from dash import Input, Output, dcc, html
from werkzeug.serving import make_server

from dashboard import auth as web_auth
from dashboard import video_page, video_routes
from dashboard.actions import Actions
from dashboard.field import ASSETS_SUBDIR as FIELD_ASSETS
from dashboard.readmodel import ReadModel
from domain.access import Role, User
from domain.model import Incident
from domain.regions import Level
from domain.video import Camera, EventStatus
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.store import keys
from feeds.video.registry import save_cameras, video_secret
from feeds.video.store import flag_case, queue_event
from layouts import ids
from layouts.camera_layer import camera_features, camera_layer
from tests.support import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.video_support import camsim, capture, make_clip, make_mp4_clip, wait_for

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]
ASSETS = Path(__file__).resolve().parents[2] / "assets"
HARNESS = """<!doctype html><html><body style="background:#000">
<img id="live" src="/video/camera/camA1.mjpg" width="320" height="240">
<video id="clip" src="/video/clip/{clip}.webm" muted playsinline preload="auto"></video>
<video id="mp4" src="/video/clip/{mp4}.mp4" muted playsinline preload="auto"></video>
</body></html>"""


@dataclass
class Site:
    """The served app, its data and a logged-in Chromium context."""

    url: str
    client: redis.Redis
    event: Any
    clips: list[Any]
    context: Any


def _app(ctx: CityContext, client: redis.Redis, clips_dir: Path, capture_port: int,
         cams: list[Camera], clip_id: str, mp4_id: str) -> flask.Flask:
    server = flask.Flask(__name__)
    web_auth.install(server, client)
    server.register_blueprint(video_routes.blueprint(ctx, client, clips_dir, capture_port))
    server.add_url_rule("/harness", "harness", lambda: HARNESS.format(clip=clip_id, mp4=mp4_id))
    app = dash.Dash(__name__, server=server, assets_folder=str(ASSETS),
                    assets_path_ignore=[FIELD_ASSETS],
                    suppress_callback_exceptions=True, update_title=None)
    app.layout = html.Div([dcc.Location(id="url"), html.Div(id="page")])
    rows = [{"id": c.camera_id, "name": c.name, "lon": c.lon, "lat": c.lat, "grid": c.grid,
             "state": s} for c, s in zip(cams, ("online", "stale", "offline"), strict=True)]
    rm = ReadModel(ctx, client)

    @app.callback(Output("page", "children"), Input("url", "pathname"))
    def render(path: str | None) -> Any:
        parts = [p for p in (path or "/").split("/") if p]
        if parts and parts[0] == "cammap":  # /cammap/<zoom>
            return html.Div(id="gw-root", className="gw-root", children=dl.Map(
                camera_layer(camera_features(rows), "zh"),
                center=[cams[0].lat, cams[0].lon], zoom=int(parts[1]), style={"height": "100%"},
                id="gw-map"))
        if parts and parts[0] == "casecard":  # the case page's video card, as the lead wires it
            inc = reads.read_incident(client, parts[1])
            return html.Div(id=ids.ROOT, className="gw-root gw-desk", **{"data-lang": "zh"},
                            children=[dcc.Store(id=ids.CASE_STORE, data={"incident_id": parts[1]}),
                                      rm.case_video(flask.g.user, inc, "zh")])
        if len(parts) == 2:  # /video/<event_id>
            return video_page.render_event_page(rm, flask.g.user, parts[1], "zh")
        return video_page.render_queue_page(rm, flask.g.user, "zh")

    video_page.register(app, rm, Actions(ctx, client))
    return server


@pytest.fixture(scope="module")
def site(city_ctx: CityContext, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from feeds.store.embedded import EmbeddedRedis

    tmp = tmp_path_factory.mktemp("video-browser")
    with EmbeddedRedis(tmp) as rs, camsim(fps=10) as (_, base):
        client = redis.Redis.from_url(rs.url)
        town = city_ctx.towns[0]
        grid = next(city_ctx.hierarchy.descendants(town, Level.GRID)).code
        p = city_ctx.city.shapes[grid].representative_point()
        cams = [Camera(f"camA{i}", f"东门 {i} <b>号</b>", p.x + i * 4e-4, p.y, grid,
                       f"{base}/cam/camA{i}.mjpg") for i in (1, 2, 3)]
        save_cameras(client, cams)
        with capture(cams[:1], rs.url, tmp, secret=video_secret(client)) as cap:
            inc = Incident("CASE-V", "fire", "仓库冒烟", p.y, p.x, grid, time.time() - 60)
            client.hset(keys.incidents(inc.town), inc.incident_id,
                        orjson.dumps(incident_to_json(inc)))
            client.hset(keys.INCIDENT_TOWN, inc.incident_id, inc.town)
            ev = flag_case(client, inc, User("admin", Role.ADMIN, "441900"), ts=time.time())
            clips = [make_clip(client, tmp, ev, cams[0], ev.ts - 3, frames=50),
                     make_clip(client, tmp, ev, cams[1], ev.ts - 2, frames=40),
                     make_mp4_clip(client, tmp, ev, cams[2], ev.ts - 2, frames=40)]
            ev = replace(ev, status=EventStatus.READY, cameras=("camA1", "camA2", "camA3"),
                         clips=tuple(c.clip_id for c in clips))
            queue_event(client.pipeline(), ev).execute()
            server = make_server("127.0.0.1", 0, _app(city_ctx, client, tmp, cap.port, cams,
                                                      clips[0].clip_id, clips[2].clip_id),
                                 threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{server.server_port}"
            token = auth.open_session(client, User("rev", Role.REVIEWER, town))
            wait_for(lambda: cap.service.feeds["camA1"].seq > 0, 10)
            with sync_api.sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
                context = browser.new_context(bypass_csp=True,
                                              viewport={"width": 1500, "height": 950})
                context.add_cookies([{"name": web_auth.SESSION_COOKIE, "value": token,
                                      "url": url}])
                yield Site(url, client, ev, clips, context)
                browser.close()
            server.shutdown()


def test_live_image_and_clip_play(site: Site):
    page = site.context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site.url + "/harness")
    page.wait_for_function("document.getElementById('live').naturalWidth > 0", timeout=10_000)
    assert page.evaluate("document.getElementById('live').naturalWidth") == 320
    img = page.locator("#live")
    shots = [img.screenshot()]
    time.sleep(0.5)
    shots.append(img.screenshot())
    assert shots[0] != shots[1]  # the MJPEG keeps painting new frames
    page.wait_for_function("document.getElementById('clip').readyState >= 2", timeout=10_000)
    page.evaluate("document.getElementById('clip').play()")
    t0 = page.evaluate("document.getElementById('clip').currentTime")
    time.sleep(0.8)
    state = page.evaluate("(() => { const v = document.getElementById('clip');"
                          " return {t: v.currentTime, err: v.error && v.error.code,"
                          " d: v.duration, rs: v.readyState}; })()")
    assert state["err"] is None and state["rs"] >= 2 and state["t"] > t0 + 0.3, state
    assert abs(state["d"] - 5.0) < 0.3  # 50 frames at 10 fps
    page.wait_for_function("document.getElementById('mp4').readyState >= 2", timeout=10_000)
    page.evaluate("document.getElementById('mp4').play()")  # the remuxed H.264 clip plays
    time.sleep(0.6)
    mp4 = page.evaluate("(() => { const v = document.getElementById('mp4');"
                        " return {t: v.currentTime, err: v.error && v.error.code,"
                        " d: v.duration, w: v.videoWidth}; })()")
    assert mp4["err"] is None and mp4["t"] > 0.3 and mp4["w"] == 320, mp4
    assert abs(mp4["d"] - 4.0) < 0.3, mp4  # 40 frames at 10 fps
    assert errors == []
    page.screenshot(path=str(SCREENSHOTS / "video_live_and_clip.png"))
    page.close()


SYNC_STATE = """(() => { const vs = [...document.querySelectorAll('video.gw-vclip')];
  return vs.map(v => ({t: v.currentTime, off: Number(v.dataset.offset), p: v.paused,
                       rs: v.readyState, err: v.error && v.error.code})); })()"""


def test_review_page_shared_timeline_and_review(site: Site):
    page = site.context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site.url}/video/{site.event.event_id}")
    page.wait_for_selector("input.gw-vrange", timeout=15_000)
    page.wait_for_function("[...document.querySelectorAll('video.gw-vclip')]"
                           ".every(v => v.readyState >= 2)", timeout=10_000)
    offsets = sorted(v["off"] for v in page.evaluate(SYNC_STATE))
    assert offsets == [0.0, 1.0, 1.0]  # two WebM clips and the H.264 MP4 one
    page.evaluate("(() => { const r = document.querySelector('input.gw-vrange');"
                  " r.value = '2.5'; r.dispatchEvent(new Event('input')); })()")
    time.sleep(0.3)
    for v in page.evaluate(SYNC_STATE):
        assert abs(v["t"] - (2.5 - v["off"])) < 0.15, v  # scrub: every clip at the same time
    page.click("button.gw-vplay")
    time.sleep(1.2)
    state = page.evaluate(SYNC_STATE)
    positions = [v["off"] + v["t"] for v in state]
    assert all(not v["p"] and v["err"] is None for v in state), state
    assert positions[0] > 3.2 and max(positions) - min(positions) < 0.35, state
    page.evaluate("document.querySelectorAll('video.gw-vclip')[1].pause()")  # one clip's pause
    wait_for(lambda: all(v["p"] for v in page.evaluate(SYNC_STATE)), 3)
    page.evaluate("(() => { const v = document.querySelectorAll('video.gw-vclip')[0];"
                  " v.currentTime = 0.5; })()")  # seek one clip: the other follows
    time.sleep(0.4)
    state = page.evaluate(SYNC_STATE)
    assert abs(state[0]["t"] - 0.5) < 0.1 and all(v["t"] < 0.1 for v in state[1:]), state
    # (clips 2 and 3 start at 1.0)
    page.screenshot(path=str(SCREENSHOTS / "video_review.png"), full_page=True)
    page.fill("#gw-video-note", "两路画面均见冒烟 <b>x</b>")
    page.click("#gw-video-reviewed")
    page.wait_for_selector("#gw-video-review-state .gw-vdone", timeout=10_000)
    assert "<b>x</b>" in page.inner_text("#gw-video-review-state")  # shown as text
    audit = reads.audit_entries(site.client, 5, target=site.event.event_id)
    assert audit[0]["action"] == "video.review" and audit[0]["user"] == "rev"
    page.goto(f"{site.url}/video")
    page.wait_for_selector("table.gw-vqueue", timeout=10_000)
    assert "已研判" in page.inner_text("table.gw-vqueue")
    page.screenshot(path=str(SCREENSHOTS / "video_queue.png"))
    assert errors == []
    page.close()


def test_camera_layer_popup(site: Site):
    page = site.context.new_page()
    page.goto(f"{site.url}/cammap/12")  # zoomed out: one cluster of three
    page.wait_for_selector(".gw-camcluster", timeout=15_000)
    assert page.inner_text(".gw-camcluster") == "3" and page.locator(".gw-cam").count() == 0
    page.goto(f"{site.url}/cammap/16")
    page.wait_for_selector(".gw-cam-online", timeout=15_000)
    assert page.locator(".gw-cam").count() == 3
    assert page.locator(".gw-cam-stale .gw-cam-cue").inner_text() == "▲"
    page.locator(".gw-cam-online").click()
    page.wait_for_selector(".gw-campop img", timeout=5_000)
    pop = page.locator(".gw-campop")
    assert "东门 1 <b>号</b>" in pop.inner_text() and pop.locator("b").count() == 0
    assert pop.locator("a.gw-campop-live").get_attribute("href") == "/video/camera/camA1.mjpg"
    page.wait_for_function("document.querySelector('.gw-campop img').naturalWidth > 0",
                           timeout=10_000)
    time.sleep(0.4)  # the popup's fade-in
    page.screenshot(path=str(SCREENSHOTS / "video_camera_layer.png"))
    page.close()


def test_case_page_flag_button(site: Site):
    page = site.context.new_page()
    page.goto(f"{site.url}/casecard/CASE-V")
    page.wait_for_selector("#gw-video-flag", timeout=15_000)
    assert page.locator(".gw-case-video a").count() == 1  # the event flagged earlier
    page.click("#gw-video-flag")
    page.wait_for_selector("#gw-video-flag-msg a", timeout=10_000)
    href = page.get_attribute("#gw-video-flag-msg a", "href")
    assert href.startswith("/video/ev")
    audit = reads.audit_entries(site.client, 5, target="CASE-V")
    assert (audit[0]["action"], audit[0]["user"]) == ("video.flag", "rev")
    assert href.split("/")[-1] in audit[0]["detail"]
    page.close()
