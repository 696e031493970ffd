"""Cluster benchmark: gateway and worker rates on one Redis vs a 3-master cluster, with 1 or
2 processes, and the memory of each kind of stream entry (the figures of docs/deployment.md).

    python -m bench.cluster [--messages 100000]
"""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from bench.common import city, component, officer_points, redis_server
from bench.ingest import blast, caught_up, frames
from feeds.live.worker import LIVE_MAXLEN, TRACK_MAXLEN
from feeds.store import keys, slotread
from feeds.store.client import async_client, sync_client
from tests.redis_cluster import LocalCluster

POSITION = {"type": "position", "msg_id": "3f2b8c1e-5d4a-4c2b-9e7f-1a2b3c4d5e6f",
            "officer_id": "O000123", "ts": 1764150000.123, "lat": 23.012345, "lon": 113.712345,
            "accuracy_m": 5.0, "battery": 80, "grid": "441900101001002"}
LIVE_ROWS = 20  # officer rows in a synthetic live frame (one worker batch of one town)


@contextmanager
def store(kind: str) -> Iterator[str]:
    """A fresh Redis of the given kind (single | cluster); yields its URL."""
    if kind == "cluster":
        with LocalCluster(Path(tempfile.mkdtemp(prefix="gw-bench-cluster-"))) as c:
            yield c.url
    else:
        with redis_server() as r:
            yield r.url


def run_case(kind: str, processes: int, data_dir: Path, ctx, points, batch: int,
             connections: int) -> tuple[float, float]:
    """Positions/s acked by `processes` gateways, then entries/s applied by as many workers."""
    with store(kind) as url:
        with component("gateway", data_dir, url, processes=processes) as port:
            ws = f"ws://127.0.0.1:{port}/terminal"
            time.sleep(25 if processes > 1 else 2)  # the other gateway builds its grid index
            asyncio.run(blast(ws, frames(points[:5000], batch, "warm"), connections))
            acked, secs = asyncio.run(blast(ws, frames(points, batch, "run"), connections))
        client = sync_client(url)
        streams = [keys.positions(t) for t in ctx.towns]
        started = time.perf_counter()
        with component("worker", data_dir, url, processes=processes):
            while not caught_up(client, streams):
                time.sleep(0.1)
            applied_secs = time.perf_counter() - started
        client.close()
    return acked / secs, (acked + 5000) / applied_secs


def entry_bytes(n: int = 50_000) -> dict[str, float]:
    """Bytes of Redis memory per position entry, seen marker, track fix and live frame."""
    with redis_server() as r:
        c = sync_client(r.url)
        body = orjson.dumps(POSITION)
        out = {}
        for name, key, fields in (
                ("position stream entry", keys.positions("441900101"), {"m": body}),
                ("track fix", keys.track("441900101", "O000123"),
                 {"p": "1764150000.123,113.712345,23.012345,441900101001002"}),
                ("live frame (20 officers)", keys.live("441900101"), {"m": orjson.dumps({
                    "ts": 1764150000.1, "town": "441900101", "officers": [
                        [f"O{i:06d}", 113.712345, 23.012345, 1] for i in range(LIVE_ROWS)]})})):
            pipe = c.pipeline(transaction=False)
            for _ in range(n):
                pipe.xadd(key, fields)
            pipe.execute()
            out[name] = c.memory_usage(key, samples=0) / n
        before = c.info("memory")["used_memory"]
        pipe = c.pipeline(transaction=False)
        for i in range(n):
            pipe.set(keys.seen("441900101", f"3f2b8c1e-5d4a-4c2b-9e7f-{i:012d}"), "1", ex=3600)
        pipe.execute()
        out["seen marker (dedup key)"] = (c.info("memory")["used_memory"] - before) / n
        c.close()
    return out


def read_latency(url: str, towns: list[str], samples: int = 200) -> tuple[float, float]:
    """p50 and p99 ms from an XADD to a town's live stream until a reader following every
    town's live stream (feeds.slotread, as the push channel does) returns it."""
    async def add_later(writer, stream: str, delay: float) -> float:
        await asyncio.sleep(delay)
        started = time.perf_counter()
        await writer.xadd(stream, {"m": b"{}"})
        return started

    async def run() -> list[float]:
        reader, writer = async_client(url), async_client(url)
        ids = {keys.live(t): "0-0" for t in towns}
        out = []
        for i in range(samples):
            task = asyncio.create_task(add_later(writer, keys.live(towns[i % len(towns)]),
                                                 0.005 + (i % 7) * 0.003))
            got = []
            while not got:
                got = await slotread.xread(reader, ids, count=10, block_ms=1000)
            out.append((time.perf_counter() - await task) * 1000)
            for s, items in got:
                ids[s.decode()] = items[-1][0].decode()
        await reader.aclose()
        await writer.aclose()
        return sorted(out)

    lat = asyncio.run(run())
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    # SIGTERM (e.g. from `timeout`) unwinds the context managers: servers stopped by PID
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_dir, ctx = city()
    points = officer_points(ctx, args.messages)
    sizes = entry_bytes()
    for name, b in sizes.items():
        print(f"memory: {b:,.0f} bytes per {name}")
    print(f"(streams capped: live {LIVE_MAXLEN} entries per town, track {TRACK_MAXLEN} per "
          "officer)")
    for kind in ("single", "cluster"):
        with store(kind) as url:
            p50, p99 = read_latency(url, ctx.towns)
        print(f"{kind:7s} redis: XADD → reader over {len(ctx.towns)} towns' live streams: "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    for kind, n in (("single", 1), ("cluster", 1), ("cluster", 2)):
        gw, wk = run_case(kind, n, data_dir, ctx, points, args.batch, args.connections)
        print(f"{kind:7s} redis, {n} process(es): gateway {gw:,.0f} positions/s acked, "
              f"worker {wk:,.0f} entries/s applied ({args.messages} positions, "
              f"{args.connections} connections, batches of {args.batch})")


if __name__ == "__main__":
    main()
