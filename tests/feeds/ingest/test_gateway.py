"""The terminal gateway against a real redis-server: ack, nack, dead letters, idempotency."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from feeds.accounts.devices import add_device, revoke_device
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, device_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer

TOKEN = "test-token-123"


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


@pytest.fixture()
def gateway(redis_url: str, city_ctx: CityContext, index: GridIndex) -> Iterator[str]:
    """A gateway on a free loopback port; yields its ws:// URL."""
    placer = make_placer(city_ctx, sync_client(redis_url), index)

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        gw = Gateway(client, placer, device_token_check(client, TOKEN))
        await serve_gateway(gw, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield f"ws://127.0.0.1:{server.port}/terminal"
    server.stop()


def officer_point(ctx: CityContext, index: GridIndex, officer_id: str) -> tuple[float, float]:
    """A WGS-84 (lon, lat) inside the officer's own grid."""
    import numpy as np

    grid = ctx.roster[officer_id].grid
    lon, lat = index.random_point(grid, np.random.default_rng(7))
    return to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")


def exchange(url: str, frames: list[str | bytes], token: str = TOKEN) -> list[object]:
    """Send frames over one connection and return the decoded replies."""
    async def go() -> list[object]:
        out = []
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            for f in frames:
                await ws.send(f)
                out.append(orjson.loads(await ws.recv()))
        return out
    return asyncio.run(go())


def position(msg_id: str, officer: str, lon: float, lat: float, **extra) -> dict:
    return {"type": "position", "msg_id": msg_id, "officer_id": officer, "ts": time.time(),
            "lat": lat, "lon": lon, **extra}


def stream_entries(url: str, key: str) -> list[dict]:
    client = sync_client(url)
    return [orjson.loads(f[b"m"]) for _, f in client.xrange(key)]


def dead_letters(url: str) -> list[dict]:
    client = sync_client(url)
    return [{k.decode(): v.decode() for k, v in f.items()}
            for _, f in client.xrange(keys.DEAD_LETTER)]


def test_position_is_acked_after_it_is_in_its_towns_stream(gateway, redis_url, city_ctx, index):
    officer = "O000001"
    lon, lat = officer_point(city_ctx, index, officer)
    [reply] = exchange(gateway, [orjson.dumps(position("m1", officer, lon, lat))])
    assert reply == {"ack": "m1"}
    home = city_ctx.roster[officer].grid
    [stored] = stream_entries(redis_url, keys.positions(home[:9]))
    assert stored["msg_id"] == "m1" and stored["grid"] == home
    # converted once at the edge: stored in the hierarchy's datum (GCJ-02), not WGS-84
    assert abs(stored["lon"] - lon) > 1e-4


def test_invalid_message_is_nacked_with_reason_and_dead_lettered(gateway, redis_url, city_ctx,
                                                                index):
    lon, _ = officer_point(city_ctx, index, "O000001")
    [reply] = exchange(gateway, [orjson.dumps(position("bad1", "O000001", lon, 123.0))])
    assert reply["nack"] == "bad1"
    assert "lat" in reply["error"] and "90" in reply["error"]
    [dead] = dead_letters(redis_url)
    assert dead["msg_id"] == "bad1" and dead["reason"] == reply["error"]
    assert '"lat":123.0' in dead["raw"]


def test_frame_that_is_not_json_is_answered_and_kept(gateway, redis_url):
    [reply] = exchange(gateway, ["this is {not json"])
    assert reply["nack"] is None and reply["error"].startswith("frame is not JSON")
    [dead] = dead_letters(redis_url)
    assert dead["raw"] == "this is {not json"


def test_duplicate_msg_id_is_acked_twice_and_stored_once(gateway, redis_url, city_ctx, index):
    lon, lat = officer_point(city_ctx, index, "O000002")
    frame = orjson.dumps(position("dup", "O000002", lon, lat))
    assert exchange(gateway, [frame, frame]) == [{"ack": "dup"}, {"ack": "dup"}]
    town = city_ctx.roster["O000002"].grid[:9]
    assert len(stream_entries(redis_url, keys.positions(town))) == 1


def test_batch_with_one_bad_message_answers_each_in_order(gateway, redis_url, city_ctx, index):
    lon, lat = officer_point(city_ctx, index, "O000003")
    batch = [position("b1", "O000003", lon, lat), position("b2", "O000003", lon, lat, speed_mps=-1),
             {"type": "duty", "msg_id": "b3", "officer_id": "O000003", "ts": time.time(),
              "on_duty": True}]
    [replies] = exchange(gateway, [orjson.dumps(batch)])
    assert replies[0] == {"ack": "b1"} and replies[2] == {"ack": "b3"}
    assert replies[1]["nack"] == "b2" and "speed_mps" in replies[1]["error"]
    town = city_ctx.roster["O000003"].grid[:9]
    assert [m["msg_id"] for m in stream_entries(redis_url, keys.positions(town))] == ["b1", "b3"]
    assert [d["msg_id"] for d in dead_letters(redis_url)] == ["b2"]


def test_unknown_officer_and_point_outside_the_city_are_refused(gateway, city_ctx, index):
    lon, lat = officer_point(city_ctx, index, "O000004")
    replies = exchange(gateway, [orjson.dumps(position("u1", "NOBODY", lon, lat)),
                                 orjson.dumps(position("u2", "O000004", 116.39, 39.9))])
    assert replies[0]["nack"] == "u1" and "unknown officer" in replies[0]["error"]
    assert replies[1]["nack"] == "u2" and "outside" in replies[1]["error"]


def test_incident_and_its_update_go_to_the_incident_town(gateway, redis_url, city_ctx, index):
    lon, lat = officer_point(city_ctx, index, "O000005")
    inc = {"type": "incident", "msg_id": "i1", "incident_id": "INC-1", "officer_id": "O000005",
           "ts": time.time(), "lat": lat, "lon": lon, "category": "fire", "title": "<b>冒烟</b>"}
    upd = {"type": "incident_update", "msg_id": "i2", "incident_id": "INC-1",
           "ts": time.time(), "status": "acknowledged"}
    ghost = dict(upd, msg_id="i3", incident_id="INC-404")
    bad_cat = dict(inc, msg_id="i4", incident_id="INC-2", category="aliens")
    replies = exchange(gateway, [orjson.dumps(m) for m in (inc, upd, ghost, bad_cat)])
    assert replies[:2] == [{"ack": "i1"}, {"ack": "i2"}]
    assert "unknown incident" in replies[2]["error"]
    assert "unknown category" in replies[3]["error"]
    town = index.locate(*to_datum(lon, lat, "wgs84", city_ctx.hierarchy.datum)).town
    stored = stream_entries(redis_url, keys.incidents_in(town))
    assert [m["msg_id"] for m in stored] == ["i1", "i2"]
    assert stored[0]["title"] == "<b>冒烟</b>"  # kept verbatim; shown as text by the UI


def test_wrong_token_is_refused_before_the_handshake(gateway):
    with pytest.raises(InvalidStatus) as err:
        exchange(gateway, ["{}"], token="wrong")
    assert err.value.response.status_code == 401


def test_token_in_query_string_is_accepted(gateway, city_ctx, index):
    lon, lat = officer_point(city_ctx, index, "O000006")

    async def go() -> object:
        async with connect(f"{gateway}?token={TOKEN}") as ws:
            await ws.send(orjson.dumps(position("q1", "O000006", lon, lat)))
            return orjson.loads(await ws.recv())
    assert asyncio.run(go()) == {"ack": "q1"}


def test_device_token_speaks_only_for_its_officer_until_revoked(gateway, redis_url, city_ctx,
                                                               index):
    client = sync_client(redis_url)
    token = add_device(client, "phone-7", "O000007")
    lon, lat = officer_point(city_ctx, index, "O000007")
    own = position("dv1", "O000007", lon, lat)
    other = position("dv2", "O000008", lon, lat)
    replies = exchange(gateway, [orjson.dumps(own), orjson.dumps(other)], token=token)
    assert replies[0] == {"ack": "dv1"}
    assert replies[1]["nack"] == "dv2" and "belongs to O000007" in replies[1]["error"]
    [dead] = dead_letters(redis_url)
    assert dead["source"].startswith("phone-7@")
    assert revoke_device(client, "phone-7")
    with pytest.raises(InvalidStatus) as err:
        exchange(gateway, [orjson.dumps(own)], token=token)
    assert err.value.response.status_code == 401


def test_duplicates_inside_one_batch_and_a_flushed_script(gateway, redis_url, city_ctx, index):
    client = sync_client(redis_url)
    lon, lat = officer_point(city_ctx, index, "O000009")
    same = position("twice", "O000009", lon, lat)
    [replies] = exchange(gateway, [orjson.dumps([same, same])])
    assert replies == [{"ack": "twice"}, {"ack": "twice"}]
    client.script_flush()  # as after a Redis restart without the script cache
    [again] = exchange(gateway, [orjson.dumps(position("after", "O000009", lon, lat))])
    assert again == {"ack": "after"}
    town = city_ctx.roster["O000009"].grid[:9]
    assert [m["msg_id"] for m in stream_entries(redis_url, keys.positions(town))] == [
        "twice", "after"]
