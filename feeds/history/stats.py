"""Trend statistics of cases (pure pandas): cases per day, handling times, hotspots."""
from __future__ import annotations

import math
import time as clock
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from domain.alerts import LEVELS
from domain.model import DONE_STATUSES

DEFAULT_TZ = "Asia/Shanghai"
DAY_S = 86400.0
CLOSED_STATUSES = DONE_STATUSES
HOTSPOT_COLUMNS = ("grid", "count", "share", "red", "top_category", "top_title", "last_ts")

# The handling-time stages: (name, column of the end time).
STAGES = (("dispatch", "dispatched_ts"), ("resolve", "resolved_ts"))

Timing = dict[str, Any]  # {"n": int, "mean": minutes, "p90": minutes[, "on_time": share]}


# ---------------------------------------------------------------- days


def day_window(now: float, days: int, tz: str = DEFAULT_TZ) -> list[date]:
    """The `days` local calendar dates ending with the day `now` falls in, oldest first."""
    today = datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def window_start(now: float, days: int, tz: str = DEFAULT_TZ) -> float:
    """Epoch seconds of the local midnight that starts the `days`-day window ending today."""
    first = day_window(now, days, tz)[0]
    return datetime.combine(first, time(), ZoneInfo(tz)).timestamp()


def local_days(ts: pd.Series, tz: str = DEFAULT_TZ) -> np.ndarray:
    """The local calendar day (numpy datetime64[D]) of each epoch-seconds time."""
    local = pd.to_datetime(ts, unit="s", utc=True).dt.tz_convert(tz).dt.tz_localize(None)
    return local.to_numpy().astype("datetime64[D]")


def daily_counts(df: pd.DataFrame, column: str, now: float, days: int = 30,
                 tz: str = DEFAULT_TZ, values: Iterable[str] = (),
                 local: np.ndarray | None = None) -> pd.DataFrame:
    """Cases reported per local date (rows, every day of the window) × value of `column`.

    Columns are `values` first (kept even when zero), then any other value seen, sorted.
    `local` may pass the cases' local_days() when they are already known.
    """
    window = day_window(now, days, tz)
    values = list(values)
    seen: list[str] = []
    grid = np.zeros((days, 0), dtype="int64")
    if not df.empty:
        local = local_days(df["reported_ts"], tz) if local is None else local
        offset = (local - np.datetime64(window[0], "D")).astype("int64")
        keep = (offset >= 0) & (offset < days) & (df["reported_ts"].to_numpy() <= now)
        codes, uniques = pd.factorize(df[column].to_numpy()[keep])
        known = codes >= 0  # a missing value is not counted
        k = len(uniques)
        cells = offset[keep][known] * k + codes[known]
        grid = np.bincount(cells, minlength=days * k).reshape(days, k)
        seen = [str(u) for u in uniques]
    counts = pd.DataFrame(grid, index=window, columns=seen, dtype="int64")
    extra = sorted(c for c in seen if c not in values)
    counts = counts.reindex(columns=values + extra, fill_value=0).astype("int64")
    counts.index.name = "date"
    counts.columns.name = column
    return counts


def cases_per_day(df: pd.DataFrame, tz: str = DEFAULT_TZ, days: int = 30,
                  now: float | None = None, categories: Iterable[str] = ()) -> pd.DataFrame:
    """Cases per local date by category and by level, zero-filled over the window.

    Rows: the `days` dates ending today (in `tz`). Columns: a two-level index,
    ("category", code) for `categories` and any other category seen, and
    ("level", green|yellow|red); `result["category"]` is a date × category frame.
    """
    now = _now(now)
    dates = None if df.empty else local_days(df["reported_ts"], tz)
    by_cat = daily_counts(df, "category", now, days, tz, categories, dates)
    by_level = daily_counts(df, "level", now, days, tz, LEVELS, dates)
    return pd.concat({"category": by_cat, "level": by_level}, axis=1)


# ---------------------------------------------------------------- handling times


def stage_minutes(df: pd.DataFrame, end_column: str) -> pd.Series:
    """Minutes from report to `end_column` per case (NaN where it has not happened; ≥ 0)."""
    if df.empty:
        return pd.Series(dtype="float64")
    minutes = (df[end_column].astype("float64") - df["reported_ts"].astype("float64")) / 60.0
    return minutes.clip(lower=0.0)  # a phone's clock ahead of the server's is not a negative time


def on_time_flags(minutes: pd.Series, sla_min: pd.Series) -> pd.Series:
    """1.0 where done within the SLA, 0.0 where done late, NaN if not done or no SLA known."""
    return (minutes <= sla_min).astype("float64").where(minutes.notna() & sla_min.notna())


def timing(minutes: pd.Series, sla_min: pd.Series | None = None) -> Timing:
    """n, mean and p90 (linear interpolation) of some minutes, NaN ignored; share on time."""
    done = minutes.dropna()
    out: Timing = {"n": int(done.size), "mean": math.nan, "p90": math.nan}
    if done.size:
        out["mean"] = float(done.mean())
        out["p90"] = float(done.quantile(0.9))
    if sla_min is not None:
        flags = on_time_flags(minutes, sla_min).dropna()
        out["on_time"] = float(flags.mean()) if flags.size else math.nan
    return out


