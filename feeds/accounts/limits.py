"""Failure counters that pause a client after too many tries (sign-in, pairing): one window
per counter, started at its first failure."""
from __future__ import annotations

from collections.abc import Sequence

import redis

Counter = tuple[str, int]  # (Redis key, failures allowed in the window)


def wait_s(client: redis.Redis, counters: Sequence[Counter]) -> int:
    """Seconds until every counter is under its limit again (0: now)."""
    pipe = client.pipeline(transaction=False)
    for key, _ in counters:
        pipe.get(key)
        pipe.ttl(key)
    res = pipe.execute()
    wait = 0
    for i, (_, limit) in enumerate(counters):
        count, ttl = int(res[2 * i] or 0), res[2 * i + 1]
        if count >= limit:
            wait = max(wait, ttl if ttl and ttl > 0 else 1)
    return wait


def count_failure(client: redis.Redis, counters: Sequence[Counter], window_s: int) -> None:
    """One more failure on each counter (a new window starts at a counter's first)."""
    pipe = client.pipeline(transaction=False)
    for key, _ in counters:
        pipe.set(key, 0, ex=window_s, nx=True)
        pipe.incr(key)
    pipe.execute()
