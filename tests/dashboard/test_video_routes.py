"""Video routes and pages, scoped like the API: 403 outside the camera's / case's region,
clip views audited once, /api/v1/cameras with health, review pages rendered from the store."""
from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import flask
import orjson
import pytest
import redis

from dashboard import auth as web_auth
from dashboard import video_routes
from dashboard.readmodel import ReadModel
from dashboard.readmodel.cases import case_cameras
from dashboard.refusals import Forbidden, NotFound
from dashboard.video_page import render_event_page, render_queue_page
from domain.access import Role, User
from domain.model import Incident
from domain.regions import Level
from domain.video import Camera, EventStatus
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.sim import camframes
from feeds.store import keys
from feeds.store.client import sync_client
from feeds.video.registry import save_cameras, video_secret
from feeds.video.store import flag_case, queue_event
from tests.video_support import camsim, capture, decode, make_clip, read_parts, wait_for


@dataclass
class World:
    """A Flask app with the video blueprint, cameras in two towns, one event with a clip."""

    http: Any
    client: redis.Redis
    ctx: CityContext
    cams: list[Camera]
    event: Any
    clip: Any
    users: dict[str, User]
    capture_url: str

    def login(self, name: str) -> None:
        """Make the test client's requests come from a user."""
        self.http.set_cookie(web_auth.SESSION_COOKIE, auth.open_session(self.client,
                                                                        self.users[name]))


def _grid_point(ctx: CityContext, town: str) -> tuple[str, float, float]:
    grid = next(ctx.hierarchy.descendants(town, Level.GRID)).code
    p = ctx.city.shapes[grid].representative_point()
    return grid, p.x, p.y


@pytest.fixture()
def world(redis_url: str, city_ctx: CityContext, tmp_path: Path) -> Iterator[World]:
    client = sync_client(redis_url)
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    (ga, xa, ya), (gb, xb, yb) = _grid_point(city_ctx, town_a), _grid_point(city_ctx, town_b)
    users = {"admin": User("admin", Role.ADMIN, "441900"),
             "a": User("a", Role.REVIEWER, town_a), "b": User("b", Role.REVIEWER, town_b)}
    with camsim(fps=5) as (_, base):
        cams = [Camera("camA1", "A 东门", xa, ya, ga, f"{base}/cam/camA1.mjpg"),
                Camera("camA2", "A 西门", xa + 3e-4, ya, ga, f"{base}/cam/camA2.mjpg"),
                Camera("camB1", "B 北门", xb, yb, gb, f"{base}/cam/camB1.mjpg")]
        save_cameras(client, cams)
        with capture(cams, redis_url, tmp_path, secret=video_secret(client)) as cap:
            server = flask.Flask(__name__)
            web_auth.install(server, client)
            server.register_blueprint(video_routes.blueprint(city_ctx, client, tmp_path,
                                                             cap.port))
            inc = Incident("CASE-A", "fire", "仓库冒烟 <script>x</script>", ya, xa, ga,
                           time.time() - 60, description="<b>门口</b>")
            ev = flag_case(client, inc, users["admin"], ts=time.time() - 30)
            clip = make_clip(client, tmp_path, ev, cams[0], ev.ts - 1)
            ev = replace(ev, clips=(clip.clip_id,), cameras=("camA1", "camA2"),
                         status=EventStatus.READY)
            client.hset(keys.incidents(inc.town), inc.incident_id,
                        orjson.dumps(incident_to_json(inc)))
            client.hset(keys.INCIDENT_TOWN, inc.incident_id, inc.town)
            queue_event(client.pipeline(), ev).execute()
            wait_for(lambda: all(f.seq for f in cap.service.feeds.values()), 10)
            yield World(server.test_client(), client, city_ctx, cams, ev, clip, users, cap.url)


def test_out_of_scope_users_get_403(world: World):
    world.login("b")
    clip = world.clip.clip_id
    for path in ("/video/camera/camA1.jpg", "/video/camera/camA1.mjpg",
                 f"/video/clip/{clip}.webm", f"/video/clip/{clip}.jpg"):
        r = world.http.get(path)
        assert r.status_code == 403, path
    assert world.http.get("/video/camera/camB1.jpg").status_code == 200
    assert reads.audit_entries(world.client, 10, target=clip) == []
    for path in ("/video/camera/nope.jpg", "/video/camera/..%2Fx.mjpg", "/video/clip/x.webm",
                 "/video/clip/cl000000000000.webm"):
        assert world.http.get(path).status_code == 404, path


