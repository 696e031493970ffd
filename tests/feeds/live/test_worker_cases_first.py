"""The worker publishes a batch's cases before its positions (a desk waits for the case)."""
from __future__ import annotations

import time

import orjson

from domain.entries import decode_case
from feeds.live import reads
from feeds.store import keys
from tests.feeds.live.test_worker import live_frames, make_worker


def test_cases_reach_the_live_stream_before_the_positions_read_with_them(redis_url, city_ctx):
    w, client = make_worker(redis_url, city_ctx)
    officers = [o for o in city_ctx.roster.values() if o.grid[:9] == city_ctx.towns[0]][:50]
    town = city_ctx.towns[0]
    now = time.time()
    for i, o in enumerate(officers):  # the positions arrive first
        client.xadd(keys.positions(town), {"m": orjson.dumps({
            "type": "position", "msg_id": f"p{i}", "officer_id": o.officer_id, "ts": now,
            "lon": 113.7, "lat": 23.0, "grid": o.grid})})
    first = officers[0]
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": "i", "incident_id": "F1", "officer_id": first.officer_id,
        "ts": now, "lon": 113.7, "lat": 23.0, "grid": first.grid, "category": "fire",
        "title": "t", "severity": 0})})
    w.step({s: ">" for s in w.streams}, block_ms=50)
    frames = live_frames(client, town)
    first_case = next(i for i, f in enumerate(frames) if f.get("incidents"))
    first_officers = next(i for i, f in enumerate(frames) if f.get("officers"))
    assert first_case < first_officers
    assert sum(len(f.get("officers", [])) for f in frames) == len(officers)


def test_a_case_arriving_during_a_big_batch_waits_for_one_chunk_not_the_batch(redis_url,
                                                                            city_ctx):
    w, client = make_worker(redis_url, city_ctx)
    w.chunk = 10
    town = city_ctx.towns[0]
    officers = [o for o in city_ctx.roster.values() if o.grid[:9] == town][:50]
    now = time.time()
    for i, o in enumerate(officers):
        client.xadd(keys.positions(town), {"m": orjson.dumps({
            "type": "position", "msg_id": f"p{i}", "officer_id": o.officer_id, "ts": now,
            "lon": 113.7, "lat": 23.0, "grid": o.grid})})
    apply, calls = w.apply, []

    def apply_then_report_a_case(entries):  # the case comes in while the first chunk is applied
        apply(entries)
        calls.append(len(entries))
        if len(calls) == 1:
            client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
                "type": "incident", "msg_id": "i", "incident_id": "F2",
                "officer_id": officers[0].officer_id, "ts": now, "lon": 113.7, "lat": 23.0,
                "grid": officers[0].grid, "category": "fire", "title": "t", "severity": 0})})

    w.apply = apply_then_report_a_case
    w.step({s: ">" for s in w.streams}, block_ms=50)
    frames = live_frames(client, town)
    with_officers = [i for i, f in enumerate(frames) if f.get("officers")]
    case_at = next(i for i, f in enumerate(frames) if f.get("incidents"))
    assert with_officers[0] < case_at < with_officers[1]  # after chunk 1, before chunk 2
    assert sum(len(f.get("officers", [])) for f in frames) == len(officers)  # none lost
    assert client.xpending(keys.incidents_in(town), keys.WORKER_GROUP)["pending"] == 0


def test_a_batch_of_cases_only_is_applied_in_stream_order_across_chunks(redis_url, city_ctx):
    """A back-fill sends cases and no positions: a batch bigger than a chunk must not let
    updates that arrive meanwhile overtake the earlier ones of the same batch."""
    w, client = make_worker(redis_url, city_ctx)
    w.chunk = 10
    town = city_ctx.towns[0]
    officer = next(o for o in city_ctx.roster.values() if o.grid[:9] == town)
    now = time.time()

    def add(m: dict) -> None:
        client.xadd(keys.incidents_in(town), {"m": orjson.dumps(m)})

    for i in range(15):  # 15 reports and an acknowledgement each: 30 entries, 3 chunks
        add({"type": "incident", "msg_id": f"r{i}", "incident_id": f"Q{i}",
             "officer_id": officer.officer_id, "ts": now - 900, "lon": 113.7, "lat": 23.0,
             "grid": officer.grid, "category": "dispute", "title": "t", "severity": 0})
    for i in range(15):
        add({"type": "incident_update", "msg_id": f"a{i}", "incident_id": f"Q{i}",
             "ts": now - 800, "status": "acknowledged"})
    apply, calls = w.apply, []

    def apply_then_resolve(entries):  # the cases get resolved while the first chunk is applied
        apply(entries)
        calls.append(len(entries))
        if len(calls) == 1:
            for i in range(15):
                add({"type": "incident_update", "msg_id": f"z{i}", "incident_id": f"Q{i}",
                     "ts": now - 100, "status": "resolved"})

    w.apply = apply_then_resolve
    ids = {s: ">" for s in w.streams}
    for _ in range(3):
        ids = w.step(ids, block_ms=50)
    assert reads.read_open_incidents(client, [town]) == []  # every case ends resolved
    stored = client.hgetall(keys.incidents(town))
    assert sorted(decode_case(v).status for v in stored.values()) == ["resolved"] * 15
