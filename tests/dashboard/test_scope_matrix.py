"""Scope enforcement as one table: every HTTP route, page, Dash callback and push subscription,
for users scoped to the city, a town, a village and another village, in every role.

Routes come from the Flask url_map, pages from Dash Pages' registry and callbacks from
the Dash callback map: one that the table does not cover fails the test. Each answer is
compared with the expected status, and every answer a user may read is searched for the ids
and titles of cases, events, clips and cameras outside their scope (or of sensitive cases
their role is not cleared for): none may appear.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dash
import orjson
import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dashboard import auth as web_auth
from dashboard import pages
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.push import LiveHub, serve_push
from domain.access import CLEARED_FOR_SENSITIVE, Role, User
from domain.regions import Level
from domain.video import Camera, Clip, EventStatus
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import free_port
from feeds.video.config import VideoConfig
from feeds.video.registry import save_cameras
from feeds.video.store import event_for, queue_clip, queue_event
from tests.conftest import ThreadedServer
from tests.dashboard.dash_client import PAGES_OUTPUT, page_status, render

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
    "/open311/v2/services.json", "/open311/v2/requests.json",
    "/open311/v2/requests/<request_id>.json",  # public by API key (tests/dashboard/test_open311)
}
EXEMPT_CALLBACKS = {"gw-url.pathname",  # table row → URL: no data read
                    PAGES_OUTPUT,  # Dash Pages' router: the page table
                    "_pages_dummy.children"}  # the tab's title, clientside


@dataclass
class World:
    """The seeded city: region codes and object ids per place, the app and its users."""

    ctx: CityContext
    client: redis.Redis
    http_app: Any
    codes: dict[str, str] = field(default_factory=dict)  # scope / place → region code
    grids: dict[str, str] = field(default_factory=dict)  # place → a grid
    officers: dict[str, str] = field(default_factory=dict)  # place → officer id
    cameras: dict[str, str] = field(default_factory=dict)  # place → camera id
    events: dict[str, str] = field(default_factory=dict)  # case id → event id
    clips: dict[str, str] = field(default_factory=dict)  # case id → clip id
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
                out |= {case_id, f"TITLE-{case_id}", self.events[case_id], self.clips[case_id]}
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
        client.xadd(keys.incidents_in(grid[:9]), {"m": orjson.dumps({
            "type": "incident", "msg_id": case_id, "incident_id": case_id,
            "officer_id": w.officers[place], "ts": now - 60, "lon": p.x, "lat": p.y,
            "grid": grid, "category": "mental_health" if sensitive else "dispute",
            "title": f"TITLE-{case_id}", "severity": 0})})
        client.hset(keys.INCIDENT_TOWN, case_id, grid[:9])
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
        pipe.execute()
        w.events[case_id], w.clips[case_id] = ev.event_id, clip_id


@pytest.fixture(scope="module")
def world(redis_server, city_ctx: CityContext, tmp_path_factory) -> World:
    client = sync_client(redis_server.url)
    client.flushall()
    h = city_ctx.hierarchy
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    va1, va2 = h.children_of(town_a)[:2]
    vb = h.children_of(town_b)[0]
    tmp = tmp_path_factory.mktemp("scope")
    settings = DashboardConfig(store=StoreConfig(data_dir=tmp),  # no capture worker there:
                               video=VideoConfig(capture_port=free_port()))
    w = World(city_ctx, client, create_app(settings, city_ctx, client))
    w.codes = {"city": h.city.code, "town": town_a, "village": va1, "other_village": va2,
               "A1": va1, "A2": va2, "B": vb}
    for place in ("A1", "A2", "B"):
        w.grids[place] = next(h.descendants(w.codes[place], Level.GRID)).code
        w.officers[place] = next(o.officer_id for o in city_ctx.roster.values()
                                 if o.grid == w.grids[place])
    _seed_cases(w, client)
    _seed_video(w, client, tmp / "clips")
    for scope in SCOPES:
        for role in Role:
            w.tokens[scope, role] = auth.open_session(client, w.user(scope, role))
    return w


# ---- the table -------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    """One request: what it asks for, about which place, and what it answers when allowed."""

    rule: str  # url_map rule, page prefix or callback output
    target: str  # path, or callback argument
    place: str | None  # "A1", "A2", "B", or None (the user's own scope / no region)
    sensitive: bool = False
    ok: int = 200
    roles: frozenset[Role] = frozenset(Role)  # roles that may use it at all
    city_only: bool = False  # only for users whose scope is the city
    missing: bool = False  # names nothing: 404 for everyone

    def expected(self, scope: str, role: Role) -> int:
        """The status the user should get."""
        if self.missing:
            return 404
        if role not in self.roles or (self.city_only and scope != "city"):
            return 403
        if self.place is not None and self.place not in SEES[scope]:
            return 403
        if self.sensitive and role not in CLEARED_FOR_SENSITIVE:
            return 403
        return self.ok


def http_probes(w: World) -> list[Probe]:
    """Every Flask route with each kind of target."""
    out = [Probe("/api/v1/openapi.json", "/api/v1/openapi.json", None),
           Probe("/logout", "/logout", None),
           Probe("/lang/<code>", "/lang/en", None, ok=302)]
    for place in ("A1", "A2", "B"):
        code = w.codes[place]
        for api in ("summary", "incidents", "officers", "cameras"):
            out.append(Probe(f"/api/v1/{api}", f"/api/v1/{api}?region={code}", place))
        out.append(Probe("/api/v1/officers/<officer_id>",
                         f"/api/v1/officers/{w.officers[place]}", place))
        out.append(Probe("/wall/playlist.json", f"/wall/playlist.json?home={code}", place))
        cam = w.cameras[place]
        out += [Probe("/video/camera/<camera_id>.jpg", f"/video/camera/{cam}.jpg", place,
                      ok=503),  # allowed: then the (absent) capture worker is asked
                Probe("/video/camera/<camera_id>.mjpg", f"/video/camera/{cam}.mjpg", place,
                      ok=302)]
    for api in ("summary", "incidents", "officers", "cameras"):
        out.append(Probe(f"/api/v1/{api}", f"/api/v1/{api}", None))  # own scope
    out += [Probe("/wall/playlist.json", "/wall/playlist.json", None),
            Probe("/wall/playlist.json", "/wall/playlist.json?home=441999999", None,
                  missing=True)]
    for case_id, (place, sensitive) in CASES.items():
        clip = w.clips[case_id]
        out += [Probe("/api/v1/incidents/<incident_id>", f"/api/v1/incidents/{case_id}", place,
                      sensitive),
                Probe("/video/clip/<clip_id>.webm", f"/video/clip/{clip}.webm", place,
                      sensitive),
                Probe("/video/clip/<clip_id>.jpg", f"/video/clip/{clip}.jpg", place,
                      sensitive)]
    out += [Probe("/api/v1/incidents/<incident_id>", "/api/v1/incidents/NOPE", None,
                  missing=True),
            Probe("/api/v1/officers/<officer_id>", "/api/v1/officers/NOPE", None, missing=True),
            Probe("/video/camera/<camera_id>.jpg", "/video/camera/nope.jpg", None, missing=True),
            Probe("/video/clip/<clip_id>.webm", "/video/clip/cl000000000000.webm", None,
                  missing=True),
            Probe("/admin/audit.csv", "/admin/audit.csv", None, roles=frozenset({Role.ADMIN}))]
    return out


def page_probes(w: World) -> list[Probe]:
    """Every page kind (Dash render callback) with each kind of target."""
    out = [Probe("", "/", None), Probe("city", "/city", "city_only"),
           Probe("video", "/video", None),
           Probe("admin/audit", "/admin/audit", None, roles=frozenset({Role.ADMIN})),
           Probe("admin/deadletters", "/admin/deadletters", None,
                 roles=frozenset({Role.ADMIN}), city_only=True),
           Probe("case", "/case/NOPE", None, missing=True),
           Probe("town", "/town/999999999", None, missing=True)]
    for place in ("A1", "A2", "B"):
        code, grid = w.codes[place], w.grids[place]
        out += [Probe("town", f"/town/{code[:9]}", place if place == "B" else "town_a"),
                Probe("village", f"/village/{code}", place),
                Probe("grid", f"/grid/{grid}", place),
                Probe("stats", f"/stats/{code}", place),
                Probe("track", f"/track?officer={w.officers[place]}", place),
                Probe("track", f"/track?grid={grid}", place)]
    for case_id, (place, sensitive) in CASES.items():
        out += [Probe("case", f"/case/{case_id}", place, sensitive),
                Probe("video", f"/video/{w.events[case_id]}", place, sensitive),
                Probe("track", f"/track?at={case_id}", place, sensitive)]
    return out


def page_expected(p: Probe, scope: str, role: Role) -> int:
    """Pages: the two pseudo-places, and 404 (not 403) for a hidden case's track."""
    if p.place == "city_only":
        return 200 if scope == "city" else 403
    if p.place == "town_a":
        return 200 if scope in ("city", "town") else 403
    e = p.expected(scope, role)
    return 404 if e == 403 and p.rule == "track" and "at=" in p.target else e


