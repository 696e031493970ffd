"""The statistics page's view-model, its strings and number formats (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from layouts.i18n import t
from layouts.map_view import LOCAL_TZ


def text(key: str, lang: str, **fmt: Any) -> str:
    """A string of this page (stats.<key> in the catalogue) in a language."""
    return t(f"stats.{key}", lang, **fmt)


@dataclass(frozen=True)
class Timing:
    """Minutes from report to one stage over some cases: n done, mean, p90, share on time."""

    n: int = 0
    mean_min: float = math.nan
    p90_min: float = math.nan
    on_time: float = math.nan  # share of the n done within the SLA


@dataclass(frozen=True)
class TimeRow:
    """Handling times of one category ("" for all categories) and its SLA deadlines."""

    category: str
    cases: int
    dispatch: Timing
    resolve: Timing
    dispatch_sla_min: float | None = None
    resolve_sla_min: float | None = None


@dataclass(frozen=True)
class HotspotRow:
    """A grid with many cases in a period."""

    grid: str
    name: str
    place: str  # its village and town
    count: int
    share: float  # of all the region's cases in the period
    red: int = 0
    top_category: str = ""
    top_title: str = ""  # untrusted field text: shown as text only


@dataclass(frozen=True)
class StatsView:
    """The statistics page of a region over the last `days` days."""

    region_code: str
    region_name: str
    region_level: str  # a level key of the city (Dongguan: city | town | village | grid)
    as_of: float
    dates: list[str]  # local ISO dates, oldest first
    by_category: dict[str, list[int]]  # category code → cases per date
    by_level: dict[str, list[int]]  # green | yellow | red → cases per date
    overall: TimeRow
    times: list[TimeRow]
    hotspots_short: list[HotspotRow]
    hotspots_long: list[HotspotRow]
    level_name: str = ""  # the level's display name as the city declares it
    total_cases: int = 0
    open_cases: int = 0
    red_cases: int = 0
    days: int = 30
    short_days: int = 7
    long_days: int = 30
    lang: str = "zh"
    wall: bool = False


def fmt_minutes(minutes: float | None, lang: str) -> str:
    """Minutes as "N 分钟" / "N.N 小时" / "N.N 天" (en: min, h, d); "—" if unknown."""
    if minutes is None or not math.isfinite(minutes):
        return "—"
    if minutes < 10:
        return text("unit.min", lang, n=f"{minutes:.1f}")
    if minutes < 60:
        return text("unit.min", lang, n=f"{minutes:.0f}")
    if minutes < 48 * 60:
        return text("unit.h", lang, n=f"{minutes / 60:.1f}")
    return text("unit.d", lang, n=f"{minutes / 1440:.1f}")


def fmt_share(share: float | None) -> str:
    """A share as a percentage with one decimal; "—" if unknown."""
    if share is None or not math.isfinite(share):
        return "—"
    return f"{100 * share:.1f}%"


def local_time(ts: float) -> str:
    """Local YYYY-MM-DD HH:MM of an epoch time."""
    return datetime.fromtimestamp(ts, UTC).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
