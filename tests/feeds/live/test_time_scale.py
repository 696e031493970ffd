"""Compressed time (live.time_scale, bench.soak --speed): the SLA clock and the age trims run
K times faster; at 1 nothing changes."""
from __future__ import annotations

import dataclasses
import time
from zoneinfo import ZoneInfo

import orjson

from feeds.live import reads
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client
from tests.feeds.live.test_worker import drain


def worker(url: str, ctx, scale: float) -> StateWorker:  # noqa: ANN001
    """A worker over the city whose rules and trims run `scale` times faster."""
    ctx = dataclasses.replace(ctx, time_scale=scale)
    w = StateWorker(sync_client(url), CityState.with_roster(ctx.rules, ctx.roster), ctx.towns,
                    ZoneInfo("Asia/Shanghai"), time_scale=scale)
    w.bootstrap()
    return w


def test_a_day_in_an_hour_turns_a_two_minute_old_dispute_red(redis_url, city_ctx):
    officer = city_ctx.roster["O000012"]
    town = officer.grid[:9]
    client = sync_client(redis_url)
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": "i", "incident_id": "TS1", "officer_id": officer.officer_id,
        "ts": time.time() - 120, "lon": 113.7, "lat": 23.0, "grid": officer.grid,
        "category": "dispute", "title": "t", "severity": 0})})
    real = worker(redis_url, city_ctx, 1)
    drain(real)
    real.relevel(time.time())
    drain(real)
    assert reads.read_open_incidents(client, [town])[0].level == "green"  # 2 of 30 min
    fast = worker(redis_url, city_ctx, 24)  # 30 min to dispatch ÷ 24 = 75 s: overdue
    fast.relevel(time.time())
    drain(fast)
    assert reads.read_open_incidents(client, [town])[0].level == "red"


def test_the_position_trim_keeps_six_hours_divided_by_the_scale(redis_url, city_ctx):
    town = city_ctx.towns[0]
    client = sync_client(redis_url)
    now_ms = int(time.time() * 1000)
    old = now_ms - 20 * 60 * 1000  # 20 min ago: inside 6 h, outside 6 h ÷ 24 = 15 min
    for i in range(300):
        client.xadd(keys.positions(town), {"m": b"{}"}, id=f"{old + i}-0")
    for i in range(50):
        client.xadd(keys.positions(town), {"m": b"{}"}, id=f"{now_ms + i}-0")
    worker(redis_url, city_ctx, 1).trim(time.time())
    assert client.xlen(keys.positions(town)) == 350
    worker(redis_url, city_ctx, 24).trim(time.time())
    assert client.xlen(keys.positions(town)) == 50  # whole nodes of old entries dropped
