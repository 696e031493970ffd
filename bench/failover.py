"""The fault benchmark's stores with replicas and their failover phases: a Redis Cluster of 3
masters with a replica each (`master-failover`: kill -9 the master of the busiest town, its
replica is promoted) and one primary with a replica behind 3 sentinels (`sentinel-failover`:
kill -9 the primary, Sentinel promotes the replica)."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis

from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.embedded import EmbeddedRedis
from tests.redis_cluster import LocalCluster, is_master
from tests.redis_sentinel import LocalSentinel

STORES = ("single", "cluster", "sentinel")
PHASES = {"single": ("redis-kill9", "gateway-restart", "worker-kill9", "push-restart"),
          "cluster": ("master-failover", "gateway-restart", "worker-kill9"),
          "sentinel": ("sentinel-failover", "gateway-restart")}
NODE_TIMEOUT_MS = 2000  # how long a cluster takes to call a silent master dead


def start_store(kind: str, data_dir: Path) -> Any:
    """Start the Redis of a run (its object has `.url` and `.stop()`)."""
    if kind == "cluster":
        return LocalCluster(data_dir / "cluster", replicas=1,
                            node_timeout_ms=NODE_TIMEOUT_MS).start(60.0)
    if kind == "sentinel":
        return LocalSentinel(data_dir / "sentinel", appendfsync="always").start(60.0)
    return EmbeddedRedis(data_dir).start()


def busiest_town(ctx: CityContext) -> str:
    """The town with the most officers (the master that holds it is surely in use)."""
    return Counter(o.grid[:9] for o in ctx.roster.values()).most_common(1)[0][0]


def _writable(cluster: LocalCluster, key: str, old: int) -> bool:
    """Whether the key's slot has a new master that takes writes."""
    try:
        port = cluster.master_of(key)
        return port != old and is_master(cluster.host, port)
    except redis.RedisError:
        return False


async def master_failover(cluster: LocalCluster, ctx: CityContext,
                          timeout: float = 60.0) -> str:
    """kill -9 the master of the busiest town; wait until its replica took over; start the
    dead node again (it rejoins as a replica). Returns a note."""
    town = busiest_town(ctx)
    key = keys.positions(town)
    old = await asyncio.to_thread(cluster.master_of, key)
    killed = time.monotonic()
    cluster.kill(old)
    deadline = killed + timeout
    while not await asyncio.to_thread(_writable, cluster, key, old):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no replica took over town {town} in {timeout:.0f} s")
        await asyncio.sleep(0.2)
    promoted = time.monotonic() - killed
    new = await asyncio.to_thread(cluster.master_of, key)
    await asyncio.to_thread(cluster.restart, old)
    return (f"killed master :{old} of town {town}; replica :{new} promoted after "
            f"{promoted:.1f} s; the old master rejoined as a replica")


async def sentinel_failover(s: LocalSentinel, timeout: float = 60.0) -> str:
    """kill -9 the primary; wait until Sentinel names the promoted replica. A note."""
    old = await asyncio.to_thread(s.primary_port)
    killed = time.monotonic()
    s.kill(old)
    new = await asyncio.to_thread(s.wait_promoted, old, timeout)
    return f"killed primary :{old}; Sentinel promoted :{new} after " \
           f"{time.monotonic() - killed:.1f} s"
