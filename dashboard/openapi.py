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
            "400": _error_response("a parameter is not one of its allowed values"),
            "401": _error_response("login required"),
            "403": _error_response("outside the caller's scope"),
            "404": _error_response("no such region or item"),
            "429": _error_response("too many failed logins from this address; see Retry-After")}}}


def _error_response(description: str) -> dict[str, Any]:
    """An error answer: JSON {"error": "<reason>"}."""
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


def _q(name: str, desc: str, enum: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if enum:
        schema["enum"] = enum
    return {"name": name, "in": "query", "required": False, "description": desc,
            "schema": schema}


def _p(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


LEVELS = {"type": "object", "required": ["green", "yellow", "red"],
          "properties": {k: {"type": "integer", "minimum": 0} for k in ("green", "yellow", "red")}}
ALERT = {"type": "string", "enum": ["green", "yellow", "red"]}
REGION_LEVEL = {"type": "string", "enum": ["city", "town", "village", "grid"]}
COUNT = {"type": "integer", "minimum": 0}
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
            "Error": {"type": "object", "required": ["error"],
                      "properties": {"error": {"type": "string"}}},
            "Summary": {"type": "object", "required": ["region", "counts", "children", "as_of"],
                        "properties": {
                "region": {"type": "object", "required": ["code", "name", "level"],
                           "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                          "level": REGION_LEVEL}},
                "counts": {"type": "object", "required": [
                    "towns", "villages", "grids", "officers", "officers_online",
                    "incidents_open"], "properties": {
                    "towns": COUNT, "villages": COUNT, "grids": COUNT, "officers": COUNT,
                    "officers_online": COUNT, "officers_on_duty": COUNT,
                    "incidents_open": LEVELS, "incidents_overdue": COUNT,
                    "incidents_new_today": COUNT}},
                "children": {"type": "array", "items": {
                    "type": "object", "required": ["code", "name", "level", "alert",
                                                   "incidents_open"],
                    "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                                   "level": REGION_LEVEL, "alert": {"type": ["string", "null"]},
                                   "incidents_open": LEVELS}}},
                "as_of": {"type": "number"}}},
            "Incident": {"type": "object", "required": [
                "incident_id", "category", "title", "status", "level", "lat", "lon", "grid",
                "reported_ts"], "properties": {
                "incident_id": {"type": "string"}, "category": {"type": "string"},
                "title": {"type": "string"}, "description": {"type": "string"},
                "status": {"type": "string", "enum": STATUSES}, "level": ALERT,
                "severity": {"type": "integer"},
                "lat": {"type": "number"}, "lon": {"type": "number"},
                "grid": {"type": "string"}, "reported_ts": {"type": "number"}}},
            "Incidents": {"type": "object", "required": ["region", "incidents", "as_of"],
                          "properties": {
                "region": {"type": "string"}, "as_of": {"type": "number"},
                "incidents": {"type": "array",
                              "items": {"$ref": "#/components/schemas/Incident"}}}},
            "Officer": {"type": "object", "required": ["officer_id", "name", "grid", "on_duty",
                                                      "position"], "properties": {
                "officer_id": {"type": "string"}, "name": {"type": "string"},
                "grid": {"type": "string"}, "on_duty": {"type": "boolean"},
                "position": {"oneOf": [{"type": "null"}, {
                    "type": "object", "required": ["lon", "lat", "ts"], "properties": {
                        "lon": {"type": "number"}, "lat": {"type": "number"},
                        "ts": {"type": ["number", "null"]},
                        "grid": {"type": ["string", "null"]},
                        "battery": {"type": ["number", "null"]}}}]}}},
            "Officers": {"type": "object", "required": ["region", "officers", "as_of"],
                         "properties": {
                "region": {"type": "string"}, "as_of": {"type": "number"},
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
