"""The one place Redis clients are made: a Redis Cluster when the URL says so, plain otherwise.

`redis+cluster://host:port` (or `rediss+cluster://`, or any `redis://` URL when the caller
says `cluster=True`, from the config tree's `store.redis_cluster`) gives a cluster client that
discovers the other nodes from that one; `redis+sentinel://host1:26379,host2:26379/mymaster/0`
a plain client of the primary that those sentinels name (it asks them again after a
failover); any other URL (`redis://`, `rediss://`, `unix://`) a plain client.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import redis
import redis.asyncio as aredis
from redis.asyncio.cluster import ClusterPipeline as AsyncClusterPipeline
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.cluster import RedisCluster, key_slot
from redis.sentinel import Sentinel

from feeds.store.sentinel_url import SentinelURL, is_sentinel_url, parse_sentinel_url

log = logging.getLogger(__name__)

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
TIMEOUTS: dict[str, Any] = {"socket_timeout": 10}
# redis-py 8's pools hold at most 100 connections and raise "Too many connections" past that
# (200 walls reconnecting to the push channel at once got HTTP 500s). An asyncio client waits
# up to POOL_WAIT_S for a free connection instead; a cluster's per-node pools (which cannot
# wait) get room for CLUSTER_NODE_MAX each.
ASYNC_POOL_MAX = 512
CLUSTER_NODE_MAX = 4096
POOL_WAIT_S = 20.0


def cluster_url(url: str, cluster: bool = False) -> str | None:
    """The plain redis:// URL of a cluster URL, or None if the URL is not a cluster's;
    `cluster` says that a plain redis:// or rediss:// URL is a cluster's too."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    if scheme in CLUSTER_SCHEMES:
        return f"{CLUSTER_SCHEMES[scheme]}://{rest}"
    if cluster and scheme in ("redis", "rediss"):
        return url
    return None


def client_url(url: str, cluster: bool = False) -> str:
    """The URL every process makes its clients from: with `cluster`, a plain redis:// or
    rediss:// URL in its cluster form (redis+cluster://), so no process needs the flag."""
    scheme, sep, rest = url.partition("://")
    if cluster and sep and scheme in ("redis", "rediss"):
        return f"{scheme}+cluster://{rest}"
    return url


def is_cluster(client: Any) -> bool:
    """Whether a (sync or asyncio) client or pipeline talks to a Redis Cluster."""
    return isinstance(client, RedisCluster | AsyncRedisCluster | AsyncClusterPipeline)


class _BlockingSentinelPool(AsyncSentinelPool, BlockingConnectionPool):
    """The primary's connections, found through Sentinel, waiting when all are in use."""


def _sentinel_kwargs(u: SentinelURL) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sentinels' connection options and the primary's (its login and database)."""
    to_sentinels: dict[str, Any] = {"socket_timeout": 2.0}
    if u.sentinel_password:
        to_sentinels["password"] = u.sentinel_password
    to_primary = {"db": u.db, "username": u.username, "password": u.password}
    return to_sentinels, to_primary


def sentinel_sync_client(url: str, **kw: Any) -> redis.Redis:
    """A synchronous client of the primary a redis+sentinel:// URL names."""
    u = parse_sentinel_url(url)
    to_sentinels, to_primary = _sentinel_kwargs(u)
    sentinel = Sentinel(list(u.sentinels), sentinel_kwargs=to_sentinels)
    return sentinel.master_for(u.service, health_check_interval=30,
                               **{**TIMEOUTS, **to_primary, **kw})


def sentinel_async_client(url: str, **kw: Any) -> aredis.Redis:
    """An asyncio client of the primary a redis+sentinel:// URL names (a waiting pool)."""
    u = parse_sentinel_url(url)
    to_sentinels, to_primary = _sentinel_kwargs(u)
    sentinel = AsyncSentinel(list(u.sentinels), sentinel_kwargs=to_sentinels)
    return sentinel.master_for(u.service, connection_pool_class=_BlockingSentinelPool,
                               max_connections=kw.pop("max_connections", ASYNC_POOL_MAX),
                               timeout=POOL_WAIT_S, **{**to_primary, **kw})


def sync_client(url: str, *, cluster: bool = False, **kw: Any) -> redis.Redis:
    """A synchronous client for a URL (decode_responses off: values are JSON bytes)."""
    opts = {**TIMEOUTS, **kw}
    if is_sentinel_url(url):
        return sentinel_sync_client(url, **kw)
    plain = cluster_url(url, cluster)
    if plain is not None:
        return RedisCluster.from_url(plain, **opts)  # type: ignore[return-value]
    return redis.Redis.from_url(url, health_check_interval=30, **opts)


def async_client(url: str, *, cluster: bool = False, **kw: Any) -> aredis.Redis:
    """An asyncio client for a URL (no socket timeout: blocking reads wait)."""
    if is_sentinel_url(url):
        return sentinel_async_client(url, **kw)
    plain = cluster_url(url, cluster)
    if plain is not None:
        return AsyncRedisCluster.from_url(  # type: ignore[return-value]
            plain, **{"max_connections": CLUSTER_NODE_MAX, **kw})
    pool = BlockingConnectionPool.from_url(
        url, max_connections=kw.pop("max_connections", ASYNC_POOL_MAX), timeout=POOL_WAIT_S, **kw)
    return aredis.Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


def slot_of(key: str) -> int:
    """The cluster hash slot of a key (its {hash tag} when it has one)."""
    return key_slot(key.encode())


def by_slot(streams: Iterable[str]) -> list[list[str]]:
    """Keys grouped by hash slot (order kept), so that each group is one legal multi-key read."""
    groups: dict[int, list[str]] = {}
    for s in streams:
        groups.setdefault(slot_of(s), []).append(s)
    return list(groups.values())
