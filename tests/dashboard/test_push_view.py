"""Viewport clustering on the push channel: a page that asks for it gets clusters, no rows."""
from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from domain.access import Role, User
from feeds.accounts import auth
from feeds.store import keys
from tests.dashboard.test_push import case, push  # noqa: F401  (the fixture)


def test_view_client_gets_clusters_for_its_view_and_no_officer_rows(push, city_ctx):  # noqa: F811
    url, client = push
    h = city_ctx.hierarchy
    city = h.city.code
    token = auth.open_session(client, User("c", Role.DUTY, city))
    officers = sorted(city_ctx.roster.values(), key=lambda o: o.officer_id)[:500]
    for town in {o.grid[:9] for o in officers}:
        rows = [[o.officer_id, *h[o.grid].centre, 1] for o in officers if o.grid[:9] == town]
        client.xadd(keys.live(town), {"m": orjson.dumps({"ts": time.time(), "town": town,
                                                          "officers": rows})})
    minx, miny, maxx, maxy = city_ctx.city.shapes[city].bounds

    async def go() -> tuple[dict, dict, dict]:
        async with connect(f"{url}?region={city}&officers=view", max_size=None,
                           additional_headers={"Cookie": f"gw_session={token}"}) as ws:
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(orjson.dumps({"type": "view", "west": minx, "south": miny,
                                        "east": maxx, "north": maxy, "zoom": 10}))
            while True:
                reply = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if "officer_view" in reply:
                    break
            await ws.send(b'{"type": "view", "west": "x"}')  # ignored, connection stays
            x, y = h[officers[0].grid].centre
            await ws.send(orjson.dumps({"type": "view", "west": x - 0.001, "south": y - 0.001,
                                        "east": x + 0.001, "north": y + 0.001, "zoom": 18}))
            while True:
                close = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
                if "officer_view" in close:
                    return first, reply, close

    time.sleep(0.5)  # the hub applies the live frames
    sync, towns, singles = asyncio.run(go())
    assert sync["type"] == "sync" and sync["officers"] == [] and "officer_view" not in sync
    feats = towns["officer_view"]
    assert {f["properties"]["kind"] for f in feats} == {"town"}
    assert sum(f["properties"]["point_count"] for f in feats) == 500
    assert sum(f["properties"]["on"] for f in feats) == 500
    near = {f["properties"].get("id") for f in singles["officer_view"]}
    assert officers[0].officer_id in near and None not in near


def test_a_wall_gets_the_cases_its_zoom_draws_and_the_rest_when_it_zooms_in(push, city_ctx):  # noqa: F811
    """cases=view (a map without a case list): at city zoom the red cases only, the others
    when its view reaches CASE_ZOOM, and later changes and closures of every case it holds;
    a page with a list (no cases=view) gets every case."""
    url, client = push
    h = city_ctx.hierarchy
    city, town = h.city.code, city_ctx.towns[2]
    grid = h.children_of(h.children_of(town)[0])[0]
    token = auth.open_session(client, User("w", Role.DUTY, city))
    levels = {"VR": "red", "VY": "yellow", "VG": "green"}
    client.xadd(keys.live(town), {"m": orjson.dumps({"ts": time.time(), "town": town, "incidents": [
        case(iid, grid, level=lv) for iid, lv in levels.items()]})})
    minx, miny, maxx, maxy = city_ctx.city.shapes[city].bounds

    async def frame_with(ws, key: str) -> dict:  # noqa: ANN001
        while True:
            frame = orjson.loads(await asyncio.wait_for(ws.recv(), 5))
            if key in frame:
                return frame

    async def go() -> tuple[list[dict], dict]:
        headers = {"Cookie": f"gw_session={token}"}
        async with connect(f"{url}?region={city}&officers=view&cases=view&zoom=9",
                           additional_headers=headers, max_size=None) as wall, \
                connect(f"{url}?region={city}&officers=view", additional_headers=headers,
                        max_size=None) as desk:
            seen = [orjson.loads(await asyncio.wait_for(wall.recv(), 5))]
            desk_sync = orjson.loads(await asyncio.wait_for(desk.recv(), 5))
            await wall.send(orjson.dumps({"type": "view", "west": minx, "south": miny,
                                          "east": maxx, "north": maxy, "zoom": 12}))
            seen.append(await frame_with(wall, "incidents"))
            client.xadd(keys.live(town), {"m": orjson.dumps({
                "ts": time.time(), "town": town, "closed": ["VG"],
                "incidents": [case("VY", grid, level="red")]})})
            seen.append(await frame_with(wall, "closed"))
            return seen, desk_sync

    time.sleep(0.5)  # the hub applies the live frame
    (sync, zoomed, later), desk = asyncio.run(go())
    assert [i["id"] for i in sync["incidents"] if i["id"] in levels] == ["VR"]
    assert {i["id"] for i in zoomed["incidents"]} == {"VY", "VG"}  # what the page lacked
    assert later["closed"] == ["VG"] and [i["level"] for i in later["incidents"]] == ["red"]
    assert {i["id"] for i in desk["incidents"]} >= set(levels)


def test_cases_by_view_without_a_zoom_is_refused_with_the_reason(push, city_ctx):  # noqa: F811
    url, client = push
    city = city_ctx.hierarchy.city.code
    token = auth.open_session(client, User("w", Role.DUTY, city))

    async def go() -> None:
        async with connect(f"{url}?region={city}&cases=view&zoom=near",
                           additional_headers={"Cookie": f"gw_session={token}"}):
            pass

    with pytest.raises(InvalidStatus) as err:
        asyncio.run(go())
    assert err.value.response.status_code == 400
    assert b"zoom" in err.value.response.body
