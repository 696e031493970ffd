"""Builds the statistics page's view-model of a region from the stored cases."""
from __future__ import annotations

import math
import time
from typing import Any

import pandas as pd
import redis

from domain.access import User
from domain.regions import Hierarchy, level_of
from feeds.context import CityContext
from feeds.history import read_cases
from feeds.stats import (
    DAY_S,
    cases_per_day,
    handling_times,
    hotspots,
    in_last,
    totals,
    window_start,
)
from layouts.stats_view import HotspotRow, StatsView, TimeRow, Timing

DAYS = 30
SHORT_DAYS = 7
HOTSPOT_ROWS = 10
TZ = "Asia/Shanghai"


def stats_view_model(ctx: CityContext, client: redis.Redis, code: str, lang: str,
                     now: float | None = None, user: User | None = None,
                     wall: bool = False) -> StatsView:
    """The statistics of region `code` over the last 30 days, as the page's view-model.

    Only categories `user` is cleared for count (without a user: the non-sensitive ones),
    so that sensitive cases never show up in totals, charts or hotspots.
    """
    now = time.time() if now is None else float(now)
    since = min(window_start(now, DAYS, TZ), now - DAYS * DAY_S)
    df = read_cases(client, ctx.towns, code, since)
    visible = [c for c, rule in ctx.rules.items()
               if (user.may_see_category(rule) if user else not rule.sensitive)]
    df = df[df["category"].isin(visible)]
    per_day = cases_per_day(df, TZ, DAYS, now, categories=visible)
    month = in_last(df, now, DAYS)
    slas = {c: (r.dispatch_sla_s, r.resolve_sla_s) for c, r in ctx.rules.items()}
    times = handling_times(month, slas)
    counts = totals(month)
    region = ctx.hierarchy[code]
    en = lang == "en"
    return StatsView(
        region_code=code, region_name=(region.name_en or region.name) if en else region.name,
        region_level=level_of(code).value, as_of=now,
        dates=[d.isoformat() for d in per_day.index],
        by_category={str(c): [int(v) for v in per_day["category"][c]]
                     for c in per_day["category"].columns},
        by_level={str(lv): [int(v) for v in per_day["level"][lv]]
                  for lv in per_day["level"].columns},
        overall=time_row("", times["overall"], month, None),
        times=[time_row(c, tm, month, slas.get(c))
               for c, tm in times["by_category"].items()],
        hotspots_short=hotspot_rows(ctx.hierarchy, hotspots(df, now, SHORT_DAYS, HOTSPOT_ROWS),
                                    lang),
        hotspots_long=hotspot_rows(ctx.hierarchy, hotspots(df, now, DAYS, HOTSPOT_ROWS), lang),
        total_cases=counts["cases"], open_cases=counts["open"], red_cases=counts["red"],
        days=DAYS, short_days=SHORT_DAYS, long_days=DAYS, lang=lang, wall=wall)


def _timing(t: dict[str, Any]) -> Timing:
    return Timing(n=t["n"], mean_min=t["mean"], p90_min=t["p90"],
                  on_time=t.get("on_time", math.nan))


def time_row(category: str, tm: dict[str, dict[str, Any]], df: pd.DataFrame,
             sla: tuple[float, float] | None) -> TimeRow:
    """A handling-times row of the page from a feeds.stats timing dict."""
    cases = len(df) if not category else int((df["category"] == category).sum())
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

    return name(grid), " · ".join(name(c) for c in (grid[:12], grid[:9]))


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
