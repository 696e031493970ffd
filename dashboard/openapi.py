"""The OpenAPI 3.1 description of /api/v1 (served at /api/v1/openapi.json)."""
from __future__ import annotations

from typing import Any

from dashboard.video_routes import OPENAPI_PATHS


def _get(summary: str, params: list[dict[str, Any]], schema: str) -> dict[str, Any]:
    return {"get": {
        "summary": summary, "parameters": params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema}"}}}},
            "401": {"description": "login required"},
            "403": {"description": "outside the caller's scope"},
            "404": {"description": "no such region or item"}}}}


def _q(name: str, desc: str, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "required": False, "description": desc,
            "schema": schema}


def _p(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


LEVELS = {"type": "object", "properties": {k: {"type": "integer"} for k in
                                           ("green", "yellow", "red")}}
REGION = _q("region", "region code (default: the caller's scope)")
STATUSES = ["reported", "acknowledged", "dispatched", "on_scene", "resolved", "closed"]

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Gridwatch API", "version": "1"},
    "components": {
        "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                            "session": {"type": "apiKey", "in": "cookie",
                                        "name": "gw_session"}},
        "schemas": {
            "Summary": {"type": "object", "properties": {
                "region": {"type": "object"}, "counts": {"type": "object", "properties": {
                    "towns": {"type": "integer"}, "villages": {"type": "integer"},
                    "grids": {"type": "integer"}, "officers": {"type": "integer"},
                    "officers_online": {"type": "integer"}, "incidents_open": LEVELS}},
                "children": {"type": "array", "items": {"type": "object"}},
                "as_of": {"type": "number"}}},
            "Incident": {"type": "object", "properties": {
                "incident_id": {"type": "string"}, "category": {"type": "string"},
                "title": {"type": "string"}, "status": {"type": "string", "enum": STATUSES},
                "level": {"type": "string", "enum": ["green", "yellow", "red"]},
                "lat": {"type": "number"}, "lon": {"type": "number"},
                "grid": {"type": "string"}, "reported_ts": {"type": "number"}}},
            "Incidents": {"type": "object", "properties": {
                "incidents": {"type": "array",
                              "items": {"$ref": "#/components/schemas/Incident"}}}},
            "Officer": {"type": "object", "properties": {
                "officer_id": {"type": "string"}, "name": {"type": "string"},
                "grid": {"type": "string"}, "on_duty": {"type": "boolean"},
                "position": {"type": ["object", "null"]}}},
            "Officers": {"type": "object", "properties": {
                "officers": {"type": "array", "items": {"$ref": "#/components/schemas/Officer"}}}},
            "Health": {"type": "object", "properties": {
                "status": {"type": "string"}, "feed_lag_s": {"type": ["number", "null"]}}},
        }},
    "security": [{"basic": []}, {"session": []}],
    "paths": {
        "/api/v1/summary": _get("Counts of a region and its children", [REGION], "Summary"),
        "/api/v1/incidents": _get("Cases of a region", [
            REGION, _q("status", "case status", STATUSES),
            _q("level", "alert level", ["green", "yellow", "red"])], "Incidents"),
        "/api/v1/incidents/{incident_id}": _get("One case", [_p("incident_id")], "Incident"),
        "/api/v1/officers": _get("Officers of a region", [REGION], "Officers"),
        "/api/v1/officers/{officer_id}": _get("One officer", [_p("officer_id")], "Officer"),
        **OPENAPI_PATHS,
    },
}
