"""The live push channel against a real redis-server: sync, deltas, scope, auth."""
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
from domain.regions import Level
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
                      lambda t: async_sessions.session_user(client, t), flush_s=0.05)
        await serve_push(hub, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield f"ws://127.0.0.1:{server.port}/live", sync
    server.stop()


def frames_for(url: str, token: str | None, region: str, n: int,
               timeout: float = 5) -> list[dict]:
    """Connect as a session and collect n frames."""
    async def go() -> list[dict]:
        headers = {"Cookie": f"gw_session={token}"} if token else {}
        async with connect(f"{url}?region={region}", additional_headers=headers,
                           max_size=None) as ws:
            out = []
            while len(out) < n:
                frame = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
                if frame.get("type") != "beat":  # heartbeats are tested in test_push_wall
                    out.append(frame)
            return out
    return asyncio.run(go())


def case(iid: str, grid: str, category: str = "dispute", level: str = "green") -> dict:
    return {"id": iid, "lon": 113.7, "lat": 23.0, "level": level, "category": category,
            "title": "t", "status": "reported", "reported_ts": time.time(), "grid": grid}


def test_village_user_gets_only_its_village(push, city_ctx):
    url, client = push
    h = city_ctx.hierarchy
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    village = h.children_of(town_a)[0]
    grid_in = h.children_of(village)[0]
    grid_other_village = h.children_of(h.children_of(town_a)[1])[0]
    grid_other_town = h.children_of(h.children_of(town_b)[0])[0]
    token = auth.open_session(client, User("v", Role.DUTY, village))

    async def publish_later() -> None:
        await asyncio.sleep(0.5)
        for town, grid, iid in ((town_a, grid_in, "MINE"), (town_a, grid_other_village, "NOT1"),
                                (town_b, grid_other_town, "NOT2")):
            client.xadd(keys.live(town), {"m": orjson.dumps({
                "ts": time.time(), "town": town, "incidents": [case(iid, grid)]})})

    async def both() -> list[dict]:
        pub = asyncio.create_task(publish_later())
        frames = await asyncio.to_thread(frames_for, url, token, village, 2)
        await pub
        return frames
    sync, delta = asyncio.run(both())
    assert sync["type"] == "sync" and delta["type"] == "delta"
    officers = {row[0] for row in sync["officers"]}
    assert all(city_ctx.roster[o].grid.startswith(village) for o in officers)
    assert set(sync["regions"]) == set(h.children_of(village))  # its grids, nothing else
    assert [i["id"] for i in delta["incidents"]] == ["MINE"]


def test_sensitive_cases_only_reach_cleared_roles(push, city_ctx):
    url, client = push
    town = city_ctx.towns[0]
    grid = next(r.code for r in city_ctx.hierarchy.descendants(town, Level.GRID))
    viewer = auth.open_session(client, User("v", Role.VIEWER, town))
    duty = auth.open_session(client, User("d", Role.DUTY, town))
    client.xadd(keys.live(town), {"m": orjson.dumps({
        "ts": time.time(), "town": town,
        "incidents": [case("MH", grid, "mental_health", "yellow"), case("OK", grid)]})})
    deadline = time.monotonic() + 15  # until the hub has read it (no fixed sleep: a busy
    while True:                       # machine or a cluster's polled reads take longer)
        [seen_by_duty] = frames_for(url, duty, town, 1)
        if {i["id"] for i in seen_by_duty["incidents"]} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [seen_by_viewer] = frames_for(url, viewer, town, 1)
    assert {i["id"] for i in seen_by_viewer["incidents"]} == {"OK"}
    assert {i["id"] for i in seen_by_duty["incidents"]} == {"MH", "OK"}


def test_outside_scope_and_no_session_are_refused(push, city_ctx):
    url, client = push
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    token = auth.open_session(client, User("t", Role.VIEWER, town_a))
    with pytest.raises(InvalidStatus) as err:
        frames_for(url, token, town_b, 1)
    assert err.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as err:
        frames_for(url, None, town_a, 1)
    assert err.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as err:
        frames_for(url, "forged-token", town_a, 1)
    assert err.value.response.status_code == 401


def test_a_delta_carries_only_the_regions_whose_counts_changed():
    """A city page's 33 towns are sent whole in a sync; a delta holds the changed ones only
    (docs/push-protocol.md), so a quiet city costs a page almost nothing."""
    from dashboard.push_model import Client

    c = Client(ws=None, user=User("v", Role.VIEWER, "441900"), region="441900")  # type: ignore[arg-type]
    towns = {f"4419001{i:02d}": {"green": i, "yellow": 0, "red": 0, "level": "green"}
             for i in range(33)}
    assert LiveHub.changed_regions(c, towns, full=True) == towns
    assert LiveHub.changed_regions(c, dict(towns), full=False) == {}
    moved = dict(towns, **{"441900105": {"green": 5, "yellow": 0, "red": 1, "level": "red"}})
    assert LiveHub.changed_regions(c, moved, full=False) == {"441900105": moved["441900105"]}
    assert LiveHub.changed_regions(c, moved, full=False) == {}
    assert LiveHub.changed_regions(c, moved, full=True) == moved  # a resync: all again
