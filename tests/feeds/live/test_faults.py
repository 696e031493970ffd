"""Faults against real redis-servers: clients resend after a gateway restart, dead consumers'
entries are reclaimed, a worker survives a failed write, acked messages survive kill -9."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, constant_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.ingest.terminal_client import TerminalClient
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from feeds.store.embedded import EmbeddedRedis, free_port
from tests.conftest import ThreadedServer

TOKEN = "faults-token"


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


@pytest.fixture()
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A private redis-server with the product's AOF settings, free to kill."""
    server = EmbeddedRedis(tmp_path, port=free_port()).start()
    yield server
    server.stop()


def gateway_on(url: str, ctx: CityContext, index: GridIndex, port: int) -> Callable[[],
                                                                                  ThreadedServer]:
    """A factory of gateways on one fixed port (so a restart comes back where it was)."""
    placer = make_placer(ctx, reads.connect(url), index)

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(url)
        await serve_gateway(Gateway(client, placer, constant_token_check(TOKEN)), "127.0.0.1",
                            port, stop, ready)
        await client.aclose()

    return lambda: ThreadedServer(run).start()


def positions(ctx: CityContext, index: GridIndex, prefix: str, n: int) -> list[dict]:
    """n position messages of one officer, inside their grid, with distinct msg_ids."""
    import numpy as np

    officer = ctx.roster["O000020"]
    lon, lat = to_datum(*index.random_point(officer.grid, np.random.default_rng(3)),
                        ctx.hierarchy.datum, "wgs84")
    now = time.time()
    return [{"type": "position", "msg_id": f"{prefix}-{i}", "officer_id": officer.officer_id,
             "ts": now + i / 1000, "lat": lat, "lon": lon} for i in range(n)]


def stored_msg_ids(url: str, stream: str) -> Counter[str]:
    client = reads.connect(url)
    return Counter(orjson.loads(f[b"m"])["msg_id"] for _, f in client.xrange(stream))


def test_client_resends_after_the_gateway_restarts_and_each_message_is_stored_once(
        redis_url, city_ctx, index):
    port = free_port()
    start = gateway_on(redis_url, city_ctx, index, port)
    msgs = positions(city_ctx, index, "resend", 200)
    servers = [start()]
    client = TerminalClient(f"ws://127.0.0.1:{port}/terminal", TOKEN, acked_ids=set())

    async def go() -> None:
        await client.deliver(msgs[:100])
        servers[0].stop()  # the gateway goes away; it is back a second later
        threading.Timer(1.0, lambda: servers.append(start())).start()
        await client.deliver(msgs)  # all again, as after lost acks: 100 seen, 100 new
        await client.close()

    asyncio.run(go())
    servers[-1].stop()
    assert client.resent >= 200 and client.given_up == 0
    assert client.acked_ids == {m["msg_id"] for m in msgs}
    town = city_ctx.roster["O000020"].grid[:9]
    stored = stored_msg_ids(redis_url, keys.positions(town))
    assert set(stored) == client.acked_ids and set(stored.values()) == {1}


def make_worker(url: str, ctx: CityContext, consumer: str) -> StateWorker:
    w = StateWorker(reads.connect(url), CityState.with_roster(ctx.rules, ctx.roster),
                    ctx.towns, ZoneInfo("Asia/Shanghai"), consumer=consumer)
    w.bootstrap()
    return w


def add_case(client: redis.Redis, ctx: CityContext, case_id: str, updates: tuple[str, ...] = ()
             ) -> str:
    """Append a case and its status updates to its town's input stream; returns the town."""
    officer = ctx.roster["O000030"]
    town, now = officer.grid[:9], time.time()
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": f"{case_id}-0", "incident_id": case_id,
        "officer_id": officer.officer_id, "ts": now, "lon": 113.7, "lat": 23.0,
        "grid": officer.grid, "category": "dispute", "title": "t", "severity": 0})})
    for i, status in enumerate(updates, 1):
        client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
            "type": "incident_update", "msg_id": f"{case_id}-{i}", "incident_id": case_id,
            "ts": now + i, "status": status})})
    return town


def test_a_dead_consumers_pending_entries_are_reclaimed_and_applied(redis_url, city_ctx):
    dead = make_worker(redis_url, city_ctx, "worker-dead")
    client = reads.connect(redis_url)
    town = add_case(client, city_ctx, "R1", ("acknowledged",))
    # the dead worker read the entries and died before applying and acking them
    read = client.xreadgroup(keys.WORKER_GROUP, dead.consumer, {keys.incidents_in(town): ">"})
    assert len(read[0][1]) == 2
    heir = make_worker(redis_url, city_ctx, "worker-heir")
    heir.reclaim_idle_ms = 60_000
    assert heir.reclaim() == 0  # not idle long enough yet: the owner may still be working
    time.sleep(0.4)
    heir.reclaim_idle_ms = 300
    assert heir.reclaim() == 2
    [case] = reads.read_open_incidents(client, [town])
    assert case.incident_id == "R1" and case.status.value == "acknowledged"
    pending = {c["name"].decode(): c["pending"]
               for c in client.xinfo_consumers(keys.incidents_in(town), keys.WORKER_GROUP)}
    assert pending == {"worker-dead": 0, "worker-heir": 0}


