"""Which URLs make a cluster client, and that the fixtures' Redis is the kind asked for."""
from __future__ import annotations

from feeds.store.client import client_url, cluster_url, is_cluster, sync_client
from tests.conftest import ON_CLUSTER


def test_cluster_urls_are_recognised_and_others_are_not():
    assert cluster_url("redis+cluster://10.0.0.1:7000") == "redis://10.0.0.1:7000"
    assert cluster_url("rediss+cluster://h:7000/0") == "rediss://h:7000/0"
    assert cluster_url("redis://h:6379/0") is None
    assert cluster_url("unix:///tmp/r.sock?db=0") is None
    # store.redis_cluster (GRIDWATCH_REDIS_CLUSTER=1): a plain URL is a cluster's
    assert cluster_url("redis://h:6379", cluster=True) == "redis://h:6379"
    assert cluster_url("unix:///tmp/r.sock", cluster=True) is None


def test_the_cluster_flag_turns_a_plain_url_into_its_cluster_form_once():
    assert client_url("redis://h:6379/0", cluster=True) == "redis+cluster://h:6379/0"
    assert client_url("rediss://h:6379", cluster=True) == "rediss+cluster://h:6379"
    assert cluster_url(client_url("redis://h:6379", cluster=True)) == "redis://h:6379"
    assert client_url("redis://h:6379") == "redis://h:6379"
    assert client_url("unix:///tmp/r.sock", cluster=True) == "unix:///tmp/r.sock"
    assert client_url("redis+cluster://h:7000", cluster=True) == "redis+cluster://h:7000"


def test_the_test_redis_is_a_cluster_exactly_on_the_cluster_pass(redis_url):
    client = sync_client(redis_url)
    assert is_cluster(client) == ON_CLUSTER
    if ON_CLUSTER:
        masters = [n for n in client.get_nodes() if n.server_type == "primary"]
        assert len(masters) == 3
        roles = client.info("replication", target_nodes=client.PRIMARIES)
        assert [r["connected_slaves"] for r in roles.values()] == [1, 1, 1]  # a replica each
    client.set("k", "v")
    assert client.get("k") == b"v"
    client.close()


def test_tests_make_clients_of_the_fixture_redis_through_the_factory():
    """A plain redis.Redis on the fixtures' URL breaks the cluster pass (make test-cluster)."""
    import re
    from pathlib import Path

    tests = Path(__file__).resolve().parents[2]
    bad = re.compile(r"Redis\.from_url\((redis_url|redis_server\.url|url)\b")
    offenders = [f"{p.relative_to(tests)}:{n}" for p in sorted(tests.rglob("*.py"))
                 for n, line in enumerate(p.read_text().splitlines(), 1) if bad.search(line)]
    assert offenders == [], "use feeds.store.client.sync_client/async_client: " + ", ".join(
        offenders)


def test_an_asyncio_client_serves_a_burst_beyond_its_pool(redis_url):
    """A burst of more waiting commands than the pool holds (the push channel's handshakes
    when every wall reconnects at once) waits for connections instead of failing."""
    import asyncio

    from feeds.store.client import ASYNC_POOL_MAX, async_client

    async def burst() -> list:
        c = async_client(redis_url)
        try:  # each BLPOP holds its connection for 0.2 s: the burst outnumbers the pool
            await c.ping()  # a cluster client learns its nodes first (the push hub bootstraps)
            return await asyncio.gather(*(c.blpop(f"gw:test:burst{{t}}{i}", timeout=0.2)
                                          for i in range(ASYNC_POOL_MAX + 150)))
        finally:
            await c.aclose()

    assert asyncio.run(burst()) == [None] * (ASYNC_POOL_MAX + 150)
