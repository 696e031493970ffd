"""Reads every stored case (open and closed) of a region into a pandas frame for statistics."""
from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator

import numpy as np
import orjson
import pandas as pd
import redis

from domain.regions import is_within
from feeds.store import keys

log = logging.getLogger(__name__)

TEXT_COLUMNS = ("incident_id", "category", "level", "status", "title", "grid", "assignee")
TS_COLUMNS = ("reported_ts", "ack_ts", "dispatched_ts", "on_scene_ts", "resolved_ts",
              "closed_ts")
COLUMNS = ("incident_id", "category", "level", "status", "title", "grid", "village", "town",
           *TS_COLUMNS, "assignee")
HSCAN_ABOVE = 20_000  # hashes with more cases than this are read in HSCAN pages
HSCAN_COUNT = 2_000
BATCH_CASES = 20_000  # cases per pipelined read


def towns_for(towns: Iterable[str], region: str) -> list[str]:
    """The towns whose cases can lie in `region` (all for the city, one below a town)."""
    return [t for t in towns if is_within(t, region) or is_within(region, t)]


def raw_cases(client: redis.Redis, towns: Iterable[str]) -> Iterator[bytes]:
    """The stored JSON of every case of the towns: pipelined HGETALL, HSCAN for big hashes.

    Pipelines hold at most about BATCH_CASES cases, so memory stays bounded.
    """
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hlen(keys.incidents(t))
    sizes = dict(zip(towns, pipe.execute(), strict=True))
    small = [t for t in towns if 0 < sizes[t] <= HSCAN_ABOVE]
    while small:
        batch, total = [], 0
        while small and (not batch or total + sizes[small[0]] <= BATCH_CASES):
            total += sizes[small[0]]
            batch.append(small.pop(0))
        pipe = client.pipeline(transaction=False)
        for t in batch:
            pipe.hgetall(keys.incidents(t))
        for res in pipe.execute():
            yield from res.values()
    for t in (t for t in towns if sizes[t] > HSCAN_ABOVE):
        for _, raw in client.hscan_iter(keys.incidents(t), count=HSCAN_COUNT):
            yield raw


def parse_case(raw: bytes) -> dict | None:
    """The stored JSON of a case as a dict, without its events timeline (None if unreadable).

    The timeline is the last member and most of the bytes; statistics never need it, so
    when the text ends with it, it is cut off before parsing (a quoted `,"events":` inside
    a string is escaped, so the last unescaped one is the member).
    """
    cut = raw.rfind(b',"events":')
    try:
        case = orjson.loads(raw[:cut] + b"}" if cut > 0 and raw.endswith(b"]}") else raw)
        if not isinstance(case.get("grid"), str) or case.get("reported_ts") is None:
            return None
        return case
    except (orjson.JSONDecodeError, AttributeError):
        if cut > 0:  # not the shape we expected: parse the whole text
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                return None
        return None


def read_cases(client: redis.Redis, towns: list[str], region: str,
               since_ts: float) -> pd.DataFrame:
    """Every case of `towns` whose grid lies in `region` and reported_ts >= since_ts.

    One row per case; columns COLUMNS (village and town are the grid's prefixes; the
    times are float epoch seconds, NaN where missing). An empty result has the columns too.
    """
    needle = region.encode()
    fields = (*TEXT_COLUMNS, *TS_COLUMNS)
    rows: list[tuple] = []  # only the fields we need: a month of a city's cases is big
    bad = 0
    for raw in raw_cases(client, towns_for(towns, region)):
        if needle not in raw:  # cheap pre-filter: the grid code is a plain JSON string
            continue
        case = parse_case(raw)
        if case is None:
            bad += 1
        elif is_within(case["grid"], region) and case["reported_ts"] >= since_ts:
            rows.append(tuple(case.get(c) for c in fields))
    if bad:
        log.warning("skipped %d unreadable stored cases", bad)
    return case_frame(rows)


def case_frame(rows: list[tuple]) -> pd.DataFrame:
    """The case frame of rows of TEXT_COLUMNS then TS_COLUMNS ("" / NaN for None).

    Repeated strings (category, level, grid ...) are shared, not one copy per row.
    """
    columns = list(zip(*rows, strict=True)) or [()] * (len(TEXT_COLUMNS) + len(TS_COLUMNS))
    data: dict[str, object] = {}
    for c, values in zip(TEXT_COLUMNS, columns, strict=False):
        seen: dict[str, str] = {}
        shared = values if c == "incident_id" else [seen.setdefault(v, v) for v in values]
        data[c] = pd.Series([v or "" for v in shared], dtype="object")
    grids = data["grid"]
    for c, n in (("village", 12), ("town", 9)):
        prefix = {g: g[:n] for g in set(grids)}
        data[c] = pd.Series([prefix[g] for g in grids], dtype="object")
    for c, values in zip(TS_COLUMNS, columns[len(TEXT_COLUMNS):], strict=True):
        # a time is never 0, so `or NaN` only replaces None
        data[c] = np.array([v or math.nan for v in values], dtype="float64")
    return pd.DataFrame(data, columns=list(COLUMNS))
