"""Builds the statistics page's view-model of a region from the stored cases."""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Any

import pandas as pd
import redis

from domain.access import User
from domain.regions import Hierarchy, town_of, village_of
from feeds.history.cases import read_cases
from feeds.history.stats import (
    DAY_S,
    cases_per_day,
    handling_times,
    hotspots,
    in_last,
    totals,
    window_start,
)
from feeds.live.context import CityContext
from layouts.stats_model import HotspotRow, StatsView, TimeRow, Timing

DAYS = 30
SHORT_DAYS = 7
HOTSPOT_ROWS = 10
TZ = "Asia/Shanghai"


class CaseFrames:
    """Case frames read lately, per region, reused for `ttl_s` (statistics need not be live).

    Reading the whole city's month of cases takes seconds at full load; a wall and a few
    desks asking for the same region within a minute share one read. Thread-safe.
    """

    def __init__(self, ttl_s: float = 60.0, max_regions: int = 64):
        self.ttl_s = ttl_s
        self.max_regions = max_regions
        self._frames: OrderedDict[str, tuple[float, float, pd.DataFrame]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, client: redis.Redis, towns: list[str], code: str, since: float,
            now: float) -> pd.DataFrame:
        """The cases of region `code` reported since `since`, read at most `ttl_s` ago."""
        with self._lock:
            hit = self._frames.get(code)
        if hit and now - hit[0] < self.ttl_s and hit[1] <= since:
            df = hit[2]
            return df[df["reported_ts"] >= since]
        df = read_cases(client, towns, code, since)
        with self._lock:
            self._frames[code] = (now, since, df)
            self._frames.move_to_end(code)
            while len(self._frames) > self.max_regions:
                self._frames.popitem(last=False)
        return df


def stats_view_model(ctx: CityContext, client: redis.Redis, code: str, lang: str,
                     now: float | None = None, user: User | None = None,
                     wall: bool = False, frames: CaseFrames | None = None) -> StatsView:
    """The statistics of region `code` over the last 30 days, as the page's view-model.

    Only categories `user` is cleared for count (without a user: the non-sensitive ones),
    so that sensitive cases never show up in totals, charts or hotspots. With `frames`,
    a region's cases read less than its TTL ago are reused.
    """
    now = time.time() if now is None else float(now)
    since = min(window_start(now, DAYS, TZ), now - DAYS * DAY_S)
    df = frames.get(client, ctx.towns, code, since, now) if frames else \
        read_cases(client, ctx.towns, code, since)
    visible = [c for c, rule in ctx.rules.items()
               if (user.may_see_category(rule) if user else not rule.sensitive)]
    df = df[df["category"].isin(visible)]
    per_day = cases_per_day(df, TZ, DAYS, now, categories=visible)
    month = in_last(df, now, DAYS)
    slas = {c: (r.dispatch_sla_s, r.resolve_sla_s) for c, r in ctx.rules.items()}
    times = handling_times(month, slas)
    counts = totals(month)
    per_category = month["category"].value_counts()
    region = ctx.hierarchy[code]
    en = lang == "en"
    return StatsView(
        region_code=code, region_name=(region.name_en or region.name) if en else region.name,
        region_level=region.level, as_of=now,
        level_name=ctx.hierarchy.levels.name(region.level, lang),
        dates=[d.isoformat() for d in per_day.index],
        by_category={str(c): [int(v) for v in per_day["category"][c]]
                     for c in per_day["category"].columns},
        by_level={str(lv): [int(v) for v in per_day["level"][lv]]
                  for lv in per_day["level"].columns},
        overall=time_row("", times["overall"], len(month), None),
        times=[time_row(c, tm, int(per_category.get(c, 0)), slas.get(c))
               for c, tm in times["by_category"].items()],
        hotspots_short=hotspot_rows(ctx.hierarchy, hotspots(df, now, SHORT_DAYS, HOTSPOT_ROWS),
                                    lang),
        hotspots_long=hotspot_rows(ctx.hierarchy, hotspots(df, now, DAYS, HOTSPOT_ROWS), lang),
        total_cases=counts["cases"], open_cases=counts["open"], red_cases=counts["red"],
        days=DAYS, short_days=SHORT_DAYS, long_days=DAYS, lang=lang, wall=wall)


def _timing(t: dict[str, Any]) -> Timing:
    return Timing(n=t["n"], mean_min=t["mean"], p90_min=t["p90"],
                  on_time=t.get("on_time", math.nan))


def time_row(category: str, tm: dict[str, dict[str, Any]], cases: int,
             sla: tuple[float, float] | None) -> TimeRow:
    """A handling-times row of the page from a feeds.stats timing dict."""
    return TimeRow(category=category, cases=cases, dispatch=_timing(tm["dispatch"]),
                   resolve=_timing(tm["resolve"]),
                   dispatch_sla_min=sla[0] / 60 if sla else None,
                   resolve_sla_min=sla[1] / 60 if sla else None)


def place_name(h: Hierarchy, grid: str, lang: str) -> tuple[str, str]:
    """A grid's display name and "village · town" (English names when there are any)."""
    def name(code: str) -> str:
        if code not in h:
            return code
        r = h[code]
        return (r.name_en or r.name) if lang == "en" else r.name

    return name(grid), " · ".join(name(c) for c in (village_of(grid), town_of(grid)))


def hotspot_rows(h: Hierarchy, frame: pd.DataFrame, lang: str) -> list[HotspotRow]:
    """The page's hotspot rows from a feeds.stats.hotspots frame."""
    rows = []
    for r in frame.to_dict("records"):
        name, place = place_name(h, r["grid"], lang)
        rows.append(HotspotRow(grid=r["grid"], name=name, place=place, count=int(r["count"]),
                               share=float(r["share"]), red=int(r["red"]),
                               top_category=str(r["top_category"] or ""),
                               top_title=str(r["top_title"] or "")))
    return rows
