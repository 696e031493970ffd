"""/api/v1/openapi.json is generated from the answers' models, and real answers conform."""
from __future__ import annotations

import base64
import time
from zoneinfo import ZoneInfo

import jsonschema_rs
import orjson
import pytest

from dashboard.api_models import ANSWERS
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.openapi import OPENAPI
from domain.access import Role
from domain.alerts import AlertLevel
from domain.model import Status
from domain.regions import town_of
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client

PW = "openapi-pass-1"
ACTIONS = "/api/v1/incidents/{incident_id}/actions"
PATHS = {"/api/v1/summary": "Summary", "/api/v1/regions/{code}": "RegionDetail",
         "/api/v1/incidents": "Incidents",
         "/api/v1/incidents/{incident_id}": "IncidentDetail", "/api/v1/officers": "Officers",
         "/api/v1/officers/{officer_id}": "Officer", "/api/v1/cameras": "Cameras",
         "/api/v1/video/events": "VideoEvents", "/api/v1/video/events/{event_id}": "VideoEvent"}


def validator(model: str) -> jsonschema_rs.Draft202012Validator:
    """A validator of one component schema, its $refs resolved in the whole document."""
    return jsonschema_rs.Draft202012Validator({**OPENAPI, "$ref": f"#/components/schemas/{model}"})


def test_every_answer_model_and_the_enums_they_use_are_components():
    schemas = OPENAPI["components"]["schemas"]
    assert {m.__name__ for m in ANSWERS} <= set(schemas)
    assert schemas["AlertLevel"]["enum"] == [lv.value for lv in AlertLevel]
    assert schemas["Status"]["enum"] == [s.value for s in Status]
    # a region's level is a key the city declares (data, not an enum): a described string
    assert schemas["RegionRef"]["properties"]["level"]["type"] == "string"
    assert "declares" in schemas["RegionRef"]["properties"]["level"]["description"]
    assert all("$defs" not in s for s in schemas.values())  # every $ref is a component


def test_paths_parameters_and_security_are_kept():
    assert OPENAPI["openapi"] == "3.1.0"
    assert set(OPENAPI["components"]["securitySchemes"]) == {"bearer", "basic", "session"}
    assert OPENAPI["security"] == [{"bearer": []}, {"basic": []}, {"session": []}]
    assert set(OPENAPI["paths"]) == set(PATHS) | {ACTIONS}
    for path, model in PATHS.items():
        op = OPENAPI["paths"][path]["get"]
        ok = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}
        assert {"401", "403", "404", "429"} <= set(op["responses"])
    params = {p["name"]: p for p in OPENAPI["paths"]["/api/v1/incidents"]["get"]["parameters"]}
    assert params["level"]["schema"]["enum"] == ["green", "yellow", "red", ""]  # "": any
    assert params["status"]["schema"]["enum"] == [s.value for s in Status] + [""]
    one = OPENAPI["paths"]["/api/v1/officers/{officer_id}"]["get"]["parameters"]
    assert one == [{"name": "officer_id", "in": "path", "required": True,
                    "schema": {"type": "string"}}]


@pytest.fixture()
def http(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    auth.add_user(client, "admin", PW, Role.ADMIN, "441900")
    officer = next(iter(city_ctx.roster.values()))
    town, now = town_of(officer.grid), time.time()
    worker = StateWorker(client, CityState.with_roster(city_ctx.rules, city_ctx.roster),
                         city_ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.apply([(keys.positions(town), b"0-0", {b"m": orjson.dumps(m)}) for m in (
        {"msg_id": "p", "ts": now, "type": "position", "officer_id": officer.officer_id,
         "lat": 23.0, "lon": 113.7, "battery": 40.0, "grid": officer.grid},
        {"msg_id": "i", "ts": now, "type": "incident", "incident_id": "OA1",
         "officer_id": officer.officer_id, "lat": 23.0, "lon": 113.7, "category": "fire",
         "title": "t", "description": "", "severity": 0, "grid": officer.grid})])
    client.hset(keys.INCIDENT_TOWN, "OA1", town)
    header = {"Authorization": "Basic " + base64.b64encode(f"admin:{PW}".encode()).decode()}
    return create_app(DashboardConfig(), city_ctx, client).server.test_client(), header, officer


def test_the_actions_route_is_a_post_with_its_body_and_answers():
    op = OPENAPI["paths"][ACTIONS]["post"]
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ActionRequest"}
    assert set(op["responses"]) == {"202", "400", "401", "403", "404", "409", "429"}
    body = OPENAPI["components"]["schemas"]["ActionRequest"]
    assert body["properties"]["action"]["enum"] == [
        "acknowledge", "assign", "escalate", "note", "resolve", "close", "reopen"]
    validator("ActionRequest").validate({"action": "assign", "officer_id": "O1"})
    assert not validator("ActionRequest").is_valid({"action": "on_scene"})


def test_real_answers_validate_against_the_generated_schemas(http):
    client, header, officer = http
    for url, model in (("/api/v1/summary", "Summary"), ("/api/v1/incidents", "Incidents"),
                       ("/api/v1/incidents/OA1", "IncidentDetail"),
                       ("/api/v1/officers", "Officers"),
                       (f"/api/v1/officers/{officer.officer_id}", "Officer"),
                       ("/api/v1/cameras", "Cameras"), ("/api/v1/summary?region=1", "Error"),
                       ("/health", "Health")):
        answer = client.get(url, headers=header).get_json()
        validator(model).validate(answer)
    assert client.get("/api/v1/openapi.json", headers=header).get_json() == OPENAPI
    r = client.post("/api/v1/incidents/OA1/actions", data=b'{"action":"acknowledge"}',
                    headers=header)
    assert r.status_code == 202
    validator("CommandAccepted").validate(r.get_json())
    listed = client.get("/api/v1/incidents", headers=header).get_json()["incidents"]
    assert [i["incident_id"] for i in listed] == ["OA1"] and listed[0]["level"] == "red"
