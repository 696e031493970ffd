"""Open311 GeoReport v2 requests per the spec, against a real redis-server and worker."""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig, WebConfig
from domain.access import Role, User
from domain.cases import Action
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.intake import make_placer, store_sync
from feeds.ingest.protocol import decode_one
from feeds.live import reads
from feeds.live.commands import send_action
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
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


NOTE = "已电话联系王五 13800138000"  # a staff note with a name and a phone number


def test_anyone_lists_services_in_their_language_without_sensitive_ones(o311):
    http, _ = o311
    by_lang = {}
    for query, headers in (("", {}), ("", {"Accept-Language": "zh-CN,zh;q=0.9"}),
                           ("", {"Accept-Language": "fr;q=1, en-US;q=0.8"}),
                           ("?locale=en", {"Accept-Language": "zh-CN"})):
        r = http.get(f"/open311/v2/services.json{query}", headers=headers)
        assert r.status_code == 200
        by_lang.setdefault(headers.get("Accept-Language", "") + query, {
            s["service_code"]: s for s in r.get_json()})
    zh, zh_cn, en, en_param = by_lang.values()
    assert zh == zh_cn and en == en_param
    assert zh["fire"]["service_name"] == "消防" and "消防" in zh["fire"]["description"]
    assert en["fire"]["service_name"] == "Fire" and "Fire" in en["fire"]["description"]
    assert not set(zh) & {"mental_health", "community_correction"}


def _sensitive_request(client, city_ctx, lat: float, lon: float) -> str:
    """An Open311 case in a sensitive category (as if re-filed by staff), stored directly."""
    now = time.time()
    item = decode_one({"type": "incident", "msg_id": "o311-RSENS", "incident_id": "RSENS",
                       "officer_id": "open311", "ts": now, "lat": lat, "lon": lon,
                       "category": "mental_health", "title": "邻居", "description": "邻居"}, now)
    store_sync(client, [make_placer(city_ctx, client).route(item)], "test", now)
    client.zadd(keys.OPEN311, {"RSENS": now})
    return "RSENS"


@pytest.fixture()
def acted_on(o311, redis_url, city_ctx):
    """A citizen's request a duty officer acknowledged and noted, and a sensitive one."""
    http, apply = o311
    client = sync_client(redis_url)
    lon, lat = a_point(city_ctx)
    r = http.post("/open311/v2/requests.json", data={
        "api_key": KEY, "service_code": "fire", "lat": lat, "long": lon,
        "description": "楼道堆放杂物 & <b>电动车</b>"})
    rid = r.get_json()[0]["service_request_id"]
    sens = _sensitive_request(client, city_ctx, lat, lon)
    apply()
    admin = User("duty-li", Role.ADMIN, city_ctx.hierarchy.city.code)
    send_action(client, admin, reads.read_incident(client, rid), city_ctx.rules,
                Action.ACKNOWLEDGE)
    send_action(client, admin, reads.read_incident(client, rid), city_ctx.rules, Action.NOTE,
                note=NOTE)
    apply()
    assert NOTE in str(reads.read_incident(client, rid).events)  # the note is on the case
    return http, rid, sens


def test_anyone_reads_a_status_without_sensitive_cases_or_personal_data(acted_on):
    http, rid, sens = acted_on
    listed = http.get("/open311/v2/requests.json", headers={"Accept-Language": "en"})
    assert listed.status_code == 200
    assert [x["service_request_id"] for x in listed.get_json()] == [rid]
    [req] = http.get(f"/open311/v2/requests/{rid}.json?locale=en").get_json()
    assert req["status"] == "open" and req["service_name"] == "Fire"
    assert req["status_notes"] == "Accepted, being scheduled" and "level" not in req
    [zh] = http.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert zh["status_notes"] == "已受理，正在安排处置" and zh["service_name"] == "消防"
    for body in (listed.get_data(as_text=True),
                 http.get(f"/open311/v2/requests/{rid}.json").get_data(as_text=True)):
        assert "13800138000" not in body and "王五" not in body and "duty-li" not in body
        assert sens not in body
    assert http.get(f"/open311/v2/requests/{sens}.json").status_code == 404


