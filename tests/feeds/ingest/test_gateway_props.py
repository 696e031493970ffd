"""Bad input at scale against a real gateway and redis-server (hypothesis): every bad message
is answered with a reason and dead-lettered, and the gateway keeps serving."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, constant_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from feeds.store.embedded import EmbeddedRedis
from tests.conftest import ThreadedServer
from tests.feeds.ingest.strategies import broken_messages, json_values, valid_messages

TOKEN = "props-token"
not_objects = json_values.filter(lambda v: not isinstance(v, dict))
bad_message = broken_messages().map(lambda c: c[0]) | not_objects | valid_messages
bad_frame = st.one_of(
    st.lists(bad_message, min_size=1, max_size=25).map(orjson.dumps),
    bad_message.map(orjson.dumps),
    st.binary(max_size=200),
    st.text(max_size=200),
    st.just(b"[]"),
)


@pytest.fixture(scope="module")
def gateway(redis_server: EmbeddedRedis, city_ctx: CityContext) -> Iterator[tuple[str, str]]:
    """A gateway on a free loopback port over an emptied real Redis: (ws URL, redis URL)."""
    url = redis_server.url
    sync = sync_client(url)
    sync.flushall()
    placer = make_placer(city_ctx, sync, GridIndex(city_ctx.city))

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(url)
        await serve_gateway(Gateway(client, placer, constant_token_check(TOKEN)),
                            "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield f"ws://127.0.0.1:{server.port}/terminal", url
    server.stop()


def send(url: str, frame: bytes | str) -> Any:
    async def go() -> Any:
        async with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}"},
                           max_size=None) as ws:
            await ws.send(frame)
            return orjson.loads(await asyncio.wait_for(ws.recv(), 10))
    return asyncio.run(go())


def expected_ids(frame: bytes | str) -> list[str | None] | None:
    """The msg_ids the answers should carry, one per message; None for a non-JSON frame."""
    try:
        data = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    items = data if isinstance(data, list) and data else [data]

    def mid(o: Any) -> str | None:
        m = o.get("msg_id") if isinstance(o, dict) else None
        return m if isinstance(m, str) and m else None
    return [mid(o) for o in items]


def test_bad_frames_are_each_answered_and_dead_lettered(gateway, city_ctx):
    ws_url, redis_url = gateway
    client = sync_client(redis_url)
    seen = {"frames": 0, "messages": 0}

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(bad_frame)
    def run(frame: bytes | str) -> None:
        last = client.xrevrange(keys.DEAD_LETTER, count=1)
        after = b"(" + last[0][0] if last else b"-"
        reply = send(ws_url, frame)
        answers = reply if isinstance(reply, list) else [reply]
        ids = expected_ids(frame)
        if ids is not None and isinstance(reply, list):
            assert len(answers) == len(ids)
            assert [a["nack"] for a in answers] == ids
        assert all("ack" not in a and isinstance(a.get("error"), str) and a["error"]
                   for a in answers), answers
        dead = client.xrange(keys.DEAD_LETTER, after, "+")
        assert [f[b"reason"].decode() for _, f in dead] == [a["error"] for a in answers]
        assert [f[b"msg_id"].decode() or None for _, f in dead] == [a["nack"] for a in answers]
        seen["frames"] += 1
        seen["messages"] += len(answers)

    run()  # 60 bounded examples: a few seconds on a quiet machine
    assert seen["frames"] >= 20
    # still serving: a good position from a real officer is acked and stored
    officer = "O000001"
    grid = city_ctx.roster[officer].grid
    lon, lat = GridIndex(city_ctx.city).random_point(grid, np.random.default_rng(1))
    lon, lat = to_datum(lon, lat, city_ctx.hierarchy.datum, "wgs84")
    good = {"type": "position", "msg_id": "after-fuzz", "officer_id": officer,
            "ts": time.time(), "lat": lat, "lon": lon}
    assert send(ws_url, orjson.dumps(good)) == {"ack": "after-fuzz"}
    assert client.xlen(keys.positions(grid[:9])) == 1
    assert client.xlen(keys.DEAD_LETTER) == seen["messages"]