def run_until(w: StateWorker, done: Callable[[], bool], timeout: float = 60) -> None:
    """Run a worker in a thread until `done()` holds (Redis errors meanwhile are waited out)."""
    stop = threading.Event()
    runner = threading.Thread(target=w.run, args=(stop,), daemon=True)
    runner.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if done():
                    return
            except redis.ConnectionError:
                pass
            time.sleep(0.2)
    finally:
        stop.set()
        runner.join(10)


def test_a_new_worker_takes_over_its_predecessors_pending_entries_before_new_ones(
        redis_url, city_ctx):
    dead = make_worker(redis_url, city_ctx, "worker-1")
    client = sync_client(redis_url)
    town = add_case(client, city_ctx, "T1", ("acknowledged",))
    client.xreadgroup(keys.WORKER_GROUP, dead.consumer, {keys.incidents_in(town): ">"})
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({  # arrives after the crash
        "type": "incident_update", "msg_id": "T1-9", "incident_id": "T1", "ts": time.time() + 9,
        "status": "dispatched"})})
    heir = make_worker(redis_url, city_ctx, "worker-2")
    run_until(heir, lambda: reads.pending_count(client, [town]) == 0 and client.hexists(
        keys.incidents(town), "T1"))
    case = orjson.loads(client.hget(keys.incidents(town), "T1"))
    statuses = [e["status"] for e in case["events"] if e["kind"] == "status"]
    assert case["status"] == "dispatched" and statuses == ["acknowledged", "dispatched"]


class CrashingWorker(StateWorker):
    """A worker whose Redis dies after it applied a batch in memory, before the write."""

    def __init__(self, *args, server: EmbeddedRedis, **kw):
        super().__init__(*args, **kw)
        self.server = server
        self.crashes = 1

    def _write(self, pipe, changes, now) -> None:
        super()._write(pipe, changes, now)
        if self.crashes:
            self.crashes -= 1
            self.server.kill()
            threading.Timer(1.5, lambda: self.server.start(30)).start()


def test_worker_reloads_after_a_failed_write_and_applies_each_entry_once(own_redis, city_ctx,
                                                                         caplog):
    caplog.set_level(logging.INFO, logger="feeds.live.worker")
    client = redis.Redis.from_url(own_redis.url)
    w = CrashingWorker(reads.connect(own_redis.url),
                       CityState.with_roster(city_ctx.rules, city_ctx.roster), city_ctx.towns,
                       ZoneInfo("Asia/Shanghai"), server=own_redis)
    w.bootstrap()
    town = add_case(client, city_ctx, "C1", ("acknowledged", "dispatched"))
    run_until(w, lambda: reads.pending_count(client, [town]) == 0 and client.hexists(
        keys.incidents(town), "C1"))
    assert w.crashes == 0 and "reloaded its state" in caplog.text  # the write did fail
    case = orjson.loads(client.hget(keys.incidents(town), "C1"))
    statuses = [e["status"] for e in case["events"] if e["kind"] == "status"]
    assert case["status"] == "dispatched" and statuses == ["acknowledged", "dispatched"]
    assert reads.pending_count(client, [town]) == 0


def send_all(url: str, msgs: list[dict], lanes: int = 6) -> set[str]:
    """Deliver messages over several connections (one frame in flight each); the acked ids."""
    acked: set[str] = set()
    clients = [TerminalClient(url, TOKEN, acked_ids=acked) for _ in range(lanes)]
    frames = [msgs[i:i + 100] for i in range(0, len(msgs), 100)]

    async def lane(c: TerminalClient, fs: list[list[dict]]) -> None:
        for f in fs:
            await c.deliver(f)
        await c.close()

    async def go() -> None:
        await asyncio.gather(*(lane(c, frames[i::lanes]) for i, c in enumerate(clients)))

    asyncio.run(go())
    return acked


def test_kill_9_of_redis_keeps_every_acked_message(own_redis, city_ctx, index):
    client = redis.Redis.from_url(own_redis.url)
    assert client.config_get("appendfsync")["appendfsync"] == "always"
    port = free_port()
    url = f"ws://127.0.0.1:{port}/terminal"
    server = gateway_on(own_redis.url, city_ctx, index, port)()
    msgs = positions(city_ctx, index, "aof", 3000)
    try:
        acked = send_all(url, msgs)
        own_redis.kill()  # at once after the last ack
    finally:
        server.stop()
    own_redis.start(30)
    town = city_ctx.roster["O000020"].grid[:9]
    stored = stored_msg_ids(own_redis.url, keys.positions(town))
    assert len(acked) == len(msgs)
    assert acked <= set(stored)
    # the dedup markers survived too: sending everything again stores nothing new
    again = gateway_on(own_redis.url, city_ctx, index, port)()
    try:
        assert send_all(url, msgs) == acked
    finally:
        again.stop()
    assert stored_msg_ids(own_redis.url, keys.positions(town)) == stored