def test_with_the_key_reads_stay_as_they_were(acted_on):
    http, rid, sens = acted_on
    [req] = http.get(f"/open311/v2/requests/{rid}.json?api_key={KEY}").get_json()
    assert req["status_notes"] == NOTE and req["level"] == "red"
    listed = http.get(f"/open311/v2/requests.json?api_key={KEY}").get_json()
    assert {x["service_request_id"] for x in listed} == {rid, sens}


def test_submitting_needs_the_key_and_says_so(o311, city_ctx):
    http, _ = o311
    lon, lat = a_point(city_ctx)
    form = {"service_code": "fire", "lat": lat, "long": lon}
    r = http.post("/open311/v2/requests.json", data=form)
    assert r.status_code == 403
    assert r.get_json() == [{"code": 403,
                             "description": "api_key required to submit a service request"}]
    r = http.post("/open311/v2/requests.xml", data=form)
    root = ET.fromstring(r.data)
    assert r.status_code == 403 and r.mimetype == "text/xml" and root.tag == "errors"
    assert [(e.findtext("code"), e.findtext("description")) for e in root] == [
        ("403", "api_key required to submit a service request")]
    assert http.get("/open311/v2/requests.json").status_code == 200  # reading needs none


def test_xml_answers_use_the_spec_elements(acted_on, o311, city_ctx):
    http, rid, _ = acted_on
    root = ET.fromstring(http.get("/open311/v2/services.xml?locale=en").data)
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    fire = next(e for e in root if e.findtext("service_code") == "fire")
    assert fire.findtext("service_name") == "Fire" and fire.findtext("metadata") == "false"
    assert [c.tag for c in fire] == ["service_code", "service_name", "description",
                                     "metadata", "type", "keywords", "group"]
    root = ET.fromstring(http.get("/open311/v2/requests.xml").data)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    [req] = root
    assert req.findtext("service_request_id") == rid
    assert req.findtext("description") == "楼道堆放杂物 & <b>电动车</b>"  # escaped, read back
    assert req.findtext("status_notes") == "已受理，正在安排处置" and req.find("level") is None
    assert req.find("address").text is None  # empty element for a missing value
    one = ET.fromstring(http.get(f"/open311/v2/requests/{rid}.xml").data)
    assert one.find("request/service_request_id").text == rid
    lon, lat = a_point(city_ctx)
    r = http.post("/open311/v2/requests.xml", data={
        "api_key": KEY, "service_code": "dispute", "lat": lat, "long": lon, "locale": "en"})
    created = ET.fromstring(r.data)
    assert r.status_code == 201 and created.find("request/service_request_id").text
    assert created.findtext("request/service_notice") == "Your Dispute request was received"
    missing = http.get("/open311/v2/requests/NOPE.xml")
    err = ET.fromstring(missing.data)
    assert missing.status_code == 404 and err.tag == "errors"
    assert err.findtext("error/code") == "404" and "NOPE" in err.findtext("error/description")


def test_the_public_never_sees_a_phone_or_id_number_a_citizen_typed(o311, city_ctx):
    """The description is published, but the numbers in it that name a person are masked."""
    http, apply = o311
    lon, lat = a_point(city_ctx)
    text = "井盖丢失，联系 13912345678 或 0769-22123456，身份证 44190019900101123X"
    r = http.post("/open311/v2/requests.json", data={
        "api_key": KEY, "service_code": "safety_hazard", "lat": lat, "long": lon,
        "description": text})
    rid = r.get_json()[0]["service_request_id"]
    apply()
    [public] = http.get(f"/open311/v2/requests/{rid}.json").get_json()
    assert public["description"] == "井盖丢失，联系 *** 或 ***，身份证 ***"
    [keyed] = http.get(f"/open311/v2/requests/{rid}.json?api_key={KEY}").get_json()
    assert keyed["description"] == text
