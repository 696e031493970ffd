"""/metrics and the probes of the web app against a real redis-server: who may scrape, what
the probes say about the heartbeats."""
from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role
from feeds.accounts import tokens
from feeds.live.context import CityContext
from feeds.ops import heartbeat
from feeds.ops.config import OpsConfig
from feeds.ops.metrics import positions_acked
from feeds.store.client import sync_client


def app_with(redis_url: str, city_ctx: CityContext, **ops: object):  # noqa: ANN201
    client = sync_client(redis_url)
    app = create_app(DashboardConfig(ops=OpsConfig(**ops)), city_ctx, client)
    return app.server.test_client(), client


@pytest.fixture()
def closed(redis_url: str, city_ctx: CityContext):  # noqa: ANN201
    """The app with loopback clients needing a token too (the way a remote scraper is)."""
    return app_with(redis_url, city_ctx, metrics_loopback=False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_metrics_need_a_city_scoped_api_token_when_not_open(closed, city_ctx):
    http, client = closed
    r = http.get("/metrics")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "API token" in r.get_json()["error"]
    assert http.get("/metrics", headers=bearer("gwt_not-a-token")).status_code == 401
    town = tokens.add_token(client, "town-scraper", Role.VIEWER, city_ctx.towns[0])
    r = http.get("/metrics", headers=bearer(town))
    assert r.status_code == 403 and "whole city" in r.get_json()["error"]
    city = tokens.add_token(client, "prometheus", Role.VIEWER, city_ctx.hierarchy.city.code)
    positions_acked().inc(3)
    r = http.get("/metrics", headers=bearer(city))
    assert r.status_code == 200 and r.content_type.startswith("text/plain")
    names = {f.name for f in text_string_to_metric_families(r.get_data(as_text=True))}
    assert "gridwatch_positions_acked" in names
    tokens.revoke_token(client, "prometheus")
    assert http.get("/metrics", headers=bearer(city)).status_code == 401


def test_metrics_open_to_loopback_by_default(redis_url, city_ctx):
    http, _ = app_with(redis_url, city_ctx)
    assert http.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert http.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    r = http.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert r.status_code == 401


def test_ready_names_the_missing_heartbeats(redis_url, city_ctx):
    http, client = app_with(redis_url, city_ctx, heartbeat_stale_s=5)
    r = http.get("/health/ready")
    assert r.status_code == 503
    checks = r.get_json()["checks"]
    assert checks["redis"] == {"ok": True} and checks["registry"] == {"ok": True}
    assert checks["worker"]["ok"] is False and "no worker heartbeat" in checks["worker"]["error"]
    assert "no gateway heartbeat" in checks["grid_index"]["error"]
    heartbeat.beat(client, "gateway", "g1")
    heartbeat.beat(client, "worker", "w1")
    r = http.get("/health/ready")
    assert r.status_code == 200 and r.get_json()["status"] == "ready"
    client.hset("hb:worker", "w1", b'{"ts": %f}' % (time.time() - 60))
    r = http.get("/health/ready")
    assert r.status_code == 503 and "heartbeat 60 s old" in r.get_json()["checks"]["worker"][
        "error"]
    assert http.get("/health/live").status_code == 200
    assert http.get("/health").status_code == 200  # stays as it was
