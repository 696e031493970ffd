"""The push channel's wall support against a real redis-server: heartbeats with the feed's
freshness per region, and new-red-case alerts for a watched region (scoped)."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import orjson
import pytest
import redis
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from dashboard.push import LiveHub, serve_push
from domain.access import Role, User
from feeds.accounts import async_sessions, auth
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer


@pytest.fixture()
def push(redis_url: str, city_ctx: CityContext) -> Iterator[tuple[str, redis.Redis]]:
    sync = sync_client(redis_url)

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        hub = LiveHub(client, city_ctx.hierarchy, city_ctx.roster, city_ctx.rules,
                      lambda t: async_sessions.session_user(client, t), flush_s=0.05, beat_s=0.3)
        await serve_push(hub, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield f"ws://127.0.0.1:{server.port}/live", sync
    server.stop()


def marker(iid: str, grid: str, level: str, category: str = "fire") -> dict:
    return {"id": iid, "lon": 113.7, "lat": 23.0, "level": level, "category": category,
            "title": "t", "status": "reported", "reported_ts": time.time(), "grid": grid}


def collect(url: str, token: str, query: str, seconds: float,
            during=None) -> list[dict]:  # noqa: ANN001
    """Every frame received in `seconds` on one subscription; `during()` runs meanwhile."""
    async def go() -> list[dict]:
        out: list[dict] = []
        async with connect(f"{url}?{query}", additional_headers={
                "Cookie": f"gw_session={token}"}, max_size=None) as ws:
            if during is not None:
                asyncio.get_running_loop().call_later(0.4, during)
            end = time.monotonic() + seconds
            while (left := end - time.monotonic()) > 0:
                try:
                    out.append(orjson.loads(await asyncio.wait_for(ws.recv(), left)))
                except TimeoutError:
                    break
        return out
    return asyncio.run(go())


def until_synced(url: str, token: str, query: str, case_id: str, timeout: float = 15) -> None:
    """Wait until a new subscriber's sync shows the case: the hub has read it (on a busy
    machine or a cluster's polled reads that takes longer than any fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        sync = collect(url, token, query, 0.3)[:1]
        if sync and any(i["id"] == case_id for i in sync[0].get("incidents", ())):
            return
        assert time.monotonic() < deadline, f"the hub never showed {case_id}"


def test_heartbeat_reports_the_feed_time_of_the_region(push, city_ctx):
    url, client = push
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    token = auth.open_session(client, User("c", Role.VIEWER, city_ctx.hierarchy.city.code))
    old = time.time() - 100
    client.xadd(keys.live(town_b), {"m": orjson.dumps({"ts": old, "town": town_b})})

    def publish() -> None:
        client.xadd(keys.live(town_a), {"m": orjson.dumps({"ts": time.time(), "town": town_a})})

    t0 = time.time()
    frames_a = collect(url, token, f"region={town_a}", 1.5, publish)
    beats = [f for f in frames_a if f["type"] == "beat"]
    assert len(beats) >= 3  # every 0.3 s, with or without data
    assert abs(beats[-1]["now"] - time.time()) < 2
    assert beats[-1]["feed_as_of"] >= t0  # the fresh frame of its own town
    frames_b = collect(url, token, f"region={town_b}", 0.8)
    beat_b = [f for f in frames_b if f["type"] == "beat"][-1]
    assert beat_b["feed_as_of"] < t0 - 50  # town B's feed is still old: it goes stale
    assert beat_b["now"] - beat_b["feed_as_of"] > 50


def test_watched_region_gets_alerts_for_new_red_cases_only(push, city_ctx):
    url, client = push
    h = city_ctx.hierarchy
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    village = h.children_of(town_a)[0]
    grid_a = h.children_of(village)[0]
    grid_a2 = h.children_of(h.children_of(town_a)[1])[0]
    grid_b = h.children_of(h.children_of(town_b)[0])[0]
    token = auth.open_session(client, User("t", Role.VIEWER, town_a))
    client.xadd(keys.live(town_a), {"m": orjson.dumps({
        "ts": time.time(), "town": town_a, "incidents": [marker("OLD-RED", grid_a, "red")]})})
    until_synced(url, token, f"region={village}", "OLD-RED")  # the hub has seen it red

    def publish() -> None:
        client.xadd(keys.live(town_a), {"m": orjson.dumps({
            "ts": time.time(), "town": town_a, "incidents": [
                marker("OLD-RED", grid_a, "red"),  # an update of a case that was red
                marker("NEW-RED", grid_a2, "red"),  # new, in another village of the town
                marker("NEW-GREEN", grid_a2, "green", "dispute"),
                marker("SENSITIVE", grid_a2, "red", "mental_health")]})})
        client.xadd(keys.live(town_b), {"m": orjson.dumps({
            "ts": time.time(), "town": town_b, "incidents": [marker("OTHER", grid_b, "red")]})})

    frames = collect(url, token, f"region={village}&watch={town_a}", 3.0, publish)
    alerts = [m["id"] for f in frames if f["type"] == "delta" for m in f.get("alerts", ())]
    assert alerts == ["NEW-RED"]
    # a wall that (re)connects gets the last minutes' new red cases again (it drops repeats)
    assert [m["id"] for m in frames[0].get("alerts", ())] == ["OLD-RED"]
    # the page's own layers still only get its village
    shown = {m["id"] for f in frames for m in f.get("incidents", ())}
    assert "NEW-RED" not in shown
    # without watch, no alerts at all
    def again() -> None:
        client.xadd(keys.live(town_a), {"m": orjson.dumps({
            "ts": time.time(), "town": town_a, "incidents": [marker("NEW-RED-2", grid_a, "red")]})})

    frames = collect(url, token, f"region={village}", 1.0, again)
    assert not any(f.get("alerts") for f in frames)
    assert any(m["id"] == "NEW-RED-2" for f in frames for m in f.get("incidents", ()))


def test_watching_outside_the_scope_is_refused(push, city_ctx):
    url, client = push
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    token = auth.open_session(client, User("t", Role.VIEWER, town_a))
    with pytest.raises(InvalidStatus) as err:
        collect(url, token, f"region={town_a}&watch={town_b}", 0.5)
    assert err.value.response.status_code == 403
