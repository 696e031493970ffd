"""Reads every stored case (open and closed) of a region into a pandas frame for statistics."""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import numpy as np
import orjson
import pandas as pd
import redis

from feeds import keys

log = logging.getLogger(__name__)

TEXT_COLUMNS = ("incident_id", "category", "level", "status", "title", "grid", "assignee")
TS_COLUMNS = ("reported_ts", "ack_ts", "dispatched_ts", "on_scene_ts", "resolved_ts",
              "closed_ts")
COLUMNS = ("incident_id", "category", "level", "status", "title", "grid", "village", "town",
           *TS_COLUMNS, "assignee")
HSCAN_ABOVE = 20_000  # hashes with more cases than this are read in HSCAN pages
HSCAN_COUNT = 2_000


def towns_for(towns: Iterable[str], region: str) -> list[str]:
    """The towns whose cases can lie in `region` (all for the city, one below a town)."""
    return [t for t in towns if t.startswith(region) or region.startswith(t)]


def raw_cases(client: redis.Redis, towns: Iterable[str]) -> Iterator[bytes]:
    """The stored JSON of every case of the towns: pipelined HGETALL, HSCAN for big hashes."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hlen(keys.incidents(t))
    sizes = pipe.execute()
    small = [t for t, n in zip(towns, sizes, strict=True) if 0 < n <= HSCAN_ABOVE]
    big = [t for t, n in zip(towns, sizes, strict=True) if n > HSCAN_ABOVE]
    pipe = client.pipeline(transaction=False)
    for t in small:
        pipe.hgetall(keys.incidents(t))
    for res in pipe.execute():
        yield from res.values()
    for t in big:
        for _, raw in client.hscan_iter(keys.incidents(t), count=HSCAN_COUNT):
            yield raw


def read_cases(client: redis.Redis, towns: list[str], region: str,
               since_ts: float) -> pd.DataFrame:
    """Every case of `towns` whose grid lies in `region` and reported_ts >= since_ts.

    One row per case; columns COLUMNS (village and town are the grid's prefixes; the
    times are float epoch seconds, NaN where missing). An empty result has the columns too.
    """
    needle = region.encode()
    cols: dict[str, list] = {c: [] for c in (*TEXT_COLUMNS, *TS_COLUMNS)}
    bad = 0
    for raw in raw_cases(client, towns_for(towns, region)):
        if needle not in raw:  # cheap pre-filter: the grid code is a plain JSON string
            continue
        try:
            case = orjson.loads(raw)
            grid, reported = case["grid"], case["reported_ts"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            bad += 1
            continue
        if not grid.startswith(region) or reported is None or reported < since_ts:
            continue
        for c in TEXT_COLUMNS:
            cols[c].append(case.get(c) or "")
        for c in TS_COLUMNS:
            cols[c].append(case.get(c))
    if bad:
        log.warning("skipped %d unreadable stored cases", bad)
    return _frame(cols)


def _frame(cols: dict[str, list]) -> pd.DataFrame:
    """The case frame from column lists (None → NaN in the time columns)."""
    data: dict[str, object] = {c: pd.Series(cols[c], dtype="object") for c in TEXT_COLUMNS}
    for c in TS_COLUMNS:
        data[c] = np.array(cols[c], dtype="float64")
    grids = data["grid"]
    data["village"] = grids.str.slice(0, 12) if len(grids) else pd.Series(dtype="object")
    data["town"] = grids.str.slice(0, 9) if len(grids) else pd.Series(dtype="object")
    return pd.DataFrame(data, columns=list(COLUMNS))
