"""XREAD / XREADGROUP over many towns' streams, legal on a Redis Cluster.

A cluster refuses a multi-key command whose keys lie in different hash slots (CROSSSLOT).
On plain Redis one blocking call reads every stream. On a cluster the streams are grouped
by slot (a town's streams share one: its hash tag) and each round sends one non-blocking
read per group in a single pipeline (redis-py sends it to every node at once); an idle
round sleeps `poll_s` (20 ms), so a new entry waits at most that long on top of one round.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from feeds.store.client import by_slot, is_cluster

POLL_S = 0.02

Response = list[Any]


def _flatten(replies: list[Any]) -> Response:
    return [item for rep in replies for item in (rep or [])]


def xreadgroup(client: Any, group: str, consumer: str, ids: dict[str, str], count: int,
               block_ms: int | None, poll_s: float = POLL_S) -> Response:
    """XREADGROUP of the streams in `ids`; a cluster's slots are read in one pipeline per round.
    block_ms None: answer at once."""
    groups = by_slot(ids) if is_cluster(client) else [list(ids)]
    if len(groups) == 1:
        return client.xreadgroup(group, consumer, ids, count=count, block=block_ms) or []
    deadline = time.monotonic() + (block_ms or 0) / 1000
    while True:
        pipe = client.pipeline(transaction=False)
        for g in groups:
            pipe.xreadgroup(group, consumer, {s: ids[s] for s in g}, count=count)
        resp = _flatten(pipe.execute())
        if resp or time.monotonic() >= deadline:
            return resp
        time.sleep(poll_s)


async def xread(client: Any, ids: dict[str, str], count: int, block_ms: int,
                poll_s: float = POLL_S) -> Response:
    """XREAD of the streams in `ids` (asyncio); a cluster's slots in one pipeline per round."""
    groups = by_slot(ids) if is_cluster(client) else [list(ids)]
    if len(groups) == 1:
        return await client.xread(ids, count=count, block=block_ms) or []
    deadline = time.monotonic() + block_ms / 1000
    while True:
        pipe = client.pipeline(transaction=False)
        for g in groups:
            pipe.xread({s: ids[s] for s in g}, count=count)
        resp = _flatten(await pipe.execute())
        if resp or time.monotonic() >= deadline:
            return resp
        await asyncio.sleep(poll_s)
