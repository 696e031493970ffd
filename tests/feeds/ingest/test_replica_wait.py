"""Acks wait for the replicas (Redis WAIT on the connection, per cluster node, that wrote):
after an ack the replica has the message; a replica that does not confirm in time makes a
nack, and the resend is stored once."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
import redis

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, constant_token_check
from feeds.ingest.intake import make_placer, store_sync
from feeds.ingest.protocol import decode_one
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from feeds.store.replication import ReplicaWait
from tests.conftest import ON_CLUSTER
from tests.redis_sentinel import LocalSentinel


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


def positions(ctx: CityContext, index: GridIndex, per_town: int = 1, tag: str = "m"
              ) -> list[dict[str, Any]]:
    """Fresh valid positions: `per_town` officers of every town, WGS-84 as phones send them."""
    import numpy as np

    rng, now, out, seen = np.random.default_rng(7), time.time(), [], {}
    for oid in sorted(ctx.roster):
        town = ctx.roster[oid].grid[:9]
        if seen.get(town, 0) >= per_town:
            continue
        seen[town] = seen.get(town, 0) + 1
        lon, lat = to_datum(*index.random_point(ctx.roster[oid].grid, rng),
                            ctx.hierarchy.datum, "wgs84")
        out.append({"type": "position", "msg_id": f"{tag}-{oid}", "officer_id": oid,
                    "ts": now - 1, "lat": lat, "lon": lon, "accuracy_m": 5.0, "battery": 80})
    return out


LOOP: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(autouse=True)
def loop():
    """One event loop per test for the gateway's asyncio clients."""
    LOOP.append(asyncio.new_event_loop())
    yield LOOP[-1]
    LOOP.pop().close()


