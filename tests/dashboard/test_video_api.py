"""/api/v1/video/events and /api/v1/video/events/<id>: the contract's shape (validated against
the generated OpenAPI schemas), clip states and distances, filters, and scope (403 outside the
caller's region or cleared categories, 404 for nothing)."""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import flask
import pytest
import redis

from dashboard import auth as web_auth
from dashboard import video_api, video_routes
from domain.access import Role, User
from domain.model import Incident
from domain.regions import Level
from domain.video import Camera, EventStatus, distance_m
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from feeds.video.registry import save_cameras
from feeds.video.store import flag_case, queue_event
from tests.dashboard.test_openapi import validator
from tests.video_support import make_clip


@dataclass
class World:
    """A Flask app with the video routes; events in two towns, one of them sensitive."""

    http: Any
    client: redis.Redis
    events: dict[str, Any]
    clip: Any
    cams: list[Camera]
    towns: tuple[str, str]

    def get(self, user: User, path: str) -> tuple[int, Any]:
        self.http.set_cookie(web_auth.SESSION_COOKIE, auth.open_session(self.client, user))
        r = self.http.get(path)
        return r.status_code, r.get_json(silent=True)


@pytest.fixture()
def world(redis_url: str, city_ctx: CityContext, tmp_path: Path) -> World:
    client = sync_client(redis_url)
    towns = city_ctx.towns[0], city_ctx.towns[1]
    spots = []
    for town in towns:
        grid = next(city_ctx.hierarchy.descendants(town, Level.GRID)).code
        p = city_ctx.city.shapes[grid].representative_point()
        spots.append((grid, p.x, p.y))
    (ga, xa, ya), (gb, xb, yb) = spots
    cams = [Camera("camA1", "A 东门", xa + 5e-4, ya, ga, "http://h/a1.mjpg"),
            Camera("camA2", "A 西门", xa - 2e-3, ya, ga, "http://h/a2.mjpg"),
            Camera("camB1", "B 北门", xb, yb, gb, "http://h/b1.mjpg")]
    save_cameras(client, cams)
    admin, now, evs = User("admin", Role.ADMIN, "441900"), time.time(), {}
    for n, (key, grid, x, y, category) in enumerate((
            ("ready", ga, xa, ya, "fire"), ("recording", ga, xa, ya, "dispute"),
            ("other_town", gb, xb, yb, "fire"), ("sensitive", ga, xa, ya, "mental_health"))):
        inc = Incident(f"VA-{key}", category, f"TITLE-{key}", y, x, grid, now - 300)
        evs[key] = flag_case(client, inc, admin, ts=now - 200 + n)
    clip = make_clip(client, tmp_path, evs["ready"], cams[0], evs["ready"].ts - 2, frames=10)
    evs["ready"] = replace(evs["ready"], status=EventStatus.READY, cameras=("camA1", "camA2"),
                           clips=(clip.clip_id,))
    evs["recording"] = replace(evs["recording"], status=EventStatus.RECORDING,
                               cameras=("camA2",))
    for ev in evs.values():
        queue_event(client.pipeline(transaction=False), ev).execute()
    server = flask.Flask(__name__)
    web_auth.install(server, client)
    server.register_blueprint(video_api.blueprint(city_ctx, client))
    server.register_blueprint(video_routes.blueprint(city_ctx, client, tmp_path, 9))
    return World(server.test_client(), client, evs, clip, cams, towns)


def test_events_answer_the_contracts_shape_with_clip_states(world: World):
    admin = User("admin", Role.ADMIN, "441900")
    status, body = world.get(admin, "/api/v1/video/events")
    assert status == 200
    validator("VideoEvents").validate(body)
    assert body["region"] == "441900"
    ids = [e["event_id"] for e in body["events"]]
    assert ids == [world.events[k].event_id for k in ("sensitive", "other_town", "recording",
                                                      "ready")]  # newest first
    ready = body["events"][3]
    assert {k: ready[k] for k in ("incident_id", "source", "by", "state")} == {
        "incident_id": "VA-ready", "source": "manual", "by": "admin", "state": "ready"}
    assert ready["flagged_ts"] == world.events["ready"].ts
    clip, failed = ready["clips"]
    assert clip == {"clip_id": world.clip.clip_id, "camera_id": "camA1", "distance_m": 12.0,
                    "state": "ready", "url": f"/video/clip/{world.clip.clip_id}.webm",
                    "poster_url": f"/video/clip/{world.clip.clip_id}.jpg",
                    "media_type": "video/webm", "recorded_by": "gridwatch"}
    ev, a2 = world.events["ready"], world.cams[1]
    assert failed == {"clip_id": None, "camera_id": "camA2", "state": "failed", "url": None,
                      "poster_url": None, "media_type": None, "recorded_by": None,
                      "distance_m": round(distance_m(ev.lon, ev.lat, a2.lon, a2.lat), 1)}
    assert 150 < failed["distance_m"] < 250
    recording = body["events"][2]["clips"]
    assert [(c["camera_id"], c["state"], c["url"]) for c in recording] == [
        ("camA2", "recording", None)]
    r = world.http.get(clip["url"])  # the URL plays: the scoped clip route serves the WebM
    assert r.status_code == 200 and r.mimetype == "video/webm" and r.data[:4] == b"\x1aE\xdf\xa3"
    assert world.http.get(clip["poster_url"]).mimetype == "image/jpeg"
    status, one = world.get(admin, f"/api/v1/video/events/{ev.event_id}")
    assert status == 200 and one == ready
    validator("VideoEvent").validate(one)


def test_events_filter_by_state_and_region(world: World):
    admin = User("admin", Role.ADMIN, "441900")
    _, body = world.get(admin, "/api/v1/video/events?state=recording")
    assert [e["incident_id"] for e in body["events"]] == ["VA-recording"]
    _, body = world.get(admin, f"/api/v1/video/events?region={world.towns[1]}&state=")
    assert [e["incident_id"] for e in body["events"]] == ["VA-other_town"]
    status, body = world.get(admin, "/api/v1/video/events?state=done")
    assert status == 400 and "state must be one of pending, recording" in body["error"]
    assert world.get(admin, "/api/v1/video/events?region=441999999")[0] == 404
    assert world.get(admin, "/api/v1/video/events/ev000000000000")[0] == 404
    assert world.get(admin, "/api/v1/video/events/..%2Fx")[0] == 404


def test_events_are_scoped_to_region_and_cleared_categories(world: World):
    town_a, town_b = world.towns
    reviewer = User("rev", Role.REVIEWER, town_a)  # not cleared for mental-health cases
    status, body = world.get(reviewer, "/api/v1/video/events")
    assert status == 200 and body["region"] == town_a
    assert [e["incident_id"] for e in body["events"]] == ["VA-recording", "VA-ready"]
    assert world.get(reviewer, f"/api/v1/video/events?region={town_b}")[0] == 403
    for key in ("other_town", "sensitive"):
        status, body = world.get(reviewer, f"/api/v1/video/events/{world.events[key].event_id}")
        assert status == 403 and body == {"error": "event outside your scope"}
    duty = User("duty", Role.DUTY, town_a)  # cleared: sees the sensitive event
    _, body = world.get(duty, "/api/v1/video/events")
    assert "VA-sensitive" in [e["incident_id"] for e in body["events"]]
    world.http.delete_cookie(web_auth.SESSION_COOKIE)
    assert world.http.get("/api/v1/video/events").status_code == 401
