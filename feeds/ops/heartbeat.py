"""Heartbeats in Redis: a component says it is alive (and what it is ready for) every few
seconds; the readiness probe reads them."""
from __future__ import annotations

import logging
import time
from typing import Any

import orjson
import redis

from feeds.store import keys

log = logging.getLogger(__name__)

TTL_S = 120  # a heartbeat key outlives its staleness limit, then goes


def queue_beat(pipe: Any, component: str, name: str, **info: Any) -> Any:
    """Queue one heartbeat of `component` process `name` on a (sync or async) pipeline."""
    pipe.hset(keys.heartbeats(component), name, orjson.dumps({"ts": time.time(), **info}))
    pipe.expire(keys.heartbeats(component), TTL_S)
    return pipe


def beat(client: redis.Redis, component: str, name: str, **info: Any) -> None:
    """Publish one heartbeat of `component` process `name` (a Redis error is logged only)."""
    try:
        queue_beat(client.pipeline(transaction=False), component, name, **info).execute()
    except redis.RedisError as e:
        log.warning("heartbeat of %s %s not published: %s", component, name, e)


def newest(client: redis.Redis, component: str) -> float | None:
    """The time of the freshest heartbeat of `component` (None: there is none)."""
    beats = [orjson.loads(v)["ts"] for v in client.hvals(keys.heartbeats(component))]
    return max(beats) if beats else None


def age_on_host(client: redis.Redis, component: str, host: str) -> float | None:
    """Seconds since the freshest heartbeat of `component` from processes on `host` (None:
    none of them has published one)."""
    beats = [orjson.loads(v)["ts"] for k, v in client.hgetall(keys.heartbeats(component)).items()
             if k.decode().rpartition("-")[0] == host]
    return time.time() - max(beats) if beats else None
