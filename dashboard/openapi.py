"""The OpenAPI 3.1 description of /api/v1, generated from the answers' models."""
from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from dashboard.api_models import (
    ANSWERS,
    REGION,
    REQUESTS,
    ActionRequest,
    CommandAccepted,
    IncidentDetail,
    Incidents,
    Officer,
    Officers,
    Operation,
    Param,
    RegionDetail,
    Summary,
)
from dashboard.video_api import OPERATIONS as VIDEO_EVENT_OPERATIONS
from dashboard.video_routes import OPERATIONS as VIDEO_OPERATIONS
from domain.alerts import LEVELS
from domain.model import STATUSES

REF = "#/components/schemas/{model}"
ERRORS = {400: "a parameter (or the request body) is not valid; `error` says why",
          401: "login required",
          403: "outside the caller's scope", 404: "no such region or item",
          409: "the action is not allowed in the case's present state",
          429: "too many failed logins from this address; see Retry-After"}
OPERATIONS = (
    Operation("/api/v1/summary", "Counts of a region and its children", Summary, (REGION,)),
    Operation("/api/v1/regions/{code}", "A region: its level, path and children", RegionDetail,
              (Param("code", "path"),)),
    Operation("/api/v1/incidents", "Cases of a region", Incidents, (
        REGION, Param("status", description="case status", enum=STATUSES),
        Param("level", description="alert level", enum=LEVELS))),
    Operation("/api/v1/incidents/{incident_id}", "One case with its photos", IncidentDetail,
              (Param("incident_id", "path"),)),
    Operation("/api/v1/officers", "Officers of a region", Officers, (REGION,)),
    Operation("/api/v1/officers/{officer_id}", "One officer", Officer,
              (Param("officer_id", "path"),)),
    Operation("/api/v1/incidents/{incident_id}/actions",
              "Act on a case (scoped and audited as the case page's buttons)", CommandAccepted,
              (Param("incident_id", "path"),), (400, 401, 403, 404, 409, 429), method="post",
              body=ActionRequest, status=202),
    *VIDEO_OPERATIONS,
    *VIDEO_EVENT_OPERATIONS,
)
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "an API token (`gridwatch tokens add`)"},
                    "basic": {"type": "http", "scheme": "basic"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "gw_session"}}


def schemas() -> dict[str, Any]:
    """components.schemas: every answer model and the models and enums they use."""
    _, top = models_json_schema([(m, "serialization") for m in ANSWERS]
                                + [(m, "validation") for m in REQUESTS], ref_template=REF)
    return top["$defs"]


def parameter(p: Param) -> dict[str, Any]:
    """An OpenAPI parameter object."""
    schema: dict[str, Any] = {"type": "string"}
    if p.enum:  # a filter given empty filters nothing, as if it were left out
        schema["enum"] = list(p.enum) + ([""] if p.where == "query" else [])
    if p.where == "path":
        return {"name": p.name, "in": "path", "required": True, "schema": schema}
    return {"name": p.name, "in": p.where, "required": False, "description": p.description,
            "schema": schema}


def _content(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF.format(model=model)}}}


def path_item(op: Operation) -> dict[str, Any]:
    """The operation of one path: its parameters, request body, answer and error answers."""
    ok = "Accepted" if op.status == 202 else "OK"
    responses = {str(op.status): {"description": ok, "content": _content(op.answer.__name__)}}
    for status in op.errors:
        responses[str(status)] = {"description": ERRORS[status], "content": _content("Error")}
    item: dict[str, Any] = {"summary": op.summary,
                            "parameters": [parameter(p) for p in op.params],
                            "responses": responses}
    if op.method != "get":
        item["description"] = ("HTTP Basic, or a session cookie with its CSRF token (cookie "
                               "_csrf_token) in the X-CSRFToken header.")
    if op.body is not None:
        item["requestBody"] = {"required": True, "content": _content(op.body.__name__)}
    return {op.method: item}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {"openapi": "3.1.0", "info": {"title": "Gridwatch API", "version": "1"},
            "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": schemas()},
            "security": [{"bearer": []}, {"basic": []}, {"session": []}],
            "paths": {op.path: path_item(op) for op in OPERATIONS}}


OPENAPI: dict[str, Any] = document()
