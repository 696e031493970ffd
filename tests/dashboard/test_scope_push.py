"""Scope enforcement of the push channel's subscriptions and of counts of sensitive cases
(the world of tests/dashboard/scope_world.py)."""
from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dashboard.push import LiveHub, serve_push
from domain.access import CLEARED_FOR_SENSITIVE, Role
from domain.regions import town_of
from feeds.accounts import async_sessions
from feeds.store import keys
from feeds.store.client import async_client
from tests.conftest import ThreadedServer
from tests.dashboard.scope_world import CASES, SCOPES, SEES, World


# ---- push ------------------------------------------------------------------------------
def test_push_subscriptions_are_scoped(world: World, redis_server):
    w = world

    async def run(stop: asyncio.Event, ready) -> None:
        aclient = async_client(redis_server.url)
        hub = LiveHub(aclient, w.ctx.hierarchy, w.ctx.roster, w.ctx.rules,
                      lambda t: async_sessions.session_user(aclient, t), flush_s=0.05)
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
        w.client.xadd(keys.live(town_of(grid)), {"m": orjson.dumps({
            "ts": now, "town": town_of(grid), "incidents": [m], "cases": [whole]})})
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
