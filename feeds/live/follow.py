"""Following the towns' live streams (applied state changes) from their current ends."""
from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson
import redis.asyncio as aredis

from feeds.store import keys, slotread

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Any] | Any]
Decode = Callable[[bytes], Any]


async def live_ends(client: aredis.Redis, towns: Iterable[str]) -> dict[str, str]:
    """The id of the newest entry of each town's live stream ("0-0" for an empty one)."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.xrevrange(keys.live(t), count=1)
    return {keys.live(t): res[0][0].decode() if res else "0-0"
            for t, res in zip(towns, await pipe.execute(), strict=True)}


async def follow_live(client: aredis.Redis, ids: dict[str, str], handle: Handler,
                      stop: asyncio.Event, count: int = 1000, block_ms: int = 200,
                      who: str = "live", decode: Decode = orjson.loads) -> None:
    """XREAD the live streams from `ids` (kept up to date) and hand each frame, as `decode`
    reads it (domain.entries.decode_live: a typed LiveFrame), to `handle`, until `stop`;
    waits out a Redis outage, skips (and logs) an entry it cannot decode or apply."""
    while not stop.is_set():
        try:
            resp = await slotread.xread(client, ids, count=count, block_ms=block_ms)
        except aredis.RedisError as e:  # an outage or a slow reply must not end the loop
            log.warning("%s: redis unavailable (%s), retrying", who, e)
            await asyncio.sleep(1.0)
            continue
        for stream, items in resp or []:
            for eid, fields in items:
                ids[stream.decode()] = eid.decode()
                try:
                    done = handle(decode(fields[b"m"]))
                    if inspect.isawaitable(done):
                        await done
                except (KeyError, ValueError, TypeError) as e:
                    log.error("%s: skipping live entry %s: %s", who, eid, e)
                except Exception:  # a bug on one entry must not freeze every screen
                    log.exception("%s: failed on live entry %s; going on", who, eid)
