"""The JSON API and /health against a real redis-server: contract shape, scope, login."""
from __future__ import annotations

import base64
import time
from zoneinfo import ZoneInfo

import orjson
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client

PW = "secret-pass-1"


def basic(user: str, pw: str = PW) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()}


@pytest.fixture()
def api(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    auth.add_user(client, "admin", PW, Role.ADMIN, "441900")
    auth.add_user(client, "towna", PW, Role.VIEWER, town_a)
    worker = StateWorker(client, CityState.with_roster(city_ctx.rules, city_ctx.roster),
                         city_ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    now = time.time()
    grid_a = city_ctx.hierarchy.children_of(city_ctx.hierarchy.children_of(town_a)[0])[0]
    grid_b = city_ctx.hierarchy.children_of(city_ctx.hierarchy.children_of(town_b)[0])[0]
    for iid, grid, cat in (("A1", grid_a, "fire"), ("A2", grid_a, "mental_health"),
                           ("B1", grid_b, "dispute")):
        client.xadd(keys.incidents_in(grid[:9]), {"m": orjson.dumps({
            "type": "incident", "msg_id": iid, "incident_id": iid, "officer_id": "O000001",
            "ts": now, "lon": 113.7, "lat": 23.0, "grid": grid, "category": cat,
            "title": "<b>x</b>", "severity": 0})})
        client.hset(keys.INCIDENT_TOWN, iid, grid[:9])
    ids = {s: ">" for s in worker.streams}
    for _ in range(3):
        ids = worker.step(ids, block_ms=20)
    app = create_app(DashboardConfig(), city_ctx, client)
    return app.server.test_client(), town_a, town_b


def test_summary_follows_the_contract(api, city_ctx):
    http, town_a, _ = api
    r = http.get("/api/v1/summary", headers=basic("admin"))
    assert r.status_code == 200
    body = r.get_json()
    assert body["region"] == {"code": "441900", "name": "东莞市", "level": "city"}
    c = body["counts"]
    assert (c["towns"], c["villages"], c["grids"], c["officers"]) == (33, 593, 2958, 9756)
    assert c["incidents_open"] == {"green": 1, "yellow": 1, "red": 1}
    assert len(body["children"]) == 33
    child_a = next(ch for ch in body["children"] if ch["code"] == town_a)
    assert child_a["alert"] == "red" and child_a["level"] == "town"
    assert set(child_a["incidents_open"]) == {"green", "yellow", "red"}
    assert isinstance(body["as_of"], float)


def test_town_user_is_scoped_to_its_town(api, city_ctx):
    http, town_a, town_b = api
    body = http.get("/api/v1/summary", headers=basic("towna")).get_json()
    assert body["region"]["code"] == town_a
    assert body["counts"]["towns"] == 1
    assert {ch["code"] for ch in body["children"]} == set(city_ctx.hierarchy.children_of(town_a))
    # a viewer is not cleared for mental-health cases
    assert body["counts"]["incidents_open"]["red"] == 1
    listed = http.get("/api/v1/incidents", headers=basic("towna")).get_json()["incidents"]
    assert [i["incident_id"] for i in listed] == ["A1"]
    for path in (f"/api/v1/summary?region={town_b}", f"/api/v1/incidents?region={town_b}",
                 f"/api/v1/officers?region={town_b}", "/api/v1/summary?region=441900",
                 "/api/v1/incidents/B1", "/api/v1/incidents/A2"):
        assert http.get(path, headers=basic("towna")).status_code == 403, path
    officer_b = next(o for o in city_ctx.roster.values() if o.grid.startswith(town_b))
    assert http.get(f"/api/v1/officers/{officer_b.officer_id}",
                    headers=basic("towna")).status_code == 403


def test_incident_and_officer_reads(api, city_ctx):
    http, town_a, _ = api
    inc = http.get("/api/v1/incidents/A1", headers=basic("towna")).get_json()
    assert inc["level"] == "red" and inc["title"] == "<b>x</b>" and inc["status"] == "reported"
    assert http.get("/api/v1/incidents/NOPE", headers=basic("admin")).status_code == 404
    red = http.get("/api/v1/incidents?level=red", headers=basic("admin")).get_json()
    assert [i["incident_id"] for i in red["incidents"]] == ["A1"]
    assert http.get("/api/v1/incidents?level=purple", headers=basic("admin")).status_code == 400
    offs = http.get(f"/api/v1/officers?region={town_a}", headers=basic("admin")).get_json()
    assert offs["officers"] and all(o["grid"].startswith(town_a) for o in offs["officers"])
    one = http.get("/api/v1/officers/O000001", headers=basic("admin")).get_json()
    assert one["officer_id"] == "O000001" and "on_duty" in one


def test_login_is_required_but_health_is_open(api):
    http, _, _ = api
    assert http.get("/api/v1/summary").status_code == 401
    assert http.get("/api/v1/summary", headers=basic("admin", "wrong")).status_code == 401
    assert http.get("/api/v1/summary?region=999").status_code == 401
    h = http.get("/health")
    assert h.status_code == 200 and h.get_json()["status"] == "ok" and "feed_lag_s" in h.get_json()
    spec = http.get("/api/v1/openapi.json", headers=basic("admin")).get_json()
    assert "/api/v1/summary" in spec["paths"] and spec["openapi"].startswith("3.")
    page = http.get("/town/441900101")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_session_login_through_the_form(api):
    http, _, _ = api
    form = http.get("/login")
    csrf = form.headers["Set-Cookie"].split("gw_csrf=")[1].split(";")[0]
    bad = http.post("/login", data={"username": "admin", "password": "nope", "csrf": csrf})
    assert bad.status_code == 401
    no_csrf = http.post("/login", data={"username": "admin", "password": PW, "csrf": "x"})
    assert no_csrf.status_code == 400
    form = http.get("/login")  # each form gets a fresh token
    csrf = form.headers["Set-Cookie"].split("gw_csrf=")[1].split(";")[0]
    ok = http.post("/login?next=/town/441900101", data={"username": "admin", "password": PW,
                                                         "csrf": csrf})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/town/441900101")
    assert http.get("/api/v1/summary").status_code == 200  # the session cookie now works
    assert http.get("/logout").status_code == 200  # a link only asks
    assert http.get("/api/v1/summary").status_code == 200
    token = http.get_cookie("_csrf_token").value
    assert http.post("/logout").status_code == 403  # no CSRF token: refused
    assert http.post("/logout", headers={"X-CSRFToken": token}).status_code == 302
    assert http.get("/api/v1/summary").status_code == 401
