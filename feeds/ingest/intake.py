"""Storing accepted messages from synchronous adapters (Open311, replay resubmits)."""
from __future__ import annotations

import time
import weakref

import redis

from domain.entries import encode
from feeds.geo.datum import to_datum, to_datum_arrays
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import (
    DEAD_LETTER_MAXLEN,
    DEDUP_XADD,
    SEEN_TTL_S,
    UNREPLICATED,
    dead_fields,
    script_call,
)
from feeds.ingest.placement import Placer, Routed
from feeds.ingest.protocol import Refused
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.replication import ReplicaWait

_WAITS: weakref.WeakKeyDictionary[redis.Redis, ReplicaWait] = weakref.WeakKeyDictionary()


def replica_wait(client: redis.Redis) -> ReplicaWait:
    """The client's own auto-mode ReplicaWait: its replica counts are read once per refresh
    period, not on every store."""
    if client not in _WAITS:
        _WAITS[client] = ReplicaWait(client)
    return _WAITS[client]


def store_sync(client: redis.Redis, results: list[Routed | Refused], source: str,
               now: float | None = None, replicas: ReplicaWait | None = None
               ) -> list[dict[str, str | None]]:
    """Store routed messages once each (same script as the gateway), dead-letter the rest;
    acks wait for the replicas as the gateway's do (`replicas`, default auto)."""
    now = time.time() if now is None else now
    replicas = replicas or replica_wait(client)
    replicas.refresh_sync()
    sha = client.script_load(DEDUP_XADD)
    pipe = client.pipeline(transaction=False)
    for r in results:
        if isinstance(r, Refused):
            pipe.xadd(keys.DEAD_LETTER, dead_fields(r, source, now), maxlen=DEAD_LETTER_MAXLEN,
                      approximate=True)
        else:
            script_call(pipe, sha, [r.stream, r.seen_key], [SEEN_TTL_S, encode(r.entry)])
            if r.incident_town:
                pipe.hset(keys.INCIDENT_TOWN, *r.incident_town)
    waits = replicas.queue(pipe, [r.stream for r in results if isinstance(r, Routed)])
    _, short = replicas.split(pipe.execute(), waits)
    return [{"nack": r.msg_id, "error": r.reason} if isinstance(r, Refused)
            else {"nack": r.msg_id, "error": UNREPLICATED} if short
            else {"ack": r.msg_id} for r in results]


def make_placer(ctx: CityContext, client: redis.Redis, index: GridIndex | None = None
                ) -> Placer:
    """A Placer for the city: WGS-84 in, grid lookup, cases' towns looked up in Redis."""
    index = index or GridIndex(ctx.city)
    datum = ctx.hierarchy.datum

    def incident_town(incident_id: str) -> str | None:
        town = client.hget(keys.INCIDENT_TOWN, incident_id)
        return town.decode() if town else None

    return Placer(index.locate, lambda lon, lat: to_datum(lon, lat, "wgs84", datum),
                  ctx.roster, frozenset(ctx.rules), incident_town,
                  to_datum_many=lambda lons, lats: to_datum_arrays(lons, lats, "wgs84", datum),
                  locate_many=index.locate_batch)
