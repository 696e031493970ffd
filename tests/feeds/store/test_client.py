"""Which URLs make a cluster client, and that the fixtures' Redis is the kind asked for."""
from __future__ import annotations

from feeds.store.client import cluster_url, is_cluster, sync_client
from tests.conftest import ON_CLUSTER


def test_cluster_urls_are_recognised_and_others_are_not(monkeypatch):
    monkeypatch.delenv("GRIDWATCH_REDIS_CLUSTER", raising=False)
    assert cluster_url("redis+cluster://10.0.0.1:7000") == "redis://10.0.0.1:7000"
    assert cluster_url("rediss+cluster://h:7000/0") == "rediss://h:7000/0"
    assert cluster_url("redis://h:6379/0") is None
    assert cluster_url("unix:///tmp/r.sock?db=0") is None
    monkeypatch.setenv("GRIDWATCH_REDIS_CLUSTER", "1")
    assert cluster_url("redis://h:6379") == "redis://h:6379"
    assert cluster_url("unix:///tmp/r.sock") is None


def test_the_test_redis_is_a_cluster_exactly_on_the_cluster_pass(redis_url):
    client = sync_client(redis_url)
    assert is_cluster(client) == ON_CLUSTER
    if ON_CLUSTER:
        masters = [n for n in client.get_nodes() if n.server_type == "primary"]
        assert len(masters) == 3
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
