"""The OpenAPI 3.1 description of /api/v1, generated from the answers' models."""
from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from dashboard.api_models import (
    ANSWERS,
    REGION,
    Incident,
    Incidents,
    Officer,
    Officers,
    Operation,
    Param,
    Summary,
)
from dashboard.video_routes import OPERATIONS as VIDEO_OPERATIONS
from domain.alerts import LEVELS
from domain.model import STATUSES

REF = "#/components/schemas/{model}"
ERRORS = {400: "a parameter is not one of its allowed values", 401: "login required",
          403: "outside the caller's scope", 404: "no such region or item",
          429: "too many failed logins from this address; see Retry-After"}
OPERATIONS = (
    Operation("/api/v1/summary", "Counts of a region and its children", Summary, (REGION,)),
    Operation("/api/v1/incidents", "Cases of a region", Incidents, (
        REGION, Param("status", description="case status", enum=STATUSES),
        Param("level", description="alert level", enum=LEVELS))),
    Operation("/api/v1/incidents/{incident_id}", "One case", Incident,
              (Param("incident_id", "path"),)),
    Operation("/api/v1/officers", "Officers of a region", Officers, (REGION,)),
    Operation("/api/v1/officers/{officer_id}", "One officer", Officer,
              (Param("officer_id", "path"),)),
    *VIDEO_OPERATIONS,
)
SECURITY_SCHEMES = {"bearer": {"type": "http", "scheme": "bearer",
                               "description": "an API token (`gridwatch tokens add`)"},
                    "basic": {"type": "http", "scheme": "basic"},
                    "session": {"type": "apiKey", "in": "cookie", "name": "gw_session"}}


def schemas() -> dict[str, Any]:
    """components.schemas: every answer model and the models and enums they use."""
    _, top = models_json_schema([(m, "serialization") for m in ANSWERS], ref_template=REF)
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
    """The GET operation of one path: its parameters, answer and error answers."""
    responses = {"200": {"description": "OK", "content": _content(op.answer.__name__)}}
    for status in op.errors:
        responses[str(status)] = {"description": ERRORS[status], "content": _content("Error")}
    return {"get": {"summary": op.summary, "parameters": [parameter(p) for p in op.params],
                    "responses": responses}}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {"openapi": "3.1.0", "info": {"title": "Gridwatch API", "version": "1"},
            "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": schemas()},
            "security": [{"bearer": []}, {"basic": []}, {"session": []}],
            "paths": {op.path: path_item(op) for op in OPERATIONS}}


OPENAPI: dict[str, Any] = document()
