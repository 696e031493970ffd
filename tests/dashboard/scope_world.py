"""The world of the scope tests: two towns' villages with cases, video and cameras, and a
signed-in user for every scope and role."""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import orjson
import pytest
import redis

from dashboard import auth as web_auth
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import CLEARED_FOR_SENSITIVE, Role, User
from domain.regions import Hierarchy, town_of
from domain.video import Camera, Clip, EventStatus
from feeds.accounts import auth
from feeds.ingest.attachments import MEDIA_SUBDIR, MediaDir
from feeds.ingest.photos import prepare
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import free_port
from feeds.video.config import VideoConfig
from feeds.video.registry import save_cameras
from feeds.video.store import event_for, queue_clip, queue_event
from tests.dashboard.dash_client import PAGES_OUTPUT
from tests.five_level import write_five_level_city

SCOPES = ("city", "town", "village", "other_village")
SEES = {"city": {"A1", "A2", "B"}, "town": {"A1", "A2"}, "village": {"A1"},
        "other_village": {"A2"}}  # which of the seeded places each scope covers
ACTING, REVIEW, FLAG = {Role.DUTY, Role.ADMIN}, {Role.REVIEWER, Role.ADMIN}, \
    {Role.DUTY, Role.REVIEWER, Role.ADMIN}
# (place, sensitive) of the seeded cases; each has a flagged event and a clip
CASES = {"SCOPE-A1": ("A1", False), "SCOPE-A1S": ("A1", True), "SCOPE-A2": ("A2", False),
         "SCOPE-B": ("B", False)}
EXEMPT_RULES = {  # routes that show nobody's data, or are public and tested elsewhere
    "/static/<path:filename>", "/assets/<path:filename>", "/login", "/health",
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>",
    "/_dash-layout", "/_dash-dependencies", "/_reload-hash", "/_favicon.ico", "/",
    "/<path:path>", "/_dash-update-component",  # the pages and callbacks: tables below
    "/open311/v2/services.<any(json, xml):fmt>", "/open311/v2/requests.<any(json, xml):fmt>",
    "/open311/v2/requests/<request_id>.<any(json, xml):fmt>",  # public, its own cases only,
    # no sensitive ones, no staff notes (tests/dashboard/test_open311)
    "/m", "/m/", "/m/sw.js", "/m/static/<path:name>", "/m/manifest.webmanifest",
    "/m/config.json", "/m/i18n/<lang>.json", "/m/pair",  # the field terminal: no session,
    "/m/device",  # no region's data; paired by code, asked with its token (test_field)
    "/api/v1/incidents/<incident_id>/actions",  # a POST: scope, role, state (test_actions_api)
    "/health/live", "/health/ready",  # probes: check names and errors, no region's data
    "/metrics",  # city-wide counts: loopback or a city-scoped API token (test_ops_routes)
    "/tiles/<int:z>/<int:x>/<int:y>",  # basemap tiles: no one's data (login: test_tiles_route)
}
EXEMPT_CALLBACKS = {"gw-url.pathname",  # table row → URL: no data read
                    PAGES_OUTPUT,  # Dash Pages' router: the page table
                    "_pages_dummy.children",  # the tab's title, clientside
                    # a grid's CSV of the rows it already shows, clientside: no data read
                    "gw-case-table.exportDataAsCsv", "gw-queue-table.exportDataAsCsv",
                    # a grid drawn from the rows its page brought, clientside: no data read
                    *(f"{g}-slot.children" for g in ("gw-case-table", "gw-queue-table",
                                                     "gw-audit-table", "gw-dl-grid"))}


