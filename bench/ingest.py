"""Ingest benchmark: positions/s acked through the gateway vs raw pipelined XADD/s.

`python -m bench.ingest` sends 200,000 positions (batches of 500 over 8 WebSockets, one frame
in flight each) to gateway process(es) storing into one private redis-server, then measures
raw pipelined XADD/s of the same Redis from one client, and prints the CPU each party spent
per acked position (gateway, Redis, this bench client). Everything shares the machine's two
cores, so the rate is bounded by the sum of those CPU costs and by whatever else runs.
`--replica` stores into a primary with one replica instead, and `--wait 0|auto|N` sets how
many replicas each ack waits for (Redis WAIT, store.wait_replicas): the cost of replicated
acks is the difference of `--replica --wait 0` and `--replica --wait auto`. `--runs N` repeats
the gateway run and the raw XADD run N times in turn (same processes, same Redis) and prints
each pair and the medians. Last, `redis-benchmark` (Debian's redis-tools) pipelines XADDs of the
same entry into the same server, 50 clients: what Redis itself takes when no client is the limit.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import redis

from bench.common import (
    TOKEN,
    city,
    component,
    cpu_seconds,
    officer_points,
    redis_cpu,
    redis_server,
)
from domain.entries import PositionEntry, encode
from feeds.ingest.terminal_client import TerminalClient
from feeds.store import keys
from tests.redis_sentinel import LocalSentinel


@contextmanager
def store(args: argparse.Namespace) -> Iterator[str]:
    """The Redis of the run: one private redis-server, or (--replica) a primary with one
    replica; yields the primary's URL."""
    if not args.replica:
        with redis_server(args.appendfsync) as r:
            yield r.url
        return
    with LocalSentinel(Path(tempfile.mkdtemp(prefix="gw-bench-replica-")), sentinels=0,
                       appendfsync=args.appendfsync) as s:
        yield s.primary_url


def frames(points: list[tuple[str, float, float]], batch: int, run: str) -> list[bytes]:
    """Pre-encoded position frames with unique msg_ids."""
    now = time.time()
    msgs = [{"type": "position", "msg_id": f"{run}-{i}", "officer_id": oid, "ts": now,
             "lat": lat, "lon": lon, "accuracy_m": 5.0, "battery": 80}
            for i, (oid, lon, lat) in enumerate(points)]
    return [orjson.dumps(msgs[i:i + batch]) for i in range(0, len(msgs), batch)]


async def blast(urls: list[str], all_frames: list[bytes], connections: int
                ) -> tuple[int, float]:
    """Send every frame over `connections` sockets (spread over the gateways' URLs), one
    frame in flight each; returns (acked, seconds)."""
    clients = [TerminalClient(urls[i % len(urls)], TOKEN) for i in range(connections)]
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


def redis_benchmark(url: str, n: int, payload: bytes, pipeline: int = 500) -> float | None:
    """redis-benchmark's pipelined XADD/s of the same entry into the same server (50 clients,
    its default); None when the binary is missing."""
    exe = shutil.which("redis-benchmark")
    if exe is None:
        return None
    u = urlsplit(url)
    where = ["-s", u.path] if u.scheme == "unix" else ["-h", u.hostname or "127.0.0.1",
                                                         "-p", str(u.port or 6379)]
    out = subprocess.run([exe, *where, "-n", str(n), "-P", str(pipeline), "--csv", "XADD",
                          "bench:rb", "*", "m", payload.decode()], capture_output=True,
                         text=True, timeout=600, check=True).stdout
    redis.Redis.from_url(url).delete("bench:rb")
    # the CSV does not escape the command's quotes: the rate is the 7th field from the end
    return float(out.strip().splitlines()[-1].rsplit(",", 7)[1].strip('"'))


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



def timed_blast(urls: list[str], fs: list[bytes], connections: int, pids: list[int],
                r: redis.Redis) -> tuple[int, float, dict[str, float]]:
    """blast() with the CPU seconds spent meanwhile by the gateways, Redis and this client."""
    before = (sum(cpu_seconds(p) for p in pids), redis_cpu(r), time.process_time())
    acked, secs = asyncio.run(blast(urls, fs, connections))
    after = (sum(cpu_seconds(p) for p in pids), redis_cpu(r), time.process_time())
    cpu = dict(zip(("gateway", "redis", "client"), (b - a for a, b in zip(before, after,
                                                                          strict=True)),
                   strict=True))
    return acked, secs, cpu


# the raw runs store what the gateway stores for one of the bench's positions, byte for byte
PAYLOAD = encode(PositionEntry(msg_id="run0-123456", ts=1_790_000_000.123456, type="position",
                               officer_id="O000001", lat=23.012345, lon=113.712345,
                               accuracy_m=5.0, battery=80.0, grid="441900101001001"))


