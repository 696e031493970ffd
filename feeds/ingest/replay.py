"""Replay a CSV or Parquet log of positions and cases through the gateway (1×, N×, fast)."""
from __future__ import annotations

import asyncio
import logging
import math
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from feeds.ingest.terminal_client import TerminalClient

log = logging.getLogger(__name__)

FIELDS = {
    "position": ("officer_id", "lat", "lon", "accuracy_m", "speed_mps", "heading_deg", "battery"),
    "incident": ("incident_id", "officer_id", "lat", "lon", "category", "title", "description",
                 "severity"),
    "incident_update": ("incident_id", "status", "note"),
    "duty": ("officer_id", "on_duty"),
}


class ReplayError(ValueError):
    """A log or mapping file that cannot be replayed; the message says why."""


@dataclass(frozen=True)
class LogMapping:
    """How another system's log maps onto ours: column names, categories, defaults."""

    columns: dict[str, str] = field(default_factory=dict)  # theirs → ours
    categories: dict[str, str] = field(default_factory=dict)  # theirs → ours
    default_type: str = "position"
    ts_unit: str = "s"  # s | ms | iso


def load_mapping(path: Path | None) -> LogMapping:
    """The mapping file (YAML or JSON), or the identity mapping."""
    if path is None:
        return LogMapping()
    try:
        raw = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ReplayError(f"{path}: cannot read mapping: {e}") from None
    unknown = set(raw) - {"columns", "categories", "type", "ts_unit"}
    if unknown:
        raise ReplayError(f"{path}: unknown fields {sorted(unknown)}")
    if raw.get("ts_unit", "s") not in ("s", "ms", "iso"):
        raise ReplayError(f"{path}: ts_unit must be s, ms or iso")
    return LogMapping(dict(raw.get("columns") or {}), dict(raw.get("categories") or {}),
                    raw.get("type", "position"), raw.get("ts_unit", "s"))


def read_log(path: Path) -> pd.DataFrame:
    """A log file as a DataFrame (CSV or Parquet, by extension)."""
    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as e:
        raise ReplayError(f"{path}: cannot read: {e}") from None


def _ts(value: Any, unit: str) -> float:
    if unit == "iso":
        return pd.Timestamp(value).timestamp()
    ts = float(value)
    return ts / 1000 if unit == "ms" else ts


def _value(name: str, v: Any) -> Any:
    if name in ("lat", "lon", "accuracy_m", "speed_mps", "heading_deg", "battery"):
        return float(v)
    if name == "severity":
        return int(float(v))
    if name == "on_duty":
        return str(v).strip().lower() in ("1", "true", "yes", "on")
    return str(v)


def messages(df: pd.DataFrame, mapping: LogMapping) -> Iterator[dict[str, Any]]:
    """Protocol-v1 messages of a log, in time order (empty cells are left out)."""
    df = df.rename(columns=mapping.columns)
    if "ts" not in df.columns:
        raise ReplayError("the log has no ts column (map one with a mapping file)")
    rows = df.to_dict("records")
    out = []
    for i, row in enumerate(rows):
        kind = str(row.get("type") or mapping.default_type)
        if kind not in FIELDS:
            raise ReplayError(f"row {i + 2}: unknown type {kind!r}")
        msg: dict[str, Any] = {"type": kind, "ts": _ts(row["ts"], mapping.ts_unit),
                               "msg_id": str(row.get("msg_id") or f"replay-{i}")}
        for name in FIELDS[kind]:
            v = row.get(name)
            if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
                continue
            msg[name] = _value(name, v)
        if "category" in msg:
            msg["category"] = mapping.categories.get(msg["category"], msg["category"])
        out.append(msg)
    out.sort(key=lambda m: m["ts"])
    return iter(out)


def progress(done: int, total: int, started: float, refused: int) -> None:
    """One line of progress on stderr."""
    rate = done / max(1e-6, time.monotonic() - started)
    bar = "#" * int(30 * done / max(1, total))
    sys.stderr.write(f"\rreplay [{bar:<30}] {done:,}/{total:,} {rate:,.0f}/s "
                     f"refused {refused:,}")
    sys.stderr.flush()


async def replay(msgs: list[dict[str, Any]], url: str, token: str, speed: float | None,
                 batch: int = 500, show: bool = True) -> TerminalClient:
    """Send messages at `speed`× their own pace (None: as fast as possible)."""
    client = TerminalClient(url, token)
    started, t0 = time.monotonic(), msgs[0]["ts"] if msgs else 0.0
    i = 0
    while i < len(msgs):
        if speed:
            due = started + (msgs[i]["ts"] - t0) / speed
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            horizon = t0 + (time.monotonic() - started) * speed
            j = i
            while j < len(msgs) and j - i < batch and msgs[j]["ts"] <= horizon:
                j += 1
            j = max(j, i + 1)
        else:
            j = min(len(msgs), i + batch)
        await client.deliver(msgs[i:j])
        i = j
        if show:
            progress(i, len(msgs), started, client.nacked)
    if show:
        sys.stderr.write("\n")
    await client.close()
    return client


def summary(client: TerminalClient, total: int) -> str:
    """The closing line of a replay."""
    errors = "; ".join(sorted(set(client.errors))[:5])
    return (f"replayed {total} messages: {client.acked} acked, {client.nacked} refused"
            + (f" ({errors})" if errors else ""))


def count_types(msgs: list[Mapping[str, Any]]) -> dict[str, int]:
    """How many messages of each type a log holds."""
    out: dict[str, int] = {}
    for m in msgs:
        out[m["type"]] = out.get(m["type"], 0) + 1
    return out