@dataclass
class World:
    """The seeded city: region codes and object ids per place, the app and its users."""

    ctx: CityContext
    client: redis.Redis
    http_app: Any
    kind: str = "dongguan"  # or "five-level": 市 → 区 → 街道 → 社区 → 网格 (tests/five_level.py)
    codes: dict[str, str] = field(default_factory=dict)  # scope / place → region code
    grids: dict[str, str] = field(default_factory=dict)  # place → a grid
    officers: dict[str, str] = field(default_factory=dict)  # place → officer id
    cameras: dict[str, str] = field(default_factory=dict)  # place → camera id
    events: dict[str, str] = field(default_factory=dict)  # case id → event id
    clips: dict[str, str] = field(default_factory=dict)  # case id → clip id
    mp4_clips: dict[str, str] = field(default_factory=dict)  # case id → its MP4 clip's id
    photos: dict[str, str] = field(default_factory=dict)  # case id → photo id
    tokens: dict[tuple[str, Role], str] = field(default_factory=dict)

    def user(self, scope: str, role: Role) -> User:
        """The test user of a scope and role."""
        return User(f"{scope}-{role.value}", role, self.codes[scope])

    def client_for(self, scope: str, role: Role) -> Any:
        """A test client signed in as that user."""
        http = self.http_app.server.test_client()
        http.set_cookie(web_auth.SESSION_COOKIE, self.tokens[scope, role])
        http.get("/api/v1/openapi.json")  # any request hands out the CSRF cookie
        return http

    def hidden_markers(self, scope: str, role: Role) -> set[str]:
        """Ids and titles the user must never read."""
        out = set()
        for case_id, (place, sensitive) in CASES.items():
            if place not in SEES[scope] or (sensitive and role not in CLEARED_FOR_SENSITIVE):
                out |= {case_id, f"TITLE-{case_id}", self.events[case_id], self.clips[case_id],
                        self.mp4_clips[case_id], self.photos[case_id]}
        for place, cam in self.cameras.items():
            if place not in SEES[scope]:
                out.add(cam)
        return out


