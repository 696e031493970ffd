"""Ingest benchmark: positions/s acked through the gateway vs raw pipelined XADD/s."""
from __future__ import annotations

import argparse
import asyncio
import time

import orjson
import redis

from bench.common import TOKEN, city, component, officer_points, redis_server
from feeds import keys
from feeds.terminal_client import TerminalClient


def frames(points: list[tuple[str, float, float]], batch: int, run: str) -> list[bytes]:
    """Pre-encoded position frames with unique msg_ids."""
    now = time.time()
    msgs = [{"type": "position", "msg_id": f"{run}-{i}", "officer_id": oid, "ts": now,
             "lat": lat, "lon": lon, "accuracy_m": 5.0, "battery": 80}
            for i, (oid, lon, lat) in enumerate(points)]
    return [orjson.dumps(msgs[i:i + batch]) for i in range(0, len(msgs), batch)]


async def blast(url: str, all_frames: list[bytes], connections: int) -> tuple[int, float]:
    """Send every frame over `connections` sockets, one frame in flight each; acked, secs."""
    clients = [TerminalClient(url, TOKEN) for _ in range(connections)]
    for c in clients:
        await c.open()

    async def lane(c: TerminalClient, fs: list[bytes]) -> int:
        acked = 0
        for f in fs:
            await c.ws.send(f)
            acked += sum(1 for r in orjson.loads(await c.ws.recv()) if "ack" in r)
        return acked

    started = time.perf_counter()
    counts = await asyncio.gather(*(lane(c, all_frames[i::connections])
                                    for i, c in enumerate(clients)))
    secs = time.perf_counter() - started
    for c in clients:
        await c.close()
    return sum(counts), secs


def raw_xadd(url: str, n: int, payload: bytes, batch: int = 1000) -> float:
    """Pipelined XADD/s of the same Redis from one client."""
    client = redis.Redis.from_url(url)
    started = time.perf_counter()
    for _ in range(0, n, batch):
        pipe = client.pipeline(transaction=False)
        for _ in range(batch):
            pipe.xadd("bench:raw", {"m": payload})
        pipe.execute()
    rate = n / (time.perf_counter() - started)
    client.delete("bench:raw")
    return rate


def caught_up(client: redis.Redis, streams: list[str]) -> bool:
    """Whether the worker group has read and acked every entry of every stream."""
    for s in streams:
        last = client.xrevrange(s, count=1)
        if not last:
            continue
        groups = client.xinfo_groups(s)
        if not groups or groups[0]["last-delivered-id"] != last[0][0] or groups[0]["pending"]:
            return False
    return True


def worker_rate(data_dir, url: str, ctx, total: int) -> float:
    """Entries/s the state worker applies, from a full backlog of `total` positions."""
    client = redis.Redis.from_url(url)
    streams = [keys.positions(t) for t in ctx.towns]
    started = time.perf_counter()
    with component("worker", data_dir, url):
        while not caught_up(client, streams):
            time.sleep(0.1)
            if time.perf_counter() - started > 600:
                raise RuntimeError("worker did not catch up in 10 minutes")
        secs = time.perf_counter() - started
    return total / secs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--appendfsync", choices=("always", "everysec", "no"), default="always",
                    help="Redis AOF fsync policy (the product uses always)")
    args = ap.parse_args()
    data_dir, ctx = city()
    points = officer_points(ctx, args.messages)
    with redis_server(args.appendfsync) as r, component("gateway", data_dir, r.url) as port:
        url = f"ws://127.0.0.1:{port}/terminal"
        warm = frames(points[:5000], args.batch, "warm")
        asyncio.run(blast(url, warm, args.connections))
        acked, secs = asyncio.run(blast(url, frames(points, args.batch, "run"), args.connections))
        payload = orjson.dumps({"type": "position", "msg_id": "x" * 20, "officer_id": "O000001",
                                "ts": time.time(), "lat": 23.01, "lon": 113.7, "grid": "4" * 15})
        raw = raw_xadd(r.url, min(args.messages, 200_000), payload)
        applied = worker_rate(data_dir, r.url, ctx, acked + len(points[:5000]))
    rate = acked / secs
    print(f"gateway: {acked} positions acked in {secs:.2f} s = {rate:,.0f} positions/s "
          f"({args.connections} connections, batches of {args.batch}, "
          f"appendfsync {args.appendfsync})")
    print(f"raw pipelined XADD (same Redis, one client): {raw:,.0f} XADD/s")
    print(f"ratio gateway / raw XADD: {rate / raw:.2f}")
    print(f"state worker: {applied:,.0f} entries/s applied from a full backlog "
          f"(including its start-up)")


if __name__ == "__main__":
    main()