def render_prefixes() -> set[str]:
    """The page kinds registered with Dash Pages: each page's path without its variables
    (the not-found page aside: it is what no kind matches)."""
    kinds = set()
    for page in dash.page_registry.values():
        if not page["module"].startswith(pages.MODULE + ".") or \
                page["module"].endswith("not_found_404"):
            continue
        path = page["path_template"] or page["path"]
        kinds.add("/".join(p for p in path.strip("/").split("/") if not p.startswith("<")))
    return kinds


# ---- the tests -------------------------------------------------------------------------
def test_table_covers_every_route_page_and_callback(world: World):
    rules = {r.rule for r in world.http_app.server.url_map.iter_rules()}
    covered = {p.rule for p in http_probes(world)}
    assert rules - EXEMPT_RULES == covered, "a route is missing from the scope table"
    assert render_prefixes() == {p.rule for p in page_probes(world)}, \
        "a page kind is missing from the scope table"
    callbacks = {k.split("@")[0] for k in world.http_app.callback_map}
    assert callbacks - EXEMPT_CALLBACKS == set(CALLBACKS), \
        "a callback is missing from the scope table"


def _check_body(w: World, scope: str, role: Role, what: str, body: str) -> None:
    leaked = [m for m in w.hidden_markers(scope, role) if m in body]
    assert not leaked, f"{scope}-{role.value} read {leaked} through {what}"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("scope", SCOPES)
