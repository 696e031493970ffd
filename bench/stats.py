"""Statistics benchmark: time to read and compute a region's 30-day trends from Redis."""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson
import redis

from bench.common import city, redis_server
from dashboard.readmodel.stats import DAYS, TZ, stats_view_model
from domain.regions import Level
from feeds.geo.locate import GridIndex
from feeds.history.cases import read_cases
from feeds.history.stats import (
    cases_per_day,
    handling_times,
    hotspots,
    in_last,
    totals,
    window_start,
)
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.sim.backfill import history_cases, history_incidents
from feeds.store import keys


def backfill(ctx: CityContext, client: redis.Redis, days: float, per_hour: float,
             now: float) -> int:
    """Write `days` of history at `per_hour` cases/h straight into the incidents hashes."""
    started = time.perf_counter()
    plans = history_cases(list(ctx.roster.values()), GridIndex(ctx.city).random_point,
                          ctx.rules, days=days, per_hour=per_hour, now=now)
    cases = history_incidents(plans, ctx.rules, now)
    made = time.perf_counter() - started
    for i in range(0, len(cases), 5000):
        pipe = client.pipeline(transaction=False)
        for inc in cases[i:i + 5000]:
            pipe.hset(keys.incidents(inc.town), inc.incident_id,
                      orjson.dumps(incident_to_json(inc)))
        pipe.execute()
    print(f"history: {len(cases)} cases over {days:g} days ({per_hour:g}/h), made in "
          f"{made:.1f} s, written in {time.perf_counter() - started - made:.1f} s; "
          f"redis {client.info('memory')['used_memory_human']}")
    return len(cases)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds of `repeat` calls, and the last result."""
    secs, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - started)
    return statistics.median(secs), out


def compute(df: Any, now: float) -> None:
    """Every statistic the page shows, from a case frame."""
    cases_per_day(df, TZ, DAYS, now)
    month = in_last(df, now, DAYS)
    handling_times(month)
    totals(month)
    hotspots(df, now, 7)
    hotspots(df, now, DAYS)


def measure(ctx: CityContext, client: redis.Redis, code: str, now: float, repeat: int) -> None:
    """Print read, compute and whole view-model times for one region."""
    since = window_start(now, DAYS, TZ)
    read_s, df = timed(lambda: read_cases(client, ctx.towns, code, since), repeat)
    compute_s, _ = timed(lambda: compute(df, now), repeat)
    page_s, _ = timed(lambda: stats_view_model(ctx, client, code, "zh", now=now), repeat)
    name = ctx.hierarchy[code].name
    print(f"{ctx.hierarchy[code].level:8s} {code:16s} {name:14s} cases={len(df):7d}  "
          f"read={read_s * 1000:7.0f} ms  compute={compute_s * 1000:5.0f} ms  "
          f"view-model={page_s * 1000:7.0f} ms")


def main() -> None:
    """Backfill a private Redis, then time the city's, a town's and a village's statistics."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--days", type=float, default=30)
    p.add_argument("--per-hour", type=float, default=300)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    _, ctx = city()
    now = time.time()
    with redis_server() as server:
        client = redis.Redis.from_url(server.url)
        backfill(ctx, client, args.days, args.per_hour, now)
        town = max(ctx.towns, key=lambda t: client.hlen(keys.incidents(t)))
        village = next(iter(ctx.hierarchy.descendants(town, Level.VILLAGE))).code
        print(f"median of {args.repeat} runs:")
        for code in (ctx.hierarchy.city.code, town, village):
            measure(ctx, client, code, now, args.repeat)
        client.close()


if __name__ == "__main__":
    main()