def parse_args() -> argparse.Namespace:
    """The bench's options."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--gateways", type=int, default=1, help="gateway processes (own ports)")
    ap.add_argument("--appendfsync", choices=("always", "everysec", "no"), default="always",
                    help="Redis AOF fsync policy (the product uses always)")
    ap.add_argument("--replica", action="store_true", help="a primary with one replica")
    ap.add_argument("--wait", default="auto", help="replicas an ack waits for: 0, auto or N")
    ap.add_argument("--no-worker", action="store_true", help="skip the state worker's rate")
    ap.add_argument("--runs", type=int, default=1, help="gateway / raw XADD pairs, in turn")
    return ap.parse_args()


def pairs(args: argparse.Namespace, url: str, urls: list[str], pids: list[int],
          points: list[tuple[str, float, float]]) -> list[tuple[int, float, dict, float]]:
    """`--runs` times in turn: the gateway's run (fresh msg_ids) and the raw XADD run; each
    pair (acked, seconds, CPU seconds by party, raw XADD/s) printed as it ends."""
    out = []
    for k in range(args.runs):
        acked, secs, cpu = timed_blast(urls, frames(points, args.batch, f"run{k}"),
                                       args.connections, pids, redis.Redis.from_url(url))
        raw = raw_xadd(url, min(args.messages, 200_000), PAYLOAD)
        if args.runs > 1:
            print(f"run {k + 1}: gateway {acked / secs:,.0f} positions/s, raw XADD "
                  f"{raw:,.0f}/s, ratio {acked / secs / raw:.2f}, load "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
        out.append((acked, secs, cpu, raw))
    return out


def report(args: argparse.Namespace, runs: list[tuple[int, float, dict, float]],
           waits: dict, bench_rate: float | None) -> None:
    """Print the figures (medians over the runs)."""
    acked = runs[0][0]
    rate = statistics.median(a / s for a, s, _, _ in runs)
    raw = statistics.median(r for *_, r in runs)
    ratio = statistics.median(a / s / r for a, s, _, r in runs)
    med = f"median of {len(runs)} runs: " if len(runs) > 1 else ""
    print(f"gateway: {med}{acked} positions acked, {rate:,.0f} positions/s "
          f"({args.gateways} gateway process(es), {args.connections} connections, "
          f"batches of {args.batch}, appendfsync {args.appendfsync}"
          + (f", primary + replica, acks wait for {args.wait} replicas)" if args.replica
             else ")"))
    if args.replica:
        print(f"WAIT calls on the primary: {waits.get('calls', 0)}, "
              f"{waits.get('usec_per_call', 0.0):.0f} µs each (time blocked not included)")
    print(f"raw pipelined XADD (same Redis, one client, same entry): {raw:,.0f} XADD/s")
    print(f"ratio gateway / raw XADD: {ratio:.2f}")
    if bench_rate is not None:
        print(f"redis-benchmark XADD (same Redis, same entry, 50 clients, -P 500): "
              f"{bench_rate:,.0f} XADD/s (gateway / that: {rate / bench_rate:.2f})")
    else:
        print("redis-benchmark: not installed (scripts/system-deps.sh installs redis-tools)")
    per = {k: statistics.median(c[k] / max(a, 1) * 1e6 for a, _, c, _ in runs)
           for k in runs[0][2]}
    print("CPU per acked position: " + ", ".join(f"{k} {v:.1f} µs" for k, v in per.items())
          + f"; total {sum(per.values()):.1f} µs (two cores: at most "
          f"{2e6 / sum(per.values()):,.0f}/s if nothing else runs)")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores")


def main() -> None:
    args = parse_args()
    os.environ["GRIDWATCH_STORE__WAIT_REPLICAS"] = args.wait  # read by the gateways
    data_dir, ctx = city()
    points = officer_points(ctx, args.messages)
    pids: list[int] = []
    with store(args) as url, ExitStack() as stack:
        ports = [stack.enter_context(component("gateway", data_dir, url, pids))
                 for _ in range(args.gateways)]
        urls = [f"ws://127.0.0.1:{p}/terminal" for p in ports]
        warm = frames(points[:5000], args.batch, "warm")
        asyncio.run(blast(urls, warm, args.connections))
        runs = pairs(args, url, urls, pids, points)
        waits = redis.Redis.from_url(url).info("commandstats").get("cmdstat_wait", {})
        stack.close()
        bench_rate = redis_benchmark(url, min(args.messages, 200_000), PAYLOAD)
        stored = sum(r[0] for r in runs) + min(len(points), 5000)  # and the warm-up's
        applied = 0.0 if args.no_worker else worker_rate(data_dir, url, ctx, stored)
    report(args, runs, waits, bench_rate)
    if not args.no_worker:
        print(f"state worker: {applied:,.0f} entries/s applied from a full backlog "
              f"(including its start-up)")


if __name__ == "__main__":
    main()