def test_http_routes_and_pages_are_scoped(world: World, scope: str, role: Role):
    http = world.client_for(scope, role)
    wrong = []
    for p in http_probes(world):
        r = http.get(p.target)
        want = p.expected(scope, role)
        if r.status_code != want:
            wrong.append(f"{p.target}: {r.status_code} != {want}")
        if r.status_code < 400:
            _check_body(world, scope, role, p.target, r.get_data().decode(errors="replace"))
    for p in page_probes(world):
        path, _, search = p.target.partition("?")
        status, body = render(http, path, f"?{search}" if search else "")
        got, want = page_status(status, body), page_expected(p, scope, role)
        if got != want:
            wrong.append(f"page {p.target}: {got} != {want}")
        if got == 200:
            _check_body(world, scope, role, f"page {p.target}", body)
    assert not wrong, "\n".join(wrong)


# ---- callbacks: (payload builder, applied?) per callback output --------------------------
def _cb(output: str, outputs: Any, inputs: list, state: list, changed: str) -> dict[str, Any]:
    return {"output": output, "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": [changed]}


def case_refresh(case_id: str, _: World) -> dict[str, Any]:
    outs = ["gw-case-details", "gw-case-timeline", "gw-case-actions", "gw-case-audit"]
    return _cb("..gw-case-details.children...gw-case-timeline.children...gw-case-actions."
               "children...gw-case-audit.children..",
               [{"id": o, "property": "children"} for o in outs],
               [{"id": "gw-case-store", "property": "data", "value": {"incident_id": case_id}}],
               [{"id": "gw-root", "property": "data-lang", "value": "en"}],
               "gw-case-store.data")


