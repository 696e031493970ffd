"""Snapshot benchmark: time to build the city, town and village views and their payload sizes."""
from __future__ import annotations

import argparse
import gzip
import json
import time
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import plotly
import redis

from bench.common import city, redis_server
from dashboard.views import Snapshots
from domain.access import Role, User
from feeds.geo.locate import GridIndex
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.sim.simulator import WEIGHTS
from feeds.store import keys
from layouts.case_list import case_panel
from layouts.map_view import map_page


def seed(client: redis.Redis, ctx, cases: int) -> None:
    """Every officer placed and on duty, and `cases` open cases, through the worker."""
    index = GridIndex(ctx.city)
    rng = np.random.default_rng(3)
    now = time.time()
    entries = []
    for o in ctx.roster.values():
        lon, lat = index.random_point(o.grid, rng)
        for m in ({"type": "duty", "officer_id": o.officer_id, "ts": now, "on_duty": True},
                  {"type": "position", "officer_id": o.officer_id, "ts": now, "lon": lon,
                   "lat": lat, "grid": o.grid}):
            entries.append((keys.positions(o.grid[:9]), b"0-0", {b"m": orjson.dumps(m)}))
    officers = list(ctx.roster.values())
    cats = list(WEIGHTS)
    for i in range(cases):
        o = officers[int(rng.integers(len(officers)))]
        lon, lat = index.random_point(o.grid, rng)
        m = {"type": "incident", "incident_id": f"B{i}", "officer_id": o.officer_id,
             "ts": now - float(rng.uniform(0, 7200)), "lon": lon, "lat": lat, "grid": o.grid,
             "category": cats[i % len(cats)], "title": f"案件 {i}", "severity": 0}
        entries.append((keys.positions(o.grid[:9]), b"0-0", {b"m": orjson.dumps(m)}))
    worker = StateWorker(client, CityState.with_roster(ctx.rules, ctx.roster), ctx.towns,
                         ZoneInfo("Asia/Shanghai"))
    worker.apply(entries)


def measure(snaps: Snapshots, code: str, user: User, reps: int) -> tuple[float, int, int]:
    """Median seconds to build a view's page, its JSON size and its gzip size."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        vm = snaps.map_view(code, user, "ws://x/live", "zh", False, None)
        page = map_page(vm, case_panel(vm.incidents, vm.region_level, "zh", vm.as_of))
        body = json.dumps(page, cls=plotly.utils.PlotlyJSONEncoder).encode()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2], len(body), len(gzip.compress(body, 6))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cases", type=int, default=1500, help="open cases in the city")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    _, ctx = city()
    with redis_server() as r:
        client = redis.Redis.from_url(r.url)
        seed(client, ctx, args.cases)
        snaps = Snapshots(ctx, client)
        admin = User("bench", Role.ADMIN, ctx.hierarchy.city.code)
        town = ctx.towns[0]
        village = ctx.hierarchy.children_of(town)[0]
        print(f"{len(ctx.roster)} officers on duty, {args.cases} open cases")
        for label, code in (("city", ctx.hierarchy.city.code), ("town", town),
                            ("village", village)):
            secs, raw, gz = measure(snaps, code, admin, args.reps)
            print(f"{label:8s} {code:>15s}: build {secs * 1000:7.1f} ms   payload "
                  f"{raw / 1024:8.1f} KB raw, {gz / 1024:7.1f} KB gzip")


if __name__ == "__main__":
    main()