def test_login_required():
    app = flask.Flask(__name__)
    web_auth.install(app, redis.Redis(port=1))  # never reached: no cookie, no Basic header
    app.register_blueprint(flask.Blueprint("x", __name__))
    r = app.test_client().get("/video/camera/camA1.mjpg")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_snapshot_stream_and_clip_in_scope(world: World):
    world.login("a")
    r = world.http.get("/video/camera/camA1.jpg")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert time.time() - camframes.read_stamp(decode(r.data))[1] < 2
    r = world.http.get("/video/camera/camA2.mjpg")
    assert r.status_code == 302
    target = r.headers["Location"]
    port = world.capture_url.rsplit(":", 1)[1]
    assert target.startswith(f"http://localhost:{port}/stream/camA2.mjpg?ticket=")
    direct = world.capture_url + target[target.index("/stream/"):]
    assert len(read_parts(direct, 3)) == 3  # the ticket opens the capture worker's stream
    forged = direct.replace("camA2", "camB1")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(forged, timeout=5)
    assert e.value.code == 403  # a ticket is good for its own camera only
    clip = world.clip.clip_id
    r = world.http.get(f"/video/clip/{clip}.webm", headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.mimetype == "video/webm" and len(r.data) == 100
    r = world.http.get(f"/video/clip/{clip}.webm")
    assert r.status_code == 200 and r.data[:4] == b"\x1a\x45\xdf\xa3"
    assert world.http.get(f"/video/clip/{clip}.jpg").mimetype == "image/jpeg"
    views = reads.audit_entries(world.client, 10, target=clip)
    assert [(v["user"], v["action"]) for v in views] == [("a", "video.view")]  # once
    live = reads.audit_entries(world.client, 10, target="camA2")
    assert [(v["user"], v["action"]) for v in live] == [("a", "video.live")]


def test_cameras_api(world: World):
    world.login("admin")
    body = world.http.get("/api/v1/cameras").get_json()
    assert [c["id"] for c in body["cameras"]] == ["camA1", "camA2", "camB1"]
    wait_for(lambda: {c["state"] for c in world.http.get("/api/v1/cameras").get_json()[
        "cameras"]} == {"online"}, 5)
    cam = body["cameras"][0]
    assert set(cam) >= {"id", "name", "lon", "lat", "grid", "stream_url", "state"}
    assert cam["stream_url"] == "/video/camera/camA1.mjpg"  # never the upstream URL
    world.login("b")
    body = world.http.get("/api/v1/cameras").get_json()
    assert [c["id"] for c in body["cameras"]] == ["camB1"]
    town_a = world.users["a"].scope
    assert world.http.get(f"/api/v1/cameras?region={town_a}").status_code == 403
    assert world.http.get("/api/v1/cameras?region=123").status_code == 404


def _find(node: Any, kind: str) -> list[dict[str, Any]]:
    """Every component of a type in a Dash tree (as plotly JSON)."""
    out = []
    if isinstance(node, dict):
        if node.get("type") == kind:
            out.append(node)
        for v in node.values():
            out += _find(v, kind)
    elif isinstance(node, list):
        for v in node:
            out += _find(v, kind)
    return out


def _tree(component: Any) -> Any:
    import json

    import plotly

    return json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))


def test_review_pages(world: World):
    ctx, client, u = world.ctx, world.client, world.users
    rm = ReadModel(ctx, client)
    queue = _tree(render_queue_page(rm, u["a"], "en"))
    links = [a["props"].get("href") for a in _find(queue, "A")]
    assert f"/video/{world.event.event_id}?lang=en" in links
    assert _find(_tree(render_queue_page(rm, u["b"], "zh")), "Tr") == []
    with pytest.raises(Forbidden):
        render_event_page(rm, u["b"], world.event.event_id, "zh")
    with pytest.raises(NotFound):
        render_event_page(rm, u["a"], "ev000000000000", "zh")
    page = _tree(render_event_page(rm, u["a"], world.event.event_id, "zh"))
    (video,) = _find(page, "Video")
    assert video["props"]["src"] == f"/video/clip/{world.clip.clip_id}.webm"
    assert float(video["props"]["data-offset"]) == 0.0
    (title,) = [h for h in _find(page, "H3") if "仓库" in str(h)]
    assert title["props"]["children"] == "仓库冒烟 <script>x</script>"  # a text child
    assert any("camA2" in str(p["props"]["children"]) for p in _find(page, "P"))  # no clip
    inc = reads.read_incident(client, "CASE-A")
    rows = case_cameras(ctx, client, u["a"], inc)
    assert [r["camera_id"] for r in rows][:2] == ["camA1", "camA2"]
    assert rows[0]["snapshot_url"] == "/video/camera/camA1.jpg" and rows[0]["dist_m"] < 50