def case_note(case_id: str, _: World) -> dict[str, Any]:
    btn = {"action": "note", "type": "gw-act"}
    return _cb("gw-action-msg.children", {"id": "gw-action-msg", "property": "children"},
               [[{"id": btn, "property": "n_clicks", "value": 1}]],
               [[], [{"id": {"i": 0, "type": "gw-note"}, "property": "value", "value": "n"}],
                {"id": "gw-case-store", "property": "data", "value": {"incident_id": case_id}},
                {"id": "gw-root", "property": "data-lang", "value": "en"}],
               json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks")


def video_review(case_id: str, w: World) -> dict[str, Any]:
    return _cb("..gw-video-review-msg.children...gw-video-review-state.children..",
               [{"id": "gw-video-review-msg", "property": "children"},
                {"id": "gw-video-review-state", "property": "children"}],
               [{"id": "gw-video-reviewed", "property": "n_clicks", "value": 1}],
               [{"id": "gw-video-note", "property": "value", "value": "seen"},
                {"id": "gw-video-event", "property": "data",
                 "value": {"event_id": w.events[case_id]}},
                {"id": "gw-root", "property": "data-lang", "value": "en"}],
               "gw-video-reviewed.n_clicks")


def video_flag(case_id: str, _: World) -> dict[str, Any]:
    return _cb("gw-video-flag-msg.children", {"id": "gw-video-flag-msg", "property": "children"},
               [{"id": "gw-video-flag", "property": "n_clicks", "value": 1}],
               [{"id": "gw-case-store", "property": "data", "value": {"incident_id": case_id}},
                {"id": "gw-root", "property": "data-lang", "value": "en"}],
               "gw-video-flag.n_clicks")


def deadletter_send(_: str, w: World) -> dict[str, Any]:
    key = {"id": "0-1", "type": "gw-dl-send"}
    fixed = json.dumps({"type": "duty", "msg_id": f"dl-{time.time_ns()}", "on_duty": True,
                        "officer_id": w.officers["A1"], "ts": time.time()})
    return _cb('{"id":["MATCH"],"type":"gw-dl-result"}.children',
               {"id": {"id": "0-1", "type": "gw-dl-result"}, "property": "children"},
               [{"id": key, "property": "n_clicks", "value": 1}],
               [{"id": {"id": "0-1", "type": "gw-dl-text"}, "property": "value",
                 "value": fixed}],
               json.dumps(key, separators=(",", ":"), sort_keys=True) + ".n_clicks")


def _last_audit_id(client: redis.Redis) -> str:
    last = client.xrevrange(keys.AUDIT, count=1)
    return last[0][0].decode() if last else "0-0"


def _applied_by_audit(action: str) -> Callable[[World, str, User, str], bool]:
    """Whether an action was applied: its audit entry by that user appeared after `before`."""
    def applied(w: World, case_id: str, user: User, before: str) -> bool:
        return any(f[b"action"].decode() == action and f[b"user"].decode() == user.name
                   for _, f in w.client.xrange(keys.AUDIT, min=f"({before}"))
    return applied


CALLBACKS: dict[str, tuple[Callable, Callable | None, frozenset[Role], bool]] = {
    # output → (payload, applied-check or None for reads, roles, per case?)
    "..gw-case-details.children...gw-case-timeline.children...gw-case-actions.children..."
    "gw-case-audit.children..": (case_refresh, None, frozenset(Role), True),
    "gw-action-msg.children": (case_note, _applied_by_audit("case.note"), frozenset(ACTING),
                               True),
    "..gw-video-review-msg.children...gw-video-review-state.children..":
        (video_review, _applied_by_audit("video.review"), frozenset(REVIEW), True),
    "gw-video-flag-msg.children": (video_flag, _applied_by_audit("video.flag"),
                                   frozenset(FLAG), True),
    '{"id":["MATCH"],"type":"gw-dl-result"}.children':
        (deadletter_send, _applied_by_audit("deadletter.resubmit"),
         frozenset({Role.ADMIN}), False),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("scope", SCOPES)
def test_callbacks_act_and_read_only_in_scope(world: World, scope: str, role: Role):
    http = world.client_for(scope, role)
    user = world.user(scope, role)
    wrong = []
    for output, (payload, applied, roles, per_case) in CALLBACKS.items():
        for case_id in CASES if per_case else [""]:
            place, sensitive = CASES.get(case_id, (None, False))
            allowed = role in roles and (place is None and scope == "city" or place is not None
                                         and place in SEES[scope] and (
                                             not sensitive or role in CLEARED_FOR_SENSITIVE))
            before = _last_audit_id(world.client)
            r = http.post("/_dash-update-component", json=payload(case_id, world),
                          headers={"X-CSRFToken": http.get_cookie("_csrf_token").value})
            body = r.get_data(as_text=True)
            if applied is None:  # a read: content only when allowed
                got = r.status_code == 200 and f"TITLE-{case_id}" in body
                visible = place in SEES[scope] and (not sensitive or role in
                                                    CLEARED_FOR_SENSITIVE)
                if got != visible or r.status_code not in (200, 204):
                    wrong.append(f"{output[:20]} {case_id}: {r.status_code} {got}")
            elif applied(world, case_id, user, before) != allowed:
                wrong.append(f"{output[:20]} {case_id}: applied != {allowed} ({body[:80]})")
            if r.status_code == 200:
                _check_body(world, scope, role, f"callback {output[:20]}", body)
    assert not wrong, "\n".join(wrong)


# ---- push ------------------------------------------------------------------------------
def test_push_subscriptions_are_scoped(world: World, redis_server):
    w = world

    async def run(stop: asyncio.Event, ready) -> None:
        aclient = async_client(redis_server.url)
        hub = LiveHub(aclient, w.ctx.hierarchy, w.ctx.roster, w.ctx.rules,
                      lambda t: auth.session_user(w.client, t), flush_s=0.05)
        await serve_push(hub, "127.0.0.1", 0, stop, ready)
        await aclient.aclose()

    server = ThreadedServer(run).start()
    url = f"ws://127.0.0.1:{server.port}/live"
    try:
        wrong = asyncio.run(_push_matrix(w, url))
    finally:
        server.stop()
    assert not wrong, "\n".join(wrong)


async def _subscribe(url: str, token: str, query: str) -> tuple[int, Any]:
    try:
        ws = await connect(f"{url}?{query}", additional_headers={
            "Cookie": f"gw_session={token}"}, max_size=None, max_queue=None)
    except InvalidStatus as e:
        return e.response.status_code, None
    return 101, ws


async def _push_matrix(w: World, url: str) -> list[str]:
    wrong: list[str] = []
    subs = []
    for scope in SCOPES:
        for role in (Role.VIEWER, Role.DUTY):
            token = w.tokens[scope, role]
            for place in ("A1", "A2", "B", "city"):
                code = w.codes[place] if place != "city" else w.codes["city"]
                allowed = scope == "city" if place == "city" else place in SEES[scope]
                for case_id in ("", *CASES):
                    query = f"region={code}" + (f"&case={case_id}" if case_id else "")
                    status, ws = await _subscribe(url, token, query)
                    if (status == 101) != allowed:
                        wrong.append(f"{scope}-{role.value} {query}: {status}")
                    if ws is not None:
                        sync = await asyncio.wait_for(ws.recv(), 5)
                        _check_push(w, scope, role, query, sync, wrong)
                        subs.append((scope, role, query, ws))
    await _publish_all(w)

    async def drain(scope: str, role: Role, query: str, ws: Any) -> None:
        try:
            while True:
                frame = await asyncio.wait_for(ws.recv(), 1.5)
                _check_push(w, scope, role, query, frame, wrong)
        except TimeoutError:
            pass
        await ws.close()

    await asyncio.gather(*(drain(*sub) for sub in subs))
    return wrong


async def _publish_all(w: World) -> None:
    """Every case changes at once (a marker and a whole-case update per case)."""
    now = time.time()
    for case_id, (place, sensitive) in CASES.items():
        grid = w.grids[place]
        m = {"id": case_id, "lon": 113.7, "lat": 23.0, "level": "red",
             "category": "mental_health" if sensitive else "dispute",
             "title": f"TITLE-{case_id}", "status": "reported", "reported_ts": now,
             "grid": grid}
        whole = {"incident_id": case_id, "grid": grid, "category": m["category"],
                 "title": f"TITLE-{case_id}"}
        w.client.xadd(keys.live(grid[:9]), {"m": orjson.dumps({
            "ts": now, "town": grid[:9], "incidents": [m], "cases": [whole]})})
    await asyncio.sleep(0.5)


def _check_push(w: World, scope: str, role: Role, query: str, raw: Any,
                wrong: list[str]) -> None:
    leaked = [m for m in w.hidden_markers(scope, role) if m in str(raw)]
    if leaked:
        wrong.append(f"{scope}-{role.value} push {query} got {leaked}")


# ---- counts ----------------------------------------------------------------------------
def _open_total(counts: dict[str, int]) -> int:
    return sum(counts[k] for k in ("green", "yellow", "red"))


@pytest.mark.parametrize("scope", ["city", "village"])
def test_counts_leave_out_sensitive_cases_for_uncleared_roles(world: World, scope: str):
    """Summary API, map KPIs and push KPIs count the sensitive case only for cleared roles."""
    from dashboard.push import Client
    from dashboard.views import Snapshots
    from feeds.live import reads

    visible = {p for p, _ in CASES.values()} & SEES[scope]
    hub = LiveHub(None, world.ctx.hierarchy, world.ctx.roster, world.ctx.rules,
                  lambda t: None)
    hub.counts = reads.read_counts(world.client, world.ctx.towns)
    snaps = Snapshots(world.ctx, world.client)
    for role in Role:
        want = sum(1 for p, sensitive in CASES.values() if p in visible and (
            not sensitive or role in CLEARED_FOR_SENSITIVE))
        http = world.client_for(scope, role)
        body = http.get("/api/v1/summary").get_json()
        assert _open_total(body["counts"]["incidents_open"]) == want, role
        assert sum(_open_total(c["incidents_open"]) for c in body["children"]) == want, role
        frame = hub.frame_for(Client(None, world.user(scope, role), world.codes[scope]),
                              "sync", None)
        assert _open_total(frame["kpi"]["open"]) == want, role
        k = snaps.map_view(world.codes[scope], world.user(scope, role), "", "zh", False,
                           None).kpi
        assert (k.open_green + k.open_yellow + k.open_red, k.new_today) == (want, want), role

