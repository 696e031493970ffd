"""The statistics view-model of the demo city from backfilled history in a real Redis."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from dashboard.readmodel.stats import CaseFrames, stats_view_model
from domain.access import Role, User
from domain.model import Incident
from feeds.geo.locate import GridIndex
from feeds.live.state import incident_to_json
from feeds.sim.backfill import history_cases, history_incidents
from feeds.store import keys
from feeds.store.client import sync_client
from layouts.stats_view import stats_page

CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 11, 26, 15, 30, tzinfo=CST).timestamp()
MONTH_START = NOW - 30 * 86400
SENSITIVE = {"mental_health", "community_correction"}


@pytest.fixture(scope="module")
def history(city_ctx) -> list[Incident]:
    index = GridIndex(city_ctx.city)
    plans = history_cases(list(city_ctx.roster.values()), index.random_point, city_ctx.rules,
                          days=35, per_hour=12, now=NOW, seed=11)
    return history_incidents(plans, city_ctx.rules, NOW)


@pytest.fixture()
def client(redis_url, history):
    c = sync_client(redis_url)
    pipe = c.pipeline(transaction=False)
    for inc in history:
        pipe.hset(keys.incidents(inc.town), inc.incident_id, orjson.dumps(incident_to_json(inc)))
    pipe.execute()
    yield c
    c.close()


def month_cases(history: list[Incident], region: str, sensitive: bool = False) -> list[Incident]:
    return [i for i in history if MONTH_START <= i.reported_ts <= NOW
            and i.grid.startswith(region) and (sensitive or i.category not in SENSITIVE)]


def test_city_statistics_match_the_stored_history(city_ctx, client, history):
    vm = stats_view_model(city_ctx, client, "441900", "zh", now=NOW)
    month = month_cases(history, "441900")
    assert vm.region_name == "东莞市" and vm.region_level == "city"
    assert vm.total_cases == len(month)
    assert vm.open_cases == sum(i.status.is_open for i in month)
    assert vm.red_cases == sum(i.level.value == "red" for i in month)
    first_day = datetime(2025, 10, 28, tzinfo=CST).timestamp()  # 30 local days to the 26th
    in_days = [i for i in month_cases(history, "441900") if i.reported_ts >= first_day]
    assert len(vm.dates) == 30 and vm.dates[-1] == "2025-11-26"
    assert sum(sum(v) for v in vm.by_level.values()) == len(in_days)
    assert sum(vm.by_category["dispute"]) == sum(i.category == "dispute" for i in in_days)
    waits = [(i.dispatched_ts - i.reported_ts) / 60 for i in month if i.dispatched_ts]
    assert vm.overall.dispatch.n == len(waits)
    assert vm.overall.dispatch.mean_min == pytest.approx(statistics.fmean(waits))
    p90 = statistics.quantiles(waits, n=10, method="inclusive")[8]
    assert vm.overall.dispatch.p90_min == pytest.approx(p90)


def test_hotspots_are_the_grids_with_most_cases_with_their_names(city_ctx, client, history):
    vm = stats_view_model(city_ctx, client, "441900", "zh", now=NOW)
    top_grid, top_count = Counter(i.grid for i in month_cases(history, "441900")).most_common(1)[0]
    assert (vm.hotspots_long[0].grid, vm.hotspots_long[0].count) == (top_grid, top_count)
    assert vm.hotspots_long[0].name == city_ctx.hierarchy[top_grid].name
    assert city_ctx.hierarchy[top_grid[:9]].name in vm.hotspots_long[0].place
    assert len(vm.hotspots_short) == 10
    week = Counter(i.grid for i in history if NOW - 7 * 86400 <= i.reported_ts <= NOW
                   and i.category not in SENSITIVE)
    assert vm.hotspots_short[0].count == week.most_common(1)[0][1]


def test_sensitive_categories_count_only_for_cleared_users(city_ctx, client, history):
    anonymous = stats_view_model(city_ctx, client, "441900", "zh", now=NOW)
    viewer = stats_view_model(city_ctx, client, "441900", "zh", now=NOW,
                              user=User("v", Role.VIEWER, "441900"))
    duty = stats_view_model(city_ctx, client, "441900", "zh", now=NOW,
                            user=User("d", Role.DUTY, "441900"))
    for vm in (anonymous, viewer):
        assert not SENSITIVE & set(vm.by_category)
        assert not SENSITIVE & {r.category for r in vm.times}
    assert SENSITIVE <= {r.category for r in duty.times}
    assert duty.total_cases == len(month_cases(history, "441900", sensitive=True))


def test_a_town_in_english(city_ctx, client, history):
    town = city_ctx.towns[0]
    vm = stats_view_model(city_ctx, client, town, "en", now=NOW)
    assert vm.region_name == (city_ctx.hierarchy[town].name_en or city_ctx.hierarchy[town].name)
    assert vm.total_cases == len(month_cases(history, town))
    assert all(h.grid.startswith(town) for h in vm.hotspots_long)
    shown = str(stats_page(vm))
    assert "Cases per day by category" in shown


def test_an_empty_store_gives_an_empty_page(city_ctx, redis_url):
    c = sync_client(redis_url)
    vm = stats_view_model(city_ctx, c, "441900", "zh", now=NOW)
    c.close()
    assert vm.total_cases == 0 and vm.hotspots_long == [] and vm.times == []
    assert sum(sum(v) for v in vm.by_level.values()) == 0
    assert stats_page(vm) is not None


def test_case_frames_share_one_read_within_their_ttl(city_ctx, client, history):
    frames = CaseFrames(ttl_s=60)
    first = stats_view_model(city_ctx, client, "441900", "zh", now=NOW, frames=frames)
    late = Incident(incident_id="LATE", category="dispute", title="邻里噪音纠纷", lat=23.0,
                    lon=113.7, grid=history[0].grid, reported_ts=NOW - 10)
    client.hset(keys.incidents(late.town), late.incident_id,
                orjson.dumps(incident_to_json(late)))
    cached = stats_view_model(city_ctx, client, "441900", "zh", now=NOW + 30, frames=frames)
    read_now = stats_view_model(city_ctx, client, "441900", "zh", now=NOW + 30)
    assert cached.total_cases == read_now.total_cases - 1  # the new case is not read yet
    assert first.total_cases > 1000
    fresh = stats_view_model(city_ctx, client, "441900", "zh", now=NOW + 61, frames=frames)
    uncached = stats_view_model(city_ctx, client, "441900", "zh", now=NOW + 61)
    assert fresh.total_cases == uncached.total_cases
    assert fresh.hotspots_short == uncached.hotspots_short
