"""Trend statistics on hand-made case frames whose answers are worked out by hand here."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from feeds.history.cases import COLUMNS
from feeds.history.stats import cases_per_day, handling_times, hotspots, totals, window_start

CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 11, 26, 12, 0, tzinfo=CST).timestamp()  # Wednesday noon in Dongguan
MIN = 60.0
DAY = 86400.0


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> float:
    """Epoch seconds of a Dongguan wall-clock time."""
    return datetime(y, mo, d, h, mi, tzinfo=CST).timestamp()


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    """A case frame shaped like feeds.history.read_cases' from a few partial rows."""
    full = []
    for i, r in enumerate(rows):
        grid = r.get("grid", "441900101001001")
        full.append({"incident_id": f"I{i}", "category": "dispute", "level": "green",
                     "status": "reported", "title": "t", "village": grid[:12], "town": grid[:9],
                     "ack_ts": math.nan, "dispatched_ts": math.nan, "on_scene_ts": math.nan,
                     "resolved_ts": math.nan, "closed_ts": math.nan, "assignee": "", **r,
                     "grid": grid})
    return pd.DataFrame(full, columns=list(COLUMNS))


EMPTY = frame()


# ---------------------------------------------------------------- cases per day


def test_cases_are_counted_on_their_local_day_by_category_and_level():
    df = frame(
        # 00:30 on the 26th in Dongguan is still the 25th in UTC: it belongs to the 26th
        {"reported_ts": local(2025, 11, 26, 0, 30), "category": "dispute", "level": "green"},
        {"reported_ts": local(2025, 11, 25, 23, 59), "category": "fire", "level": "red"},
        {"reported_ts": local(2025, 11, 25, 8), "category": "dispute", "level": "yellow"},
        {"reported_ts": local(2025, 11, 20, 0, 0), "category": "dispute", "level": "green"},
        {"reported_ts": local(2025, 11, 19, 23, 59), "category": "fire", "level": "red"},  # before
    )
    per_day = cases_per_day(df, days=7, now=NOW, categories=("dispute", "fire", "environment"))
    days = [date(2025, 11, 20) + timedelta(days=i) for i in range(7)]
    assert list(per_day.index) == days
    cats = per_day["category"]
    assert list(cats.columns) == ["dispute", "fire", "environment"]
    assert cats["dispute"].tolist() == [1, 0, 0, 0, 0, 1, 1]
    assert cats["fire"].tolist() == [0, 0, 0, 0, 0, 1, 0]
    assert cats["environment"].tolist() == [0] * 7
    levels = per_day["level"]
    assert list(levels.columns) == ["green", "yellow", "red"]
    assert levels["green"].tolist() == [1, 0, 0, 0, 0, 0, 1]
    assert levels["yellow"].tolist() == [0, 0, 0, 0, 0, 1, 0]
    assert levels["red"].tolist() == [0, 0, 0, 0, 0, 1, 0]


def test_a_category_not_asked_for_still_gets_its_column():
    df = frame({"reported_ts": NOW - 3600, "category": "new_kind"})
    cats = cases_per_day(df, days=3, now=NOW, categories=("dispute",))["category"]
    assert list(cats.columns) == ["dispute", "new_kind"]
    assert cats["new_kind"].tolist() == [0, 0, 1]


def test_no_cases_gives_a_zero_filled_window():
    per_day = cases_per_day(EMPTY, days=30, now=NOW, categories=("dispute", "fire"))
    assert len(per_day) == 30
    assert per_day.index[-1] == date(2025, 11, 26)
    assert per_day.to_numpy().sum() == 0
    assert list(per_day["level"].columns) == ["green", "yellow", "red"]


def test_window_start_is_local_midnight_of_the_first_day():
    assert window_start(NOW, 7) == local(2025, 11, 20)


# ---------------------------------------------------------------- handling times


def _dispatched(minutes: float, category: str = "dispute", **kw: Any) -> dict[str, Any]:
    reported = NOW - DAY
    return {"reported_ts": reported, "dispatched_ts": reported + minutes * MIN,
            "category": category, **kw}


def test_mean_and_p90_minutes_to_dispatch_overall_and_per_category():
    rows = [_dispatched(m) for m in range(1, 11)]  # dispute: 1, 2, ..., 10 minutes
    rows += [_dispatched(3, "fire"), _dispatched(7, "fire")]
    rows.append({"reported_ts": NOW - DAY, "category": "fire"})  # never dispatched
    times = handling_times(frame(*rows))
    dispute = times["by_category"]["dispute"]["dispatch"]
    # mean of 1..10 = 5.5; p90 sits at position 0.9 × 9 = 8.1 between 9 and 10 → 9.1
    assert dispute["n"] == 10
    assert dispute["mean"] == pytest.approx(5.5)
    assert dispute["p90"] == pytest.approx(9.1)
    fire = times["by_category"]["fire"]["dispatch"]
    # 3 and 7: mean 5, p90 = 3 + 0.9 × 4 = 6.6; the undispatched case is not counted
    assert (fire["n"], fire["mean"], fire["p90"]) == (2, pytest.approx(5.0), pytest.approx(6.6))
    overall = times["overall"]["dispatch"]
    # 1,2,3,3,4,5,6,7,7,8,9,10: mean 65/12; p90 at 0.9 × 11 = 9.9 between 8 and 9 → 8.9
    assert overall["n"] == 12
    assert overall["mean"] == pytest.approx(65 / 12)
    assert overall["p90"] == pytest.approx(8.9)
    assert list(times["by_category"]) == ["dispute", "fire"]  # most cases first


