"""Export history from Redis streams to Parquet, before the streams' age trim drops it."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson
import pandas as pd
import redis

from feeds.store import keys

log = logging.getLogger(__name__)

BATCH = 10_000
COLUMNS = ("stream_id", "type", "msg_id", "officer_id", "ts", "lon", "lat", "grid",
           "accuracy_m", "speed_mps", "heading_deg", "battery", "on_duty", "incident_id",
           "category", "title", "description", "severity", "status", "note", "level",
           "action", "by")


def _entries(client: redis.Redis, stream: str, start: str, end: str
             ) -> Iterable[tuple[str, dict]]:
    cursor = start
    while True:
        chunk = client.xrange(stream, min=cursor, max=end, count=BATCH)
        if not chunk:
            return
        for eid, fields in chunk:
            yield eid.decode(), orjson.loads(fields[b"m"])
        last = chunk[-1][0].decode()
        ms, seq = last.split("-")
        cursor = f"{ms}-{int(seq) + 1}"


def export_stream(client: redis.Redis, stream: str, end_ts: float, out: Path,
                  since_id: str = "-") -> tuple[int, str | None]:
    """Write a stream's entries up to end_ts to one Parquet file; (rows, last id)."""
    rows = [{"stream_id": eid, **{k: m.get(k) for k in COLUMNS[1:]}}
            for eid, m in _entries(client, stream, since_id, str(int(end_ts * 1000)))]
    if not rows:
        return 0, None
    out.parent.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    df.to_parquet(out, index=False)
    return len(rows), rows[-1]["stream_id"]


def export_history(client: redis.Redis, towns: Iterable[str], out_dir: Path, end_ts: float,
                   progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Export every town's position and case streams up to end_ts, continuing where the
    last export stopped (its last id is kept in Redis); returns rows per stream."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(end_ts)) + f"{int(end_ts * 1000) % 1000:03d}"
    done: dict[str, int] = {}
    for town in towns:
        for kind, stream in (("positions", keys.positions(town)),
                             ("cases", keys.incidents_in(town))):
            since = client.hget(keys.EXPORTED, stream)
            start = "-" if since is None else _after(since.decode())
            n, last = export_stream(client, stream, end_ts,
                                    out_dir / kind / f"{town}-{stamp}.parquet", start)
            if last:
                client.hset(keys.EXPORTED, stream, last)
            done[stream] = n
            if progress:
                progress(stream, n)
    return done


def _after(stream_id: str) -> str:
    ms, seq = stream_id.split("-")
    return f"{ms}-{int(seq) + 1}"
