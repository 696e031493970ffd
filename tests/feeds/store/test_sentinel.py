"""A redis+sentinel:// client against a real primary, replica and 3 sentinels: it writes and
reads, and after kill -9 of the primary it finds the promoted replica and carries on."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from feeds.store.client import async_client, is_cluster, sync_client
from tests.redis_sentinel import LocalSentinel

STREAM = "gw:test:sentinel"


@pytest.fixture()
def sentinel(tmp_path):
    """A primary with one replica and 3 sentinels (started by the test, stopped by PID)."""
    s = LocalSentinel(tmp_path).start()
    yield s
    s.stop()


def retry(call: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Call until Redis answers (a client meets the outage, then the new primary)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def aretry(call: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Await until Redis answers (the asyncio client through the same outage)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await call()
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


def test_clients_follow_the_primary_through_a_sentinel_failover(sentinel):
    sync, first = sync_client(sentinel.url), sentinel.primary_port()
    assert not is_cluster(sync)
    for i in range(50):
        sync.xadd(STREAM, {"n": i})
    assert sync.wait(1, 2000) == 1  # on the replica too: these survive the failover
    assert sync.xlen(STREAM) == 50

    async def before() -> Any:
        c = async_client(sentinel.url)
        await c.xadd(STREAM, {"n": "async"})
        assert await c.wait(1, 2000) == 1
        return c

    loop = asyncio.new_event_loop()
    aclient = loop.run_until_complete(before())
    sentinel.kill(first)
    second = sentinel.wait_promoted(first)
    assert second != first
    retry(lambda: sync.xadd(STREAM, {"n": "after"}))
    assert sync.xlen(STREAM) == 52
    assert sync.connection_pool.get_master_address() == ("127.0.0.1", second)
    loop.run_until_complete(aretry(lambda: aclient.xadd(STREAM, {"n": "async-after"})))
    assert loop.run_until_complete(aclient.xlen(STREAM)) == 53
    assert [e[1][b"n"] for e in sync.xrange(STREAM)][-3:] == [b"async", b"after",
                                                              b"async-after"]
    loop.run_until_complete(aclient.aclose())
    loop.close()
    sync.close()
