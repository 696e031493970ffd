"""Reads of the Redis state for snapshots and the API (writes belong to the worker)."""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson
import redis

from domain.model import Incident
from feeds.live.state import OfficerState, incident_from_json
from feeds.store import keys
from feeds.store.client import sync_client

CountsByTown = dict[str, dict[str, int]]


def connect(url: str) -> redis.Redis:
    """A Redis client for a URL: plain or cluster (see feeds.redis_client), values as bytes."""
    return sync_client(url)


def read_officers(client: redis.Redis, towns: Iterable[str]) -> dict[str, OfficerState]:
    """Last known state of the officers whose home grid lies in the given towns."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hgetall(keys.officers(t))
    out: dict[str, OfficerState] = {}
    for res in pipe.execute():
        for oid, raw in res.items():
            oid = oid.decode()
            out[oid] = OfficerState.from_json(oid, orjson.loads(raw))
    return out


def read_open_incidents(client: redis.Redis, towns: Iterable[str]) -> list[Incident]:
    """Open cases of the given towns, oldest first."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.zrange(keys.open_incidents(t), 0, -1)
    id_lists = pipe.execute()
    pipe = client.pipeline(transaction=False)
    for t, ids in zip(towns, id_lists, strict=True):
        if ids:
            pipe.hmget(keys.incidents(t), ids)
    out = []
    for raws in pipe.execute():
        out.extend(incident_from_json(orjson.loads(r)) for r in raws if r)
    return sorted(out, key=lambda i: i.reported_ts)


def read_incident(client: redis.Redis, incident_id: str) -> Incident | None:
    """One case by id, or None."""
    town = client.hget(keys.INCIDENT_TOWN, incident_id)
    if town is None:
        return None
    raw = client.hget(keys.incidents(town.decode()), incident_id)
    return incident_from_json(orjson.loads(raw)) if raw else None


def read_counts(client: redis.Redis, towns: Iterable[str]) -> CountsByTown:
    """Per-town case counts '<region>|<what>' → n."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hgetall(keys.counts(t))
    return {t: {k.decode(): int(v) for k, v in res.items()}
            for t, res in zip(towns, pipe.execute(), strict=True)}


def last_entry_age(client: redis.Redis, towns: Iterable[str], now: float | None = None
                   ) -> float | None:
    """Seconds since the newest entry of any town's position stream (None if empty)."""
    now = time.time() if now is None else now
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.xrevrange(keys.positions(t), count=1)
    newest = 0
    for res in pipe.execute():
        if res:
            newest = max(newest, int(res[0][0].split(b"-")[0]))
    return None if newest == 0 else max(0.0, now - newest / 1000)


def pending_count(client: redis.Redis, towns: Iterable[str]) -> int:
    """Entries read by the worker group but not yet acknowledged, over all towns."""
    pipe = client.pipeline(transaction=False)
    for t in towns:
        for s in (keys.positions(t), keys.incidents_in(t)):
            pipe.xpending(s, keys.WORKER_GROUP)
    total = 0
    for res in pipe.execute(raise_on_error=False):
        if isinstance(res, dict):
            total += res.get("pending", 0)
    return total


def dead_letters(client: redis.Redis, count: int = 50) -> list[dict[str, Any]]:
    """The newest refused messages with their reasons."""
    out = []
    for eid, fields in client.xrevrange(keys.DEAD_LETTER, count=count):
        rec = {k.decode(): v.decode() for k, v in fields.items()}
        rec["id"] = eid.decode()
        out.append(rec)
    return out


def nearest_officers(client: redis.Redis, towns: Iterable[str], lon: float, lat: float,
                     radius_km: float = 5.0, count: int = 10, on_duty_only: bool = True
                     ) -> list[tuple[OfficerState, float]]:
    """Officers nearest to a point (GEOSEARCH over the towns' sets), with distance in metres."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.geosearch(keys.officers_geo(t), longitude=lon, latitude=lat, radius=radius_km,
                       unit="km", sort="ASC", count=count * 3, withdist=True)
    found: list[tuple[str, str, float]] = []
    for t, hits in zip(towns, pipe.execute(), strict=True):
        found.extend((t, oid.decode(), float(dist) * 1000) for oid, dist in hits)
    found.sort(key=lambda x: x[2])
    pipe = client.pipeline(transaction=False)
    for t, oid, _ in found:
        pipe.hget(keys.officers(t), oid)
    out = []
    for (_, oid, dist), raw in zip(found, pipe.execute(), strict=True):
        if raw is None:
            continue
        st = OfficerState.from_json(oid, orjson.loads(raw))
        if st.on_duty or not on_duty_only:
            out.append((st, dist))
        if len(out) >= count:
            break
    return out


def audit_entries(client: redis.Redis, count: int = 100, target: str | None = None
                  ) -> list[dict[str, str]]:
    """The newest audit entries, optionally only those about one target."""
    out = []
    for eid, fields in client.xrevrange(keys.AUDIT, count=count if target is None else 10_000):
        rec = {k.decode(): v.decode() for k, v in fields.items()}
        if target is None or rec.get("target") == target:
            rec["id"] = eid.decode()
            out.append(rec)
        if len(out) >= count:
            break
    return out
