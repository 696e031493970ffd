"""Viewport clustering on the push channel: a page that asks for it gets clusters, no rows."""
from __future__ import annotations

import asyncio
import time

import orjson
from websockets.asyncio.client import connect

from domain.access import Role, User
from feeds.accounts import auth
from feeds.store import keys
from tests.dashboard.test_push import push  # noqa: F401  (the fixture)


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
