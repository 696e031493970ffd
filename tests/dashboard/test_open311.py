"""Open311 GeoReport v2 requests per the spec, against a real redis-server and worker."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig, WebConfig
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store.client import sync_client

KEY = "test-open311-key"


@pytest.fixture()
def o311(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    worker = StateWorker(client, CityState.with_roster(city_ctx.rules, city_ctx.roster),
                         city_ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    app = create_app(DashboardConfig(web=WebConfig(open311_key=KEY)), city_ctx, client)

    def apply() -> None:
        ids = {s: ">" for s in worker.streams}
        for _ in range(2):
            ids = worker.step(ids, block_ms=20)
    return app.server.test_client(), apply


def a_point(city_ctx: CityContext) -> tuple[float, float]:
    grid = city_ctx.hierarchy.children_of(city_ctx.hierarchy.children_of(city_ctx.towns[3])[0])[0]
    lon, lat = GridIndex(city_ctx.city).random_point(grid, np.random.default_rng(2))
    return to_datum(lon, lat, city_ctx.hierarchy.datum, "wgs84")


def test_services_list_our_categories_but_not_sensitive_ones(o311):
    http, _ = o311
    services = http.get(f"/open311/v2/services.json?api_key={KEY}").get_json()
    codes = {s["service_code"] for s in services}
    assert {"dispute", "fire", "environment"} <= codes
    assert not codes & {"mental_health", "community_correction"}
    assert all(s["type"] == "realtime" and s["metadata"] is False for s in services)


def test_a_citizen_request_becomes_a_case_and_reports_its_status(o311, city_ctx):
    http, apply = o311
    lon, lat = a_point(city_ctx)
    r = http.post("/open311/v2/requests.json", data={
        "api_key": KEY, "service_code": "environment", "lat": lat, "long": lon,
        "description": "垃圾堆积<script>x</script>\n三天没人清理",
        "media_url": "http://example.invalid/photo.jpg"})
    assert r.status_code == 201
    [created] = r.get_json()
    rid = created["service_request_id"]
    apply()
    [req] = http.get(f"/open311/v2/requests/{rid}.json?api_key={KEY}").get_json()
    assert req["status"] == "open" and req["service_code"] == "environment"
    assert req["description"].startswith("垃圾堆积<script>") and req["lat"] != lat
    assert req["requested_datetime"].endswith("Z")
    listed = http.get(f"/open311/v2/requests.json?api_key={KEY}&status=open").get_json()
    assert [x["service_request_id"] for x in listed] == [rid]
    assert http.get(f"/open311/v2/requests.json?api_key={KEY}&status=closed").get_json() == []


@pytest.mark.parametrize(("data", "status", "reason"), [
    ({"api_key": "wrong", "service_code": "fire", "lat": 23, "long": 113.7}, 403, "api_key"),
    ({"service_code": "fire", "lat": 23, "long": 113.7}, 403, "api_key"),
    ({"api_key": KEY, "service_code": "aliens", "lat": 23, "long": 113.7}, 400, "service_code"),
    ({"api_key": KEY, "service_code": "fire", "address_string": "东城大道1号"}, 400,
     "geocoding"),
    ({"api_key": KEY, "service_code": "fire", "lat": 39.9, "long": 116.4}, 400, "outside"),
    ({"api_key": KEY, "service_code": "mental_health", "lat": 23, "long": 113.7}, 400,
     "service_code"),
])
def test_bad_requests_get_spec_errors(o311, data, status, reason):
    http, _ = o311
    r = http.post("/open311/v2/requests.json", data=data)
    assert r.status_code == status
    [err] = r.get_json()
    assert err["code"] == status and reason in err["description"]


def test_unknown_request_and_wrong_key_on_reads(o311):
    http, _ = o311
    assert http.get(f"/open311/v2/requests/NOPE.json?api_key={KEY}").status_code == 404
    assert http.get("/open311/v2/services.json?api_key=nope").status_code == 403
