"""Following the live streams against a real redis-server: a slow Redis reply is survived."""
from __future__ import annotations

import asyncio

import orjson

from feeds.live.follow import follow_live
from feeds.store import keys
from feeds.store.client import async_client


def test_follow_live_keeps_reading_after_redis_read_timeouts(redis_url):
    """A blocking XREAD longer than the socket timeout raises redis' TimeoutError (as a loaded
    machine does); the loop must retry, not die and silently stop the push channel."""
    stream = keys.live("441900101")

    async def go() -> list[dict]:
        slow = async_client(redis_url, socket_timeout=0.1)
        fast = async_client(redis_url)
        got: list[dict] = []
        stop = asyncio.Event()
        task = asyncio.create_task(follow_live(slow, {stream: "0-0"}, got.append, stop,
                                               block_ms=400, who="test"))
        await asyncio.sleep(1.5)  # several XREADs time out meanwhile
        assert not task.done(), task.exception()
        await fast.xadd(stream, {"m": orjson.dumps({"town": "441900101", "n": 1})})
        for _ in range(60):
            if got:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.wait_for(task, 5)
        await slow.aclose()
        await fast.aclose()
        return got

    assert asyncio.run(go()) == [{"town": "441900101", "n": 1}]
