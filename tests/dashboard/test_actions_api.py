"""POST /api/v1/incidents/<id>/actions against a real redis-server: accepted and applied as the
case page's buttons are, scoped, audited; bad input 400, outside scope 403, wrong state 409."""
from __future__ import annotations

import base64
import time
from zoneinfo import ZoneInfo

import orjson
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role, User
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.tasks import pending_tasks
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client

PW = "actions-pass-1"


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PW}".encode()).decode(),
            "Content-Type": "application/json"}


@pytest.fixture()
def world(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    auth.add_user(client, "dutya", PW, Role.DUTY, town_a)
    auth.add_user(client, "viewer", PW, Role.VIEWER, "441900")
    worker = StateWorker(client, CityState.with_roster(city_ctx.rules, city_ctx.roster),
                         city_ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    h = city_ctx.hierarchy
    for iid, town in (("A1", town_a), ("B1", town_b)):
        grid = h.children_of(h.children_of(town)[0])[0]
        client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
            "type": "incident", "msg_id": iid, "incident_id": iid, "officer_id": "O000001",
            "ts": time.time(), "lon": 113.7, "lat": 23.0, "grid": grid, "category": "dispute",
            "title": "t", "severity": 0})})
        client.hset(keys.INCIDENT_TOWN, iid, town)

    def drain() -> None:
        ids = {s: ">" for s in worker.streams}
        for _ in range(3):
            ids = worker.step(ids, block_ms=20)

    drain()
    http = create_app(DashboardConfig(), city_ctx, client).server.test_client()
    officer = next(o for o in city_ctx.roster.values() if o.grid.startswith(town_a))
    outsider = next(o for o in city_ctx.roster.values() if o.grid.startswith(town_b))
    return {"http": http, "client": client, "drain": drain, "officer": officer,
            "outsider": outsider}


def post(world, iid: str, body: object, headers: dict[str, str]) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    r = world["http"].post(f"/api/v1/incidents/{iid}/actions", data=data, headers=headers)
    return r.status_code, r.get_json()


def test_accepted_actions_are_applied_audited_and_dispatched(world):
    oid = world["officer"].officer_id
    status, body = post(world, "A1", {"action": "acknowledge"}, basic("dutya"))
    assert status == 202 and body["command_id"].startswith("cmd-")
    status, _ = post(world, "A1", {"action": "assign", "officer_id": oid}, basic("dutya"))
    assert status == 202
    world["drain"]()
    inc = reads.read_incident(world["client"], "A1")
    assert inc.status == "dispatched" and inc.assignee == oid
    assert [e["by"] for e in inc.events if e["kind"] == "status"] == ["dutya", "dutya"]
    audit = [(e["user"], e["action"]) for e in reads.audit_entries(world["client"], 10,
                                                                   target="A1")]
    assert ("dutya", "case.acknowledge") in audit and ("dutya", "case.assign") in audit
    [task] = pending_tasks(world["client"], world["officer"].grid, oid)
    assert task.msg.incident_id == "A1" and task.msg.action == "assign"


@pytest.mark.parametrize(("body", "reason"), [
    (b"{not json", "body"),
    ({"action": "explode"}, "action"),
    ({"action": "note", "colour": "red"}, "colour"),
    ({"action": "assign"}, "assign needs an officer"),
    ({"action": "assign", "officer_id": "NOBODY"}, "unknown officer"),
    ({"action": "note", "note": "   "}, "a note needs text"),
])
def test_bad_input_is_400_with_the_reason(world, body, reason):
    status, answer = post(world, "A1", body, basic("dutya"))
    assert status == 400 and reason in answer["error"]


def test_scope_role_state_and_csrf(world):
    assert post(world, "B1", {"action": "acknowledge"}, basic("dutya"))[0] == 403
    status, answer = post(world, "A1", {"action": "acknowledge"}, basic("viewer"))
    assert status == 403 and "viewer" in answer["error"]
    status, answer = post(world, "A1", {"action": "assign",
                                        "officer_id": world["outsider"].officer_id},
                          basic("dutya"))
    assert status == 403 and "officer outside" in answer["error"]
    status, answer = post(world, "A1", {"action": "close"}, basic("dutya"))
    assert status == 409 and "cannot close a case that is reported" in answer["error"]
    assert post(world, "NOPE", {"action": "acknowledge"}, basic("dutya"))[0] == 404
    town = world["officer"].grid[:9]
    token = auth.open_session(world["client"], User("dutya", Role.DUTY, town))
    csrf = auth.session_record(world["client"], token)["csrf"]
    world["http"].set_cookie("gw_session", token)
    cookie = {"Content-Type": "application/json"}
    assert post(world, "A1", {"action": "acknowledge"}, cookie)[0] == 403  # no CSRF token
    status, _ = post(world, "A1", {"action": "acknowledge"}, {**cookie, "X-CSRFToken": csrf})
    assert status == 202
