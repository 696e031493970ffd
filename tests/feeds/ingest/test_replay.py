"""Replay: another system's log mapped onto ours, and a replay equals the live run."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, constant_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.ingest.replay import LogMapping, ReplayError, load_mapping, messages, read_log, replay
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.sim.simulator import SimConfig, Simulator
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer

TOKEN = "replay-token"


def test_a_foreign_log_is_mapped_onto_our_messages(tmp_path):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns: {gps_time: ts, uid: officer_id, y: lat, x: lon, kind: type,"
                       " cat: category}\ncategories: {noise: dispute}\nts_unit: ms\n")
    log = tmp_path / "theirs.csv"
    pd.DataFrame([
        {"kind": "position", "gps_time": "1790000001000", "uid": "O1", "y": "23.1",
         "x": "113.7", "cat": "", "incident_id": "", "title": ""},
        {"kind": "incident", "gps_time": "1790000000000", "uid": "O1", "y": "23.1",
         "x": "113.7", "cat": "noise", "incident_id": "I9", "title": "吵闹"},
    ]).to_csv(log, index=False)
    out = list(messages(read_log(log), load_mapping(mapping)))
    assert [m["type"] for m in out] == ["incident", "position"]  # time order
    assert out[0]["category"] == "dispute" and out[0]["ts"] == 1790000000.0
    assert out[1] == {"type": "position", "ts": 1790000001.0, "msg_id": "replay-0",
                      "officer_id": "O1", "lat": 23.1, "lon": 113.7}


def test_unusable_logs_and_mappings_say_why(tmp_path):
    log = tmp_path / "x.csv"
    pd.DataFrame([{"type": "position", "when": "1"}]).to_csv(log, index=False)
    with pytest.raises(ReplayError, match="no ts column"):
        list(messages(read_log(log), LogMapping()))
    pd.DataFrame([{"type": "selfie", "ts": "1"}]).to_csv(log, index=False)
    with pytest.raises(ReplayError, match="row 2: unknown type 'selfie'"):
        list(messages(read_log(log), LogMapping()))
    bad = tmp_path / "m.yaml"
    bad.write_text("colums: {}\n")
    with pytest.raises(ReplayError, match="unknown fields"):
        load_mapping(bad)


@pytest.fixture()
def gateway_url(redis_url: str, city_ctx: CityContext) -> Iterator[str]:
    placer = make_placer(city_ctx, sync_client(redis_url))

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        await serve_gateway(Gateway(client, placer, constant_token_check(TOKEN)), "127.0.0.1",
                            0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield f"ws://127.0.0.1:{server.port}/terminal"
    server.stop()


def recorded_run(city_ctx: CityContext) -> list[dict]:
    """Ten simulated minutes of 60 officers with busy cases, as the phones sent them."""
    index = GridIndex(city_ctx.city)
    datum = city_ctx.hierarchy.datum
    sim = Simulator(list(city_ctx.roster.values())[:60], index.random_point,
                    lambda lon, lat: to_datum(lon, lat, datum, "wgs84"), city_ctx.rules,
                    SimConfig(incidents_per_hour=600, duty_changes_per_hour=2), seed=5)
    start = time.time() - 3600
    return [m for k in range(60) for m in sim.tick(start + 10 * k, 10)]


def state(url: str, towns: list[str]) -> dict:
    """Officer and case state as stored, after the worker has applied everything."""
    client = sync_client(url)
    out = {}
    for t in towns:
        out.update({f"o:{k.decode()}": v for k, v in client.hgetall(keys.officers(t)).items()})
        out.update({f"i:{k.decode()}": v for k, v in client.hgetall(keys.incidents(t)).items()})
    return out


def apply_all(url: str, ctx: CityContext) -> None:
    w = StateWorker(sync_client(url), CityState.with_roster(ctx.rules, ctx.roster),
                    ctx.towns, ZoneInfo("Asia/Shanghai"))
    w.bootstrap()
    ids = {s: ">" for s in w.streams}
    for _ in range(6):
        ids = w.step(ids, block_ms=20)


def test_replaying_a_recorded_log_gives_the_state_of_the_live_run(
        gateway_url, redis_url, city_ctx, tmp_path):
    log = recorded_run(city_ctx)
    assert {m["type"] for m in log} == {"duty", "position", "incident", "incident_update"}
    asyncio.run(replay(log, gateway_url, TOKEN, None, show=False))  # the live run
    apply_all(redis_url, city_ctx)
    live = state(redis_url, city_ctx.towns)
    path = tmp_path / "log.parquet"
    pd.DataFrame(log).to_parquet(path)
    sync_client(redis_url).flushall()
    client = asyncio.run(replay(list(messages(read_log(path), LogMapping())), gateway_url,
                                TOKEN, None, show=False))
    assert client.nacked == 0 and client.acked == len(log)
    apply_all(redis_url, city_ctx)
    replayed = state(redis_url, city_ctx.towns)
    assert len([k for k in live if k.startswith("i:")]) >= 5
    assert replayed == live
