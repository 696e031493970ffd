"""Reads over many towns' streams: legal on a Redis Cluster, prompt on both kinds of Redis."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from redis.exceptions import RedisClusterException, ResponseError

from feeds.store import keys, slotread
from feeds.store.client import async_client, by_slot, is_cluster, slot_of, sync_client
from tests.conftest import ON_CLUSTER

TOWNS = [f"4419001{i:02d}" for i in range(1, 34)]


def test_a_towns_streams_share_one_slot_and_towns_spread_over_slots():
    t = TOWNS[0]
    assert len({slot_of(keys.positions(t)), slot_of(keys.incidents_in(t)), slot_of(keys.live(t)),
                slot_of(keys.seen(t, "m1")), slot_of(keys.track(t, "O1"))}) == 1
    groups = by_slot([keys.positions(t) for t in TOWNS] + [keys.incidents_in(t) for t in TOWNS])
    assert len(groups) == len(TOWNS) and all(len(g) == 2 for g in groups)


@pytest.mark.skipif(not ON_CLUSTER, reason="CROSSSLOT exists only on a cluster")
def test_one_read_over_many_towns_is_refused_by_the_cluster(redis_url):
    client = sync_client(redis_url)
    assert is_cluster(client)
    with pytest.raises((RedisClusterException, ResponseError), match="(?i)slot"):
        client.xread({keys.live(t): "0" for t in TOWNS})


def test_group_read_returns_every_towns_entries(redis_url):
    client = sync_client(redis_url)
    ids = {keys.positions(t): "0" for t in TOWNS}
    for s in ids:
        client.xgroup_create(s, "g", id="0", mkstream=True)
        client.xadd(s, {"m": s})
    got = slotread.xreadgroup(client, "g", "c1", {s: ">" for s in ids}, count=10, block_ms=500)
    assert sorted(s.decode() for s, items in got if items) == sorted(ids)
    pending = slotread.xreadgroup(client, "g", "c1", ids, count=10, block_ms=0)
    assert sum(len(items) for _, items in pending) == len(TOWNS)  # not acked yet: redelivered


def test_group_read_wakes_up_promptly_for_an_entry_in_any_town(redis_url):
    client = sync_client(redis_url)
    ids = {keys.positions(t): ">" for t in TOWNS}
    for s in ids:
        client.xgroup_create(s, "g", id="$", mkstream=True)
    last = keys.positions(TOWNS[-1])
    added: list[float] = []
    timer = threading.Timer(0.3, lambda: (added.append(time.monotonic()),
                                          client.xadd(last, {"m": "late"})))
    timer.start()
    started = time.monotonic()
    got = slotread.xreadgroup(client, "g", "c1", ids, count=10, block_ms=5000)
    done = time.monotonic()
    timer.join()
    assert [s.decode() for s, _ in got] == [last]
    # it waited for the entry and woke up soon after it was added (measured from the XADD,
    # not from when the timer was due: a busy machine starts the timer late)
    assert done - started > 0.25 and done - added[0] < 0.5


def test_async_read_follows_many_towns(redis_url):
    async def run() -> tuple[list[str], float, float]:
        client = async_client(redis_url)
        ids = {keys.live(t): "0-0" for t in TOWNS}
        for t in TOWNS[::4]:
            await client.xadd(keys.live(t), {"m": t})
        first = await slotread.xread(client, ids, count=10, block_ms=500)
        started, added = time.monotonic(), []

        async def late() -> None:
            added.append(time.monotonic())
            await client.xadd(keys.live(TOWNS[1]), {"m": "late"})

        asyncio.get_running_loop().call_later(0.3, lambda: asyncio.ensure_future(late()))
        for s, items in first:
            ids[s.decode()] = items[-1][0].decode()
        second = await slotread.xread(client, ids, count=10, block_ms=5000)
        done = time.monotonic()
        await client.aclose()
        names = sorted(s.decode() for s, _ in first) + [s.decode() for s, _ in second]
        return names, done - started, done - added[0]

    names, waited, after_add = asyncio.run(run())
    assert names == sorted(keys.live(t) for t in TOWNS[::4]) + [keys.live(TOWNS[1])]
    assert waited > 0.25 and after_add < 0.5  # from the XADD: see above
