"""The state worker alone: CPU per applied position, and how long a case waits behind a flood.

`python -m bench.worker` runs the worker (feeds/live/worker.py, in this process) against a
private redis-server, with a feeder process writing positions into the towns' input streams at
`--rate` a second (default 9,756: ten times Dongguan's load, its 9,756 officers at a fix a
second instead of every 10 s) and a case every `--case-gap` s. It
prints the positions/s the worker applied, its CPU and Redis's per applied position, the backlog
(read and unread) sampled each second, and stored → published for the cases (from the streams'
entry ids: the same clock).
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing
import statistics
import threading
import time
from zoneinfo import ZoneInfo

import redis

from bench.common import city, officer_points, redis_cpu, redis_server
from domain.entries import IncidentEntry, PositionEntry, encode
from domain.regions import town_of as region_town
from feeds.geo.datum import to_datum
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys

TZ = ZoneInfo("Asia/Shanghai")


def feed(url: str, rate: float, seconds: float, case_gap: float) -> None:
    """The feeder process: positions at `rate`/s in batches of 10 ms, a case every case_gap s."""
    _, ctx = city()
    client = redis.Redis.from_url(url)
    fixes = officer_points(ctx, len(ctx.roster))
    grid_of = {oid: ctx.roster[oid].grid for oid in ctx.roster}
    town_of = {oid: region_town(grid) for oid, grid in grid_of.items()}
    rows = []
    for oid, lon, lat in fixes:
        x, y = to_datum(lon, lat, "wgs84", ctx.hierarchy.datum)
        rows.append((keys.positions(town_of[oid]), oid, x, y, grid_of[oid]))
    start, sent, cases, i = time.monotonic(), 0, 0, 0
    while (now := time.monotonic()) - start < seconds:
        pipe = client.pipeline(transaction=False)
        for _ in range(int(rate * (now - start)) - sent):
            key, oid, x, y, grid = rows[i % len(rows)]
            i += 1
            pipe.xadd(key, {"m": encode(PositionEntry(ts=time.time(), type="position",
                                                      officer_id=oid, lat=y, lon=x,
                                                      grid=grid))})
            sent += 1
        if now - start >= cases * case_gap:
            oid, lon, lat = fixes[cases * 7 % len(fixes)]
            x, y = to_datum(lon, lat, "wgs84", ctx.hierarchy.datum)
            pipe.xadd(keys.incidents_in(town_of[oid]), {"m": encode(IncidentEntry(
                ts=time.time(), type="incident", incident_id=f"BW-{cases}", officer_id=oid,
                lat=y, lon=x, category="dispute", title="bench", grid=grid_of[oid]))})
            cases += 1
        pipe.execute()
        time.sleep(0.01)


def backlog(client: redis.Redis, towns: list[str]) -> int:
    """Entries of the worker group not yet applied: unread (lag) plus read but unacked."""
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.xinfo_groups(keys.positions(t))
    total = 0
    for groups in pipe.execute():
        for g in groups:
            total += (g.get("lag") or 0) + g.get("pending", 0)
    return total


def case_delays(client: redis.Redis, towns: list[str]) -> list[float]:
    """ms from each bench case's input entry to the first live frame carrying it."""
    stored, published = {}, {}
    for t in towns:
        for eid, f in client.xrange(keys.incidents_in(t)):
            stored[f[b"m"].split(b'"incident_id":"')[1].split(b'"')[0]] = int(eid.split(b"-")[0])
        for eid, f in client.xrange(keys.live(t)):
            for iid in stored:
                if iid not in published and b'"' + iid + b'"' in f[b"m"]:
                    published[iid] = int(eid.split(b"-")[0])
    return sorted(published[k] - stored[k] for k in published)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=9756, help="positions per second")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--case-gap", type=float, default=0.25, help="seconds between cases")
    ap.add_argument("--no-freeze", action="store_true",
                    help="leave the loaded state in the collector's sight (the worker before "
                         "gc.freeze: full collections of 100-260 ms)")
    args = ap.parse_args()
    _, ctx = city()
    with redis_server() as r:
        client = redis.Redis.from_url(r.url)
        worker = StateWorker(client, CityState.with_roster(ctx.rules, ctx.roster), ctx.towns, TZ,
                             ctx.rules_config.relevel_interval_s)
        worker.bootstrap()
        if not args.no_freeze:
            gc.freeze()  # as feeds/live/main.py does after loading
        stop = threading.Event()
        run = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        feeder = multiprocessing.get_context("spawn").Process(
            target=feed, args=(r.url, args.rate, args.seconds, args.case_gap))
        run.start()
        feeder.start()
        time.sleep(5)  # the feeder loads the city
        cpu0, rcpu0, n0, t0 = time.process_time(), redis_cpu(client), worker.applied, time.time()
        samples = []
        while feeder.is_alive():
            samples.append(backlog(client, ctx.towns))
            time.sleep(1)
        cpu1, rcpu1, n1, t1 = time.process_time(), redis_cpu(client), worker.applied, time.time()
        time.sleep(2)
        stop.set()
        run.join(10)
        report(args, samples, (n1 - n0, t1 - t0, cpu1 - cpu0, rcpu1 - rcpu0),
               case_delays(client, ctx.towns), backlog(client, ctx.towns))



def report(args: argparse.Namespace, samples: list[int], run: tuple[int, float, float, float],
           delays: list[float], end_backlog: int) -> None:
    """Print the rates, CPU per entry, backlog and case delays."""
    n, secs, cpu, rcpu = run
    print(f"worker applied {n / secs:,.0f} entries/s (fed {args.rate:,.0f} positions/s); "
          f"CPU per entry: worker {cpu / max(n, 1) * 1e6:.1f} µs (this process, feeder apart), "
          f"Redis {rcpu / max(n, 1) * 1e6:.1f} µs")
    print(f"backlog each second: median {statistics.median(samples):,.0f}, max "
          f"{max(samples):,}; last {samples[-3:]}; 2 s after the feed stopped: {end_backlog:,}")
    if len(delays) > 1:
        q = statistics.quantiles(delays, n=100, method="inclusive")
        print(f"case stored → published ({len(delays)} cases): p50 {statistics.median(delays):.0f} "
              f"ms, p90 {q[89]:.0f}, p99 {q[98]:.0f}, max {delays[-1]:.0f}")


if __name__ == "__main__":
    main()