def test_time_to_resolve_counts_only_resolved_cases_and_nothing_resolved_is_nan():
    reported = NOW - DAY
    df = frame({"reported_ts": reported, "resolved_ts": reported + 2 * 3600},
               {"reported_ts": reported, "resolved_ts": reported + 4 * 3600},
               {"reported_ts": reported},
               {"reported_ts": reported, "category": "fire", "dispatched_ts": reported + 60})
    times = handling_times(df)
    assert times["by_category"]["dispute"]["resolve"]["n"] == 2
    assert times["by_category"]["dispute"]["resolve"]["mean"] == pytest.approx(180.0)
    fire = times["by_category"]["fire"]["resolve"]
    assert fire["n"] == 0 and math.isnan(fire["mean"]) and math.isnan(fire["p90"])


def test_share_on_time_against_each_categorys_sla():
    rows = [_dispatched(m) for m in (2, 4, 6, 8)] + [_dispatched(12, "fire")]
    slas = {"dispute": (5 * MIN, 60 * MIN), "fire": (15 * MIN, 60 * MIN)}
    times = handling_times(frame(*rows), slas)
    assert times["by_category"]["dispute"]["dispatch"]["on_time"] == pytest.approx(0.5)
    assert times["by_category"]["fire"]["dispatch"]["on_time"] == pytest.approx(1.0)
    assert times["overall"]["dispatch"]["on_time"] == pytest.approx(3 / 5)
    assert math.isnan(times["overall"]["resolve"]["on_time"])  # nothing resolved


def test_a_dispatch_stamped_before_the_report_counts_as_zero_minutes():
    df = frame({"reported_ts": NOW - 600, "dispatched_ts": NOW - 660})
    assert handling_times(df)["overall"]["dispatch"]["mean"] == 0.0


def test_no_cases_gives_nan_times_and_no_categories():
    times = handling_times(EMPTY, {"dispute": (60.0, 600.0)})
    assert times["by_category"] == {}
    assert times["overall"]["dispatch"]["n"] == 0
    assert math.isnan(times["overall"]["resolve"]["p90"])


# ---------------------------------------------------------------- hotspots


def _at(grid: str, days_ago: float, **kw: Any) -> dict[str, Any]:
    return {"grid": grid, "reported_ts": NOW - days_ago * DAY, **kw}


G1, G2, G3, G4 = (f"44190010100100{i}" for i in range(1, 5))


def hot_frame() -> pd.DataFrame:
    rows = [_at(G1, 1, category="fire", title="垃圾堆起火", level="red") for _ in range(3)]
    rows += [_at(G1, 2, title="商铺冒烟"), _at(G1, 6, title="商铺冒烟")]
    rows += [_at(G2, 3) for _ in range(3)] + [_at(G2, 10 + i) for i in range(4)]
    rows += [_at(G3, 3), _at(G3, 4)]
    rows += [_at(G4, 40)]
    return frame(*rows)


def test_hotspots_of_the_last_week_rank_grids_by_cases_with_their_share():
    hot = hotspots(hot_frame(), NOW, days=7)
    # last 7 days: G1 5, G2 3, G3 2 → 10 cases
    assert hot["grid"].tolist() == [G1, G2, G3]
    assert hot["count"].tolist() == [5, 3, 2]
    assert hot["share"].tolist() == pytest.approx([0.5, 0.3, 0.2])
    assert hot["red"].tolist() == [3, 0, 0]
    assert hot.loc[0, "top_category"] == "fire"  # 3 fire, 2 dispute
    assert hot.loc[0, "top_title"] == "垃圾堆起火"  # 3 of one title, 2 of the other


def test_hotspots_of_the_last_month_and_a_short_list():
    hot = hotspots(hot_frame(), NOW, days=30, n=2)
    # last 30 days: G2 7, G1 5, G3 2 → 14 cases; G4 is 40 days old
    assert hot["grid"].tolist() == [G2, G1]
    assert hot["count"].tolist() == [7, 5]
    assert hot["share"].tolist() == pytest.approx([7 / 14, 5 / 14])


def test_equal_counts_are_ordered_by_grid_code():
    hot = hotspots(frame(_at(G3, 1), _at(G1, 1)), NOW, days=7)
    assert hot["grid"].tolist() == [G1, G3]


def test_no_cases_no_hotspots_but_the_columns():
    hot = hotspots(EMPTY, NOW, days=7)
    assert hot.empty
    assert list(hot.columns) == ["grid", "count", "share", "red", "top_category", "top_title",
                                 "last_ts"]


def test_totals_count_open_done_and_red():
    df = frame({"reported_ts": NOW, "status": "reported", "level": "red"},
               {"reported_ts": NOW, "status": "dispatched", "level": "yellow"},
               {"reported_ts": NOW, "status": "resolved", "level": "red"},
               {"reported_ts": NOW, "status": "closed"})
    assert totals(df) == {"cases": 4, "open": 2, "done": 2, "red": 2}
    assert totals(EMPTY) == {"cases": 0, "open": 0, "done": 0, "red": 0}
