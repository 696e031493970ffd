"""Which officers' own devices (device token, OsmAnd tracker, field terminal) report lately."""
from __future__ import annotations

import time

import orjson
import redis

from feeds.store import keys

REAL_DEVICE_WINDOW_S = 600.0  # a device that reported this recently speaks for its officer


def recent_devices(client: redis.Redis, now: float | None = None,
                   window_s: float = REAL_DEVICE_WINDOW_S) -> dict[str, str]:
    """Officers whose own device reported within `window_s` → that report's source."""
    now = time.time() if now is None else now
    out = {}
    for oid, raw in client.hgetall(keys.DEVICE_SEEN).items():
        rec = orjson.loads(raw)
        if now - float(rec.get("ts", 0)) <= window_s:
            out[oid.decode()] = str(rec.get("source", ""))
    return out