def _seed_cases(w: World, client: redis.Redis) -> None:
    worker = StateWorker(client, CityState.with_roster(w.ctx.rules, w.ctx.roster),
                         w.ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    now = time.time()
    for case_id, (place, sensitive) in CASES.items():
        grid = w.grids[place]
        p = w.ctx.city.shapes[grid].representative_point()
        client.xadd(keys.incidents_in(town_of(grid)), {"m": orjson.dumps({
            "type": "incident", "msg_id": case_id, "incident_id": case_id,
            "officer_id": w.officers[place], "ts": now - 60, "lon": p.x, "lat": p.y,
            "grid": grid, "category": "mental_health" if sensitive else "dispute",
            "title": f"TITLE-{case_id}", "severity": 0})})
        client.hset(keys.INCIDENT_TOWN, case_id, town_of(grid))
    ids = {s: ">" for s in worker.streams}
    for _ in range(3):
        ids = worker.step(ids, block_ms=20)


def _seed_video(w: World, client: redis.Redis, clips_dir: Path) -> None:
    cams = []
    for place, grid in w.grids.items():
        p = w.ctx.city.shapes[grid].representative_point()
        cams.append(Camera(f"cam{place}", f"camera {place}", p.x, p.y, grid,
                           "http://127.0.0.1:9/none.mjpg"))
        w.cameras[place] = f"cam{place}"
    save_cameras(client, cams)
    clips_dir.mkdir(parents=True, exist_ok=True)
    for case_id, (place, sensitive) in CASES.items():
        grid = w.grids[place]
        p = w.ctx.city.shapes[grid].representative_point()
        ev = event_for({"id": case_id, "lon": p.x, "lat": p.y, "grid": grid, "title":
                        f"TITLE-{case_id}", "category": "mental_health" if sensitive else
                        "dispute", "level": "green"}, time.time() - 30, "manual", "seed")
        clip_id = f"cl{abs(hash(case_id)) % 10**12:012d}"
        (clips_dir / f"{clip_id}.webm").write_bytes(b"\x1aE\xdf\xa3 webm")
        (clips_dir / f"{clip_id}.jpg").write_bytes(b"\xff\xd8\xff jpeg")
        clip = Clip(clip_id, ev.event_id, f"cam{place}", f"camera {place}", grid, ev.ts - 5,
                    ev.ts + 5, 10, 1.0, 320, 240, 10, time.time())
        ev = replace(ev, clips=(clip_id,), cameras=(f"cam{place}",), status=EventStatus.READY)
        pipe = client.pipeline(transaction=False)
        queue_event(pipe, ev)
        queue_clip(pipe, clip)
        mp4 = replace(clip, clip_id=f"cl{(abs(hash(case_id)) + 1) % 10**12:012d}",
                      container="mp4")  # an H.264 camera's clip of the same event
        (clips_dir / f"{mp4.clip_id}.mp4").write_bytes(b"\0\0\0\x20ftypisom mp4")
        queue_clip(pipe, mp4)
        pipe.execute()
        w.events[case_id], w.clips[case_id] = ev.event_id, clip_id
        w.mp4_clips[case_id] = mp4.clip_id


def _seed_photos(w: World, client: redis.Redis, media_dir: Path) -> None:
    """One real photo per case, as the gateway stores it (files and the case's record)."""
    for i, (case_id, (place, _)) in enumerate(CASES.items()):
        img = np.full((60, 80, 3), 40 * i, np.uint8)
        photo = prepare("image/jpeg", base64.b64encode(cv2.imencode(".jpg", img)[1]).decode())
        assert not isinstance(photo, str)
        MediaDir(media_dir).save(photo)
        client.hset(keys.attachments(town_of(w.grids[place]), case_id), f"ph-{case_id}",
                    orjson.dumps({"id": photo.photo_id, "mime": photo.mime, "ts": time.time(),
                                  "officer_id": w.officers[place]}))
        w.photos[case_id] = photo.photo_id


def dongguan_codes(h: Hierarchy) -> dict[str, str]:
    """Scopes and places in Dongguan: town A, its villages A1 and A2, a village of town B."""
    town_a, town_b = (t.code for t in h.at_level("town")[:2])
    va1, va2 = h.children_of(town_a)[:2]
    return {"city": h.city.code, "town": town_a, "village": va1, "other_village": va2,
            "A1": va1, "A2": va2, "B": h.children_of(town_b)[0]}


def five_level_codes(h: Hierarchy) -> dict[str, str]:
    """Scopes and places in the five-level city: district A (the "town" scope, above the
    shards), its streets A1 and A2 (the "village" scopes), a community of each, and a
    community of district B."""
    district_a, district_b = h.children_of(h.city.code)[:2]
    s1, s2 = h.children_of(district_a)[:2]
    sb = h.children_of(district_b)[0]
    return {"city": h.city.code, "town": district_a, "village": s1, "other_village": s2,
            "A1": h.children_of(s1)[0], "A2": h.children_of(s2)[0], "B": h.children_of(sb)[0]}


@pytest.fixture(scope="module")
def five_ctx(demo_dir: Path, tmp_path_factory) -> CityContext:
    """The five-level city (tests/five_level.py), loaded."""
    d = tmp_path_factory.mktemp("five-city")
    write_five_level_city(demo_dir, d)
    return CityContext.load(d / "city.geojson", d / "officers.csv", None)


@pytest.fixture(scope="module", params=["dongguan", "five-level"])
def world(request, redis_server, city_ctx: CityContext, tmp_path_factory) -> World:
    ctx = city_ctx if request.param == "dongguan" else request.getfixturevalue("five_ctx")
    client = sync_client(redis_server.url)
    client.flushall()
    h = ctx.hierarchy
    tmp = tmp_path_factory.mktemp("scope")
    settings = DashboardConfig(store=StoreConfig(data_dir=tmp),  # no capture worker there:
                               video=VideoConfig(capture_port=free_port()))
    w = World(ctx, client, create_app(settings, ctx, client), request.param)
    w.codes = (dongguan_codes if w.kind == "dongguan" else five_level_codes)(h)
    for place in ("A1", "A2", "B"):
        w.grids[place] = next(h.descendants(w.codes[place], h.levels.leaf)).code
        w.officers[place] = next(o.officer_id for o in ctx.roster.values()
                                 if o.grid == w.grids[place])
    _seed_cases(w, client)
    _seed_video(w, client, tmp / "clips")
    _seed_photos(w, client, tmp / MEDIA_SUBDIR)
    for scope in SCOPES:
        for role in Role:
            w.tokens[scope, role] = auth.open_session(client, w.user(scope, role))
    return w
