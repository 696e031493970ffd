"""The state worker against a real redis-server: streams in, state and live frames out."""
from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import orjson
import redis

from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client


def make_worker(url: str, ctx: CityContext) -> tuple[StateWorker, redis.Redis]:
    client = sync_client(url)
    w = StateWorker(client, CityState.with_roster(ctx.rules, ctx.roster), ctx.towns,
                    ZoneInfo("Asia/Shanghai"), relevel_interval_s=1)
    w.bootstrap()
    return w, client


def drain(w: StateWorker) -> None:
    ids = {s: ">" for s in w.streams}
    for _ in range(5):
        ids = w.step(ids, block_ms=50)


def live_frames(client: redis.Redis, town: str) -> list[dict]:
    return [orjson.loads(f[b"m"]) for _, f in client.xrange(keys.live(town))]


def test_worker_applies_positions_and_cases_and_publishes_live_frames(redis_url, city_ctx):
    w, client = make_worker(redis_url, city_ctx)
    officer = city_ctx.roster["O000010"]
    town, grid = officer.grid[:9], officer.grid
    now = time.time()
    client.xadd(keys.positions(town), {"m": orjson.dumps({
        "type": "position", "msg_id": "p", "officer_id": officer.officer_id, "ts": now,
        "lon": 113.7, "lat": 23.0, "grid": grid})})
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": "i", "incident_id": "W1", "officer_id": officer.officer_id,
        "ts": now, "lon": 113.7, "lat": 23.0, "grid": grid, "category": "dispute",
        "title": "t", "severity": 0})})
    drain(w)
    assert reads.read_officers(client, [town])[officer.officer_id].lon == 113.7
    [inc] = reads.read_open_incidents(client, [town])
    assert inc.incident_id == "W1" and inc.level == "green"
    counts = reads.read_counts(client, [town])[town]
    assert counts[f"{town}|green"] == counts[f"{grid}|green"] == 1
    frames = live_frames(client, town)
    assert any(f.get("officers") == [[officer.officer_id, 113.7, 23.0, 0]] for f in frames)
    assert any(f.get("incidents", [{}])[0].get("id") == "W1" for f in frames)
    assert all(f["town"] == town for f in frames)
    # nothing is left pending for the group
    assert reads.pending_count(client, [town]) == 0


def test_relevel_turns_an_old_case_red_through_the_stream(redis_url, city_ctx):
    w, client = make_worker(redis_url, city_ctx)
    officer = city_ctx.roster["O000011"]
    town = officer.grid[:9]
    old = time.time() - 31 * 60  # a dispute reported 31 min ago is past its 30 min deadline
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": "i", "incident_id": "W2", "officer_id": officer.officer_id,
        "ts": old, "lon": 113.7, "lat": 23.0, "grid": officer.grid, "category": "dispute",
        "title": "t", "severity": 0})})
    drain(w)
    assert reads.read_open_incidents(client, [town])[0].level == "green"  # as reported
    w.relevel(time.time())  # the clock pass appends a level message to the stream...
    drain(w)  # ...which the worker applies like any other
    case = reads.read_open_incidents(client, [town])[0]
    assert case.level == "red"
    assert [e["level"] for e in case.events if e["kind"] == "level"] == ["green", "red"]
    counts = reads.read_counts(client, [town])[town]
    assert counts[f"{town}|red"] == 1 and counts[f"{town}|overdue"] == 1


def test_worker_restarts_from_redis_state(redis_url, city_ctx):
    w, client = make_worker(redis_url, city_ctx)
    officer = city_ctx.roster["O000012"]
    town = officer.grid[:9]
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": "i", "incident_id": "W3", "officer_id": officer.officer_id,
        "ts": time.time(), "lon": 113.7, "lat": 23.0, "grid": officer.grid,
        "category": "fire", "title": "t", "severity": 0})})
    drain(w)
    again, _ = make_worker(redis_url, city_ctx)  # a restarted worker
    assert again.state.incidents["W3"].level == "red"
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident_update", "msg_id": "u", "incident_id": "W3", "ts": time.time(),
        "status": "closed"})})
    drain(again)
    assert reads.read_open_incidents(client, [town]) == []
    assert f"{town}|red" not in reads.read_counts(client, [town])[town]


def test_one_step_applies_cases_of_several_towns_together(redis_url, city_ctx):
    """A batch spanning towns lands whole (on a cluster: one transaction per town's slot)."""
    w, client = make_worker(redis_url, city_ctx)
    by_town = {}
    for officer in city_ctx.roster.values():
        by_town.setdefault(officer.grid[:9], officer)
        if len(by_town) == 3:
            break
    now = time.time()
    for i, (town, officer) in enumerate(by_town.items()):
        client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
            "type": "incident", "msg_id": f"m{i}", "incident_id": f"X{i}",
            "officer_id": officer.officer_id, "ts": now, "lon": 113.7, "lat": 23.0,
            "grid": officer.grid, "category": "fire", "title": "t", "severity": 0})})
    w.step({s: ">" for s in w.streams}, block_ms=50)
    for i, town in enumerate(by_town):
        [inc] = reads.read_open_incidents(client, [town])
        assert inc.incident_id == f"X{i}"
        assert reads.read_counts(client, [town])[town][f"{town}|{inc.level}"] == 1
    assert reads.pending_count(client, list(by_town)) == 0