def answer(gw: Gateway, frame: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The gateway's reply to one frame."""
    return orjson.loads(LOOP[-1].run_until_complete(gw.handle_frame(orjson.dumps(frame),
                                                                    "test")))


@contextmanager
def paused(pid: int):
    """A replica that stops answering (SIGSTOP), then carries on (SIGCONT)."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def stream_lengths(port: int, streams: list[str], replica: bool = False) -> dict[str, int]:
    """XLEN of streams read on one node (a cluster replica after READONLY)."""
    c = redis.Redis(host="127.0.0.1", port=port)
    try:
        if replica:
            c.execute_command("READONLY")
        return {s: c.xlen(s) for s in streams}
    finally:
        c.close()


@pytest.fixture()
def primary_replica(tmp_path):
    """A real primary with one replica (no sentinels)."""
    s = LocalSentinel(tmp_path, sentinels=0).start()
    yield s
    s.stop()


def test_plain_acks_wait_until_the_replica_has_the_messages(primary_replica, city_ctx, index):
    url = primary_replica.primary_url
    placer = make_placer(city_ctx, sync_client(url), index)
    aclient = async_client(url)
    gw = Gateway(aclient, placer, constant_token_check("t"),
                 replicas=ReplicaWait(aclient, None, timeout_ms=300))
    frame = positions(city_ctx, index)
    assert all("ack" in a for a in answer(gw, frame))
    streams = sorted({keys.positions(city_ctx.roster[m["officer_id"]].grid[:9]) for m in frame})
    replica = primary_replica.data_ports[1]
    assert sum(stream_lengths(replica, streams).values()) == len(frame)  # on the replica now
    with paused(primary_replica.procs[replica].pid):
        nacks = answer(gw, frame[:3] + positions(city_ctx, index, tag="late")[:2])
    assert [a.get("error") for a in nacks] == ["not on a replica in time, retry later"] * 5
    assert gw.stats["unreplicated"] == 5
    assert gw.replicas.stale()  # a short WAIT re-reads the replica counts (a failover?)
    again = answer(gw, positions(city_ctx, index, tag="late")[:2])  # the sender resends
    assert all("ack" in a for a in again)
    primary = stream_lengths(primary_replica.data_ports[0], streams)
    assert sum(primary.values()) == len(frame) + 2  # each message once
    deadline = time.monotonic() + 5
    while stream_lengths(replica, streams) != primary and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream_lengths(replica, streams) == primary


def test_no_wait_without_replicas_and_a_fixed_count_without_them_nacks(redis_url, city_ctx,
                                                                       index):
    """A lone Redis (auto: 0 replicas) acks at once; asking for 1 there nacks in time."""
    if ON_CLUSTER:
        pytest.skip("the cluster has replicas (covered below)")
    placer = make_placer(city_ctx, sync_client(redis_url), index)
    auto = Gateway(async_client(redis_url), placer, constant_token_check("t"))
    assert all("ack" in a for a in answer(auto, positions(city_ctx, index)))
    aclient = async_client(redis_url)
    strict = Gateway(aclient, placer, constant_token_check("t"),
                     replicas=ReplicaWait(aclient, 1, timeout_ms=50))
    started = time.perf_counter()
    frame = positions(city_ctx, index, tag="strict")[:2]
    assert [a["nack"] for a in answer(strict, frame)] == [m["msg_id"] for m in frame]
    assert time.perf_counter() - started < 5


def test_the_sync_intake_waits_too(primary_replica, city_ctx, index):
    """Open311 and replay resubmits (store_sync): acked once on the replica, else nacked."""
    client = sync_client(primary_replica.primary_url)
    placer = make_placer(city_ctx, client, index)
    now = time.time()
    msgs = positions(city_ctx, index, tag="sync")[:3]
    routed = [placer.route(decode_one(m, now)) for m in msgs]
    assert all("ack" in a for a in store_sync(client, routed, "test", now))
    replica = primary_replica.data_ports[1]
    with paused(primary_replica.procs[replica].pid):
        later = [placer.route(decode_one({**m, "msg_id": m["msg_id"] + "b"}, now)) for m in msgs]
        got = store_sync(client, later, "test", now, ReplicaWait(client, None, timeout_ms=200))
    assert [a.get("error") for a in got] == ["not on a replica in time, retry later"] * 3


@pytest.mark.skipif(not ON_CLUSTER, reason="a cluster with replicas (make test-cluster)")
def test_cluster_acks_wait_on_every_master_that_took_a_write(redis_server, redis_url,
                                                             city_ctx, index):
    sync = sync_client(redis_url)
    placer = make_placer(city_ctx, sync, index)
    aclient = async_client(redis_url)
    wait = ReplicaWait(aclient, None, timeout_ms=500)
    gw = Gateway(aclient, placer, constant_token_check("t"), replicas=wait)
    frame = positions(city_ctx, index)
    streams = sorted({keys.positions(city_ctx.roster[m["officer_id"]].grid[:9]) for m in frame})
    masters = {sync.get_node_from_key(s).port for s in streams}
    assert len(masters) == 3  # the towns of one frame live on every master
    assert all("ack" in a for a in answer(gw, frame))
    assert set(wait.counts.values()) == {1}
    replicas = replica_ports(redis_server.ports)
    on_replicas = {}
    for master in masters:
        mine = [s for s in streams if sync.get_node_from_key(s).port == master]
        on_replicas.update(stream_lengths(replicas[master], mine, replica=True))
    assert sum(on_replicas.values()) == len(frame)  # every master's replica has its share
    one = next(iter(masters))
    proc = next(p for p in redis_server.procs if p.args[2] == str(replicas[one]))
    with paused(proc.pid):
        got = answer(gw, positions(city_ctx, index, tag="late"))
    assert {a.get("error") for a in got} == {"not on a replica in time, retry later"}


def replica_ports(ports: list[int]) -> dict[int, int]:
    """Each master's replica port (INFO replication of every node)."""
    out = {}
    for p in ports:
        c = redis.Redis(host="127.0.0.1", port=p)
        info = c.info("replication")
        c.close()
        if info["role"] == "slave":
            out[int(info["master_port"])] = p
    return out