def timings_by(minutes: pd.Series, codes: np.ndarray, names: list[str],
               sla_min: pd.Series | None = None) -> dict[str, Timing]:
    """timing() of the minutes of each group (codes index names; -1 is no group)."""
    g = minutes.groupby(codes)
    n, mean, p90 = g.count(), g.mean(), g.quantile(0.9)
    on_time = None if sla_min is None else \
        on_time_flags(minutes, sla_min).groupby(codes).mean()
    out = {}
    for i in n.index:
        if i < 0:
            continue
        t: Timing = {"n": int(n[i]), "mean": float(mean[i]), "p90": float(p90[i])}
        if on_time is not None:
            t["on_time"] = float(on_time[i])
        out[names[i]] = t
    return out


def handling_times(df: pd.DataFrame,
                   slas: Mapping[str, tuple[float, float]] | None = None) -> dict[str, Any]:
    """Mean and p90 minutes from report to dispatch and to resolve, overall and per category.

    Returns {"overall": {"dispatch": t, "resolve": t}, "by_category": {code: {...}}} where
    t = {"n", "mean", "p90"} (NaN when n is 0); with `slas` (code → (dispatch_sla_s,
    resolve_sla_s)) each t also has "on_time", the share of the n done within the SLA.
    Categories are ordered by their number of cases, most first.
    """
    cats = df["category"] if not df.empty else pd.Series(dtype="object")
    codes, uniques = pd.factorize(cats)  # once: grouping by small ints is much faster
    names = [str(u) for u in uniques]
    limits = None if slas is None else [_per_case(codes, names, slas, i, df.index)
                                        for i in range(len(STAGES))]
    overall: dict[str, Timing] = {}
    grouped: dict[str, dict[str, Timing]] = {}
    for i, (stage, column) in enumerate(STAGES):
        minutes = stage_minutes(df, column)
        limit = None if limits is None else limits[i]
        overall[stage] = timing(minutes, limit)
        grouped[stage] = timings_by(minutes, codes, names, limit) if names else {}
    none = timing(pd.Series(dtype="float64"), None if slas is None else
                  pd.Series(dtype="float64"))
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    order = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))
    by_category = {names[i]: {stage: grouped[stage].get(names[i], dict(none))
                              for stage, _ in STAGES} for i in order}
    return {"overall": overall, "by_category": by_category}


def _per_case(codes: np.ndarray, names: list[str], slas: Mapping[str, tuple[float, float]],
              stage: int, index: pd.Index) -> pd.Series:
    """Per case, the SLA of one stage in minutes (NaN for unknown or missing categories)."""
    per_code = np.array([slas[c][stage] / 60.0 if c in slas else math.nan for c in names]
                        + [math.nan])  # the last one serves code -1 (missing)
    return pd.Series(per_code[codes], index=index, dtype="float64")


# ---------------------------------------------------------------- hotspots


def in_last(df: pd.DataFrame, now: float, days: float) -> pd.DataFrame:
    """The cases reported in the `days` × 24 h before `now`."""
    if df.empty:
        return df
    ts = df["reported_ts"]
    return df[(ts >= now - days * DAY_S) & (ts <= now)]


def hotspots(df: pd.DataFrame, now: float, days: float, n: int = 10) -> pd.DataFrame:
    """The `n` grids with the most cases reported in the last `days` (repeat locations).

    Columns: grid, count, share (of all the window's cases in `df`), red (cases at red),
    top_category and top_title (the most frequent; ties by code/text), last_ts.
    Ordered by count, most first, then by grid code.
    """
    win = in_last(df, now, days)
    if win.empty or n <= 0:
        return pd.DataFrame({c: pd.Series(dtype=_HOT_DTYPES[c]) for c in HOTSPOT_COLUMNS})
    counts = win.groupby("grid").size()
    ranked = pd.DataFrame({"grid": counts.index, "k": counts.to_numpy()})
    top = ranked.sort_values(["k", "grid"], ascending=[False, True])["grid"].head(n).tolist()
    sub = win[win["grid"].isin(top)]
    g = sub.groupby("grid")
    out = pd.DataFrame({
        "count": counts.loc[top].astype("int64"),
        "share": counts.loc[top] / float(len(win)),
        "red": (sub["level"] == "red").groupby(sub["grid"]).sum().reindex(top).astype("int64"),
        "top_category": _most_frequent(sub, "category").reindex(top),
        "top_title": _most_frequent(sub, "title").reindex(top),
        "last_ts": g["reported_ts"].max().reindex(top).astype("float64"),
    }, index=pd.Index(top, name="grid"))
    return out.reset_index()[list(HOTSPOT_COLUMNS)]


_HOT_DTYPES = {"grid": "object", "count": "int64", "share": "float64", "red": "int64",
               "top_category": "object", "top_title": "object", "last_ts": "float64"}


def _most_frequent(df: pd.DataFrame, column: str) -> pd.Series:
    """Per grid, the most frequent value of `column` (the smallest value on a tie)."""
    if column not in df.columns:
        return pd.Series(dtype="object")
    c = df.groupby(["grid", column]).size().reset_index(name="k")
    c = c.sort_values(["grid", "k", column], ascending=[True, False, True])
    return c.drop_duplicates("grid").set_index("grid")[column]


# ---------------------------------------------------------------- totals


def totals(df: pd.DataFrame) -> dict[str, int]:
    """Counts of cases: all, still open, resolved or closed, and at red level."""
    if df.empty:
        return {"cases": 0, "open": 0, "done": 0, "red": 0}
    done = int(df["status"].isin(CLOSED_STATUSES).sum())
    return {"cases": len(df), "open": len(df) - done, "done": done,
            "red": int((df["level"] == "red").sum())}


def _now(now: float | None) -> float:
    return clock.time() if now is None else float(now)
