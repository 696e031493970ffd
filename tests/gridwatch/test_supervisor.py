"""Several processes behind one address: gateways share a port, workers split the towns."""
from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import orjson
import psutil

from dashboard.serve import shared_socket
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.terminal_client import TerminalClient
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.worker import partition
from feeds.store import keys
from feeds.store.embedded import free_port, wait_port
from tests.support import background  # noqa: E402

TOKEN = "processes-test-token"
CONNECTIONS = 16


@contextmanager
def component(name: str, data_dir: Path, redis_url: str, *extra: str
              ) -> Iterator[subprocess.Popen]:
    """`gridwatch run NAME --processes 2 …` in the background, stopped by its PID."""
    env = dict(os.environ, GRIDWATCH_TERMINAL_TOKEN=TOKEN)
    with background([sys.executable, "-m", "gridwatch.cli", "run", name, "--processes", "2",
                     "--data-dir", str(data_dir), "--redis-url", redis_url, *extra],
                    data_dir / f"{name}.log", env=env) as proc:
        yield proc


def listeners(proc: subprocess.Popen, port: int, status: str) -> dict[int, int]:
    """Per child PID, how many of its TCP sockets on `port` are in `status`."""
    out = {}
    for child in psutil.Process(proc.pid).children():
        try:
            conns = child.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        out[child.pid] = sum(1 for c in conns if c.laddr and c.laddr.port == port
                             and c.status == status)
    return out


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def frames(ctx: CityContext) -> tuple[list[list[dict]], set[str], set[str]]:
    """One frame per connection: its own positions plus the previous connection's again."""
    index = GridIndex(ctx.city)
    rng = np.random.default_rng(11)
    officers = sorted(ctx.roster)[::97][:CONNECTIONS * 10]
    own: list[list[dict]] = []
    now = time.time()
    for c in range(CONNECTIONS):
        batch = []
        for k, oid in enumerate(officers[c::CONNECTIONS]):
            lon, lat = index.random_point(ctx.roster[oid].grid, rng)
            wlon, wlat = to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")
            batch.append({"type": "position", "msg_id": f"p-{c}-{k}", "officer_id": oid,
                          "ts": now, "lon": wlon, "lat": wlat})
        own.append(batch)
    sent = [own[c] + own[c - 1] for c in range(CONNECTIONS)]  # every message twice
    return sent, {m["msg_id"] for b in own for m in b}, set(officers)


async def send_all(url: str, sent: list[list[dict]], hold: asyncio.Event) -> list[dict]:
    """Send each frame over its own connection; keep them open until `hold` is set."""
    clients = [TerminalClient(url, TOKEN) for _ in sent]
    replies = await asyncio.gather(*(c.send(f) for c, f in zip(clients, sent, strict=True)))
    await hold.wait()
    await asyncio.gather(*(c.close() for c in clients))
    return [r for rep in replies for r in rep]


def test_two_gateways_on_one_port_store_each_message_once_and_two_workers_split_towns(
        redis_url, demo_dir, city_ctx, tmp_path):
    for f in ("city.geojson", "officers.csv"):
        shutil.copy(demo_dir / f, tmp_path / f)
    port, osmand = free_port(), free_port()
    sent, ids, officers = frames(city_ctx)
    with component("gateway", tmp_path, redis_url, "--gateway-port", str(port),
                   "--osmand-port", str(osmand)) as gw:
        wait_port(port, 120)
        wait_for(lambda: sorted(listeners(gw, port, "LISTEN").values()) == [1, 1], 120,
                 "both gateway processes to listen on the shared port")
        url = f"ws://127.0.0.1:{port}/terminal"

        async def run() -> tuple[list[dict], dict[int, int]]:
            hold = asyncio.Event()
            task = asyncio.create_task(send_all(url, sent, hold))
            while not task.done() and sum(listeners(gw, port, "ESTABLISHED").values()
                                          ) < CONNECTIONS:
                await asyncio.sleep(0.1)
            spread = listeners(gw, port, "ESTABLISHED")
            hold.set()
            return await task, spread

        replies, spread = asyncio.run(run())
    assert sorted(spread.values())[0] > 0, f"one process got every connection: {spread}"
    assert sum(spread.values()) == CONNECTIONS
    assert len(replies) == 2 * len(ids) and all("ack" in r for r in replies)
    client = reads.connect(redis_url)
    stored = [orjson.loads(f[b"m"])["msg_id"] for t in city_ctx.towns
              for _, f in client.xrange(keys.positions(t))]
    assert sorted(stored) == sorted(ids)  # every message once, though sent twice

    with component("worker", tmp_path, redis_url):
        wait_for(lambda: len(reads.read_officers(client, city_ctx.towns).keys() & officers
                             ) == len(officers), 120, "both workers to apply every position")
    consumers: dict[str, set[str]] = {}
    for t in city_ctx.towns:
        for c in client.xinfo_consumers(keys.positions(t), keys.WORKER_GROUP):
            consumers.setdefault(c["name"].decode(), set()).add(t)
    assert set(consumers) == {"worker-1", "worker-2"}
    assert consumers["worker-1"] == set(partition(city_ctx.towns, 0, 2))
    assert consumers["worker-2"] == set(partition(city_ctx.towns, 1, 2))


def test_a_shared_socket_lets_two_listeners_bind_one_port():
    a = shared_socket("127.0.0.1", 0)
    port = a.getsockname()[1]
    b = shared_socket("127.0.0.1", port)
    a.listen()
    b.listen()
    assert b.getsockname()[1] == port
    a.close()
    b.close()
