"""Demo history: plausible past cases as valid terminal-protocol messages."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
import shapely

from domain.model import Officer
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.placement import Placer
from feeds.ingest.protocol import IncidentMsg, IncidentUpdateMsg, Refused, decode_one
from feeds.live.rules import load_rules
from feeds.sim.backfill import PARKED_NOTE, history_cases, history_incidents, history_messages

RULES = load_rules().rules()
CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 11, 26, 15, 30, tzinfo=CST).timestamp()
GRIDS = [f"441900101{v:03d}{g:03d}" for v in range(1, 101) for g in range(1, 11)]  # 1000
GRID_INDEX = {g: i for i, g in enumerate(GRIDS)}
OFFICERS = [Officer(f"O{i:05d}", f"网格员{i}", GRIDS[i // 3]) for i in range(3 * len(GRIDS))]
LIFE = ("acknowledged", "dispatched", "on_scene", "resolved", "closed")


def random_point(grid: str, rng: np.random.Generator) -> tuple[float, float]:
    """A point in a made-up 0.01° square per grid."""
    i = GRID_INDEX[grid]
    return 113.5 + (i % 40) * 0.01 + rng.uniform(0, 0.01), 22.9 + (i // 40) * 0.01 + \
        rng.uniform(0, 0.01)


def to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    return lon - 0.005, lat + 0.002


@pytest.fixture(scope="module")
def msgs() -> list[dict]:
    return history_messages(OFFICERS, random_point, to_wgs84, RULES, days=14, per_hour=40,
                            now=NOW, seed=7)


def cases_of(msgs: list[dict]) -> dict[str, dict]:
    """Per incident id: its report and {status: ts} of its updates."""
    out: dict[str, dict] = {}
    for m in msgs:
        if m["type"] == "incident":
            out[m["incident_id"]] = {"report": m, "steps": {}}
        else:
            out[m["incident_id"]]["steps"][m["status"]] = m["ts"]
    return out


def test_about_per_hour_cases_every_hour_all_in_the_past_and_in_order(msgs):
    reports = [m for m in msgs if m["type"] == "incident"]
    expected = 14 * 24 * 40
    assert 0.9 * expected < len(reports) < 1.1 * expected
    ts = [m["ts"] for m in msgs]
    assert ts == sorted(ts)
    assert max(ts) < NOW
    assert min(ts) >= NOW - 14 * 86400


def test_every_message_is_valid_protocol_v1_with_unique_h_ids(msgs):
    decoded = [decode_one(m, NOW) for m in msgs]
    refused = [d for d in decoded if isinstance(d, Refused)]
    assert refused == []
    assert all(isinstance(d, IncidentMsg | IncidentUpdateMsg) for d in decoded)
    assert len({m["msg_id"] for m in msgs}) == len(msgs)
    assert all(m["msg_id"].startswith("H") and m["incident_id"].startswith("H") for m in msgs)
    reports = [m for m in msgs if m["type"] == "incident"]
    assert len({m["incident_id"] for m in reports}) == len(reports)
    assert {m["category"] for m in reports} <= set(RULES)
    assert len({m["category"] for m in reports}) == len(RULES)  # every kind shows up


def test_updates_follow_their_report_in_life_cycle_order(msgs):
    for c in cases_of(msgs).values():
        times = [c["report"]["ts"]] + [c["steps"][s] for s in LIFE if s in c["steps"]]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert list(c["steps"]) == list(LIFE[:len(c["steps"])])  # no status skipped


def test_most_cases_meet_their_sla_a_few_are_late_and_few_are_still_open(msgs):
    cases = cases_of(msgs).values()
    late_dispatch = late_resolve = dispatched = resolved = 0
    for c in cases:
        rule, reported = RULES[c["report"]["category"]], c["report"]["ts"]
        if "dispatched" in c["steps"]:
            dispatched += 1
            late_dispatch += c["steps"]["dispatched"] - reported > rule.dispatch_sla_s
        if "resolved" in c["steps"]:
            resolved += 1
            late_resolve += c["steps"]["resolved"] - reported > rule.resolve_sla_s
    assert 0.005 < late_dispatch / dispatched < 0.06  # a good centre: a few percent late
    assert 0.005 < late_resolve / resolved < 0.06
    still_open = sum("resolved" not in c["steps"] for c in cases)
    assert 0.001 < still_open / len(cases) < 0.02  # the last hours' cases, a day's hard ones


def test_the_history_ends_as_a_working_city_would_be(city_ctx):
    """After the back-fill the open cases are few, mostly green, and recent: red at most
    10 %, yellow a minority, none older than 7 days but a deliberate handful (≤ 0.5 %)."""
    index = GridIndex(city_ctx.city)
    for now in (NOW,):  # the open count follows the day: an afternoon
        plans = history_cases(list(city_ctx.roster.values()), index.random_point,
                              city_ctx.rules, days=30, per_hour=100, now=now, seed=7)
        open_ = [i for i in history_incidents(plans, city_ctx.rules, now) if i.status.is_open]
        levels = Counter(i.level.value for i in open_)
        old = [i for i in open_ if now - i.reported_ts > 7 * 86400]
        assert 150 < len(open_) < 500, len(open_)
        assert levels["red"] <= 0.10 * len(open_), levels
        assert levels["yellow"] < 0.5 * len(open_), levels
        assert len(old) <= 0.005 * len(open_)
        assert all(i.status == "on_scene" and any(e.get("note") == PARKED_NOTE for e in i.events)
                   for i in old)  # parked, waiting on a department


def test_more_cases_by_day_than_at_night(msgs):
    hours = Counter(datetime.fromtimestamp(m["ts"], CST).hour
                    for m in msgs if m["type"] == "incident")
    day = sum(hours[h] for h in range(9, 18)) / 9
    night = sum(hours[h] for h in range(0, 6)) / 6
    assert day > 3 * night


def test_a_few_grids_keep_reporting(msgs):
    by_officer = {o.officer_id: o.grid for o in OFFICERS}
    per_grid = Counter(by_officer[m["officer_id"]] for m in msgs if m["type"] == "incident")
    counts = sorted(per_grid.values(), reverse=True)
    median = counts[len(counts) // 2]
    assert counts[0] > 5 * median  # the top hotspot stands out
    assert sum(c > 1.8 * median for c in counts) >= 5  # and it is not alone
    spots = defaultdict(set)
    for m in msgs:
        if m["type"] == "incident" and by_officer[m["officer_id"]] == per_grid.most_common(1)[0][0]:
            spots[(m["lon"], m["lat"])].add(m["incident_id"])
    assert max(len(v) for v in spots.values()) > 20  # a repeat location, not just a busy grid


def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    kw = dict(days=1, per_hour=20, now=NOW)
    a = history_messages(OFFICERS, random_point, to_wgs84, RULES, seed=3, **kw)
    b = history_messages(OFFICERS, random_point, to_wgs84, RULES, seed=3, **kw)
    c = history_messages(OFFICERS, random_point, to_wgs84, RULES, seed=4, **kw)
    assert a == b
    assert [m["ts"] for m in a] != [m["ts"] for m in c]


def test_no_officers_no_history():
    assert history_messages([], random_point, to_wgs84, RULES, now=NOW) == []


def test_the_gateway_places_the_demo_citys_history_in_the_reporters_grids(city_ctx):
    index = GridIndex(city_ctx.city)
    datum = city_ctx.hierarchy.datum
    msgs = history_messages(list(city_ctx.roster.values()), index.random_point,
                            lambda lon, lat: to_datum(lon, lat, datum, "wgs84"),
                            city_ctx.rules, days=1, per_hour=100, now=NOW)
    towns: dict[str, str] = {}
    placer = Placer(index.locate, lambda lon, lat: to_datum(lon, lat, "wgs84", datum),
                    city_ctx.roster, frozenset(city_ctx.rules), towns.get)
    same = total = 0
    for m in msgs:
        routed = placer.route(decode_one(m, NOW))
        assert not isinstance(routed, Refused), routed
        if routed.incident_town:
            towns[routed.incident_town[0]] = routed.incident_town[1]
            total += 1
            same += routed.body["grid"] == city_ctx.roster[m["officer_id"]].grid
    assert same / total > 0.98


def test_a_full_cache_of_recent_cases_keeps_the_batchs_own(city_ctx, monkeypatch):
    """A month of history passes the placer's cache size: an update routed in the same batch
    as its case (not in the store yet) still finds the case's town."""
    monkeypatch.setattr("feeds.ingest.placement.RECENT_INCIDENTS", 4)
    index = GridIndex(city_ctx.city)
    datum = city_ctx.hierarchy.datum
    msgs = history_messages(list(city_ctx.roster.values()), index.random_point,
                            lambda lon, lat: to_datum(lon, lat, datum, "wgs84"),
                            city_ctx.rules, days=0.2, per_hour=100, now=NOW)
    placer = Placer(index.locate, lambda lon, lat: to_datum(lon, lat, "wgs84", datum),
                    city_ctx.roster, frozenset(city_ctx.rules), lambda _id: None)
    for batch in (msgs[i:i + 12] for i in range(0, len(msgs), 12)):
        firsts = [m for m in batch if m["type"] == "incident"]
        updates = [m for m in batch if m["type"] == "incident_update"
                   and m["incident_id"] in {f["incident_id"] for f in firsts[-3:]}]
        for m in firsts + updates:
            routed = placer.route(decode_one(m, NOW))
            assert not isinstance(routed, Refused), routed


def test_random_points_survive_the_datum_round_trip(city_ctx):
    """Points made in the city's datum keep off their grid's edge by more than the rounding
    of the WGS-84 message (6 decimals ≈ 0.1 m), so sent and placed again they land in their
    own grid, also on the city's edge (a point 5e-8° outside was refused in a demo)."""
    index = GridIndex(city_ctx.city)
    datum = city_ctx.hierarchy.datum
    rng = np.random.default_rng(3)
    near, moved = 0, []
    for k, grid in enumerate(index.codes):
        for _ in range(2):
            x, y = index.random_point(grid, rng)
            near += shapely.distance(index.geoms[k].boundary, shapely.Point(x, y)) < 1e-5
            lon, lat = to_datum(x, y, datum, "wgs84")
            where = index.locate(*to_datum(round(lon, 6), round(lat, 6), "wgs84", datum))
            if where is None or where.grid != grid:
                moved.append(grid)
    assert (near, moved) == (0, [])
