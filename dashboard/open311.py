"""Open311 GeoReport v2 under /open311/v2/: citizens' service requests become cases."""
from __future__ import annotations

import hmac
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import flask
import orjson
import redis

from domain.model import Incident
from feeds.ingest.intake import store_sync
from feeds.ingest.placement import Placer
from feeds.ingest.protocol import Refused, decode_one
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.store import keys

log = logging.getLogger(__name__)

REPORTER = "open311"
PREFIX = "/open311/v2"


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(
        timespec="seconds").replace("+00:00", "Z")


def _reply(data: Any, status: int = 200) -> flask.Response:
    return flask.Response(orjson.dumps(data), status, {"Content-Type": "application/json"})


def _errors(status: int, description: str) -> flask.Response:
    return _reply([{"code": status, "description": description}], status)


def service_request(inc: Incident, ctx: CityContext) -> dict[str, Any]:
    """A case in GeoReport v2's service-request form."""
    rule = ctx.rules.get(inc.category)
    notes = [e["note"] for e in inc.events if e.get("note")]
    return {"service_request_id": inc.incident_id,
            "status": "open" if inc.status.is_open else "closed",
            "status_notes": notes[-1] if notes else None,
            "service_name": rule.name_en if rule else inc.category,
            "service_code": inc.category, "description": inc.description,
            "agency_responsible": inc.town, "service_notice": None,
            "requested_datetime": _iso(inc.reported_ts),
            "updated_datetime": _iso(inc.updated_ts or inc.reported_ts),
            "expected_datetime": None, "address": None, "address_id": None, "zipcode": None,
            "lat": inc.lat, "long": inc.lon, "media_url": None,
            "level": inc.level.value}


def blueprint(ctx: CityContext, client: redis.Redis, api_key: str,
              placer: Callable[[], Placer]) -> flask.Blueprint:
    """The GeoReport v2 routes; every call needs the api_key."""
    bp = flask.Blueprint("open311", __name__, url_prefix=PREFIX)

    @bp.before_request
    def check_key() -> flask.Response | None:
        given = flask.request.values.get("api_key", "")
        if not api_key or not hmac.compare_digest(given.encode(), api_key.encode()):
            return _errors(403, "api_key missing or invalid")
        return None

    @bp.get("/services.json")
    def services() -> flask.Response:
        return _reply([{"service_code": code, "service_name": r.name_en,
                        "description": f"{r.name} / {r.name_en}", "metadata": False,
                        "type": "realtime", "keywords": code.replace("_", ","),
                        "group": "grid"} for code, r in ctx.rules.items()
                       if not r.sensitive])

    @bp.post("/requests.json")
    def create() -> flask.Response:
        return _create(ctx, client, placer())

    @bp.get("/requests.json")
    def list_requests() -> flask.Response:
        wanted = [i for i in flask.request.args.get("service_request_id", "").split(",") if i]
        status = flask.request.args.get("status")
        ids = wanted or [k.decode() for k in client.zrevrange(keys.OPEN311, 0, 999)]
        out = []
        for iid in ids[:1000]:
            inc = reads.read_incident(client, iid)
            if inc is None or inc.officer_id != REPORTER:
                continue
            req = service_request(inc, ctx)
            if status in (None, "", req["status"]):
                out.append(req)
        return _reply(out)

    @bp.get("/requests/<request_id>.json")
    def one(request_id: str) -> flask.Response:
        inc = reads.read_incident(client, request_id)
        if inc is None or inc.officer_id != REPORTER:
            return _errors(404, f"no service request {request_id}")
        return _reply([service_request(inc, ctx)])

    return bp


def _create(ctx: CityContext, client: redis.Redis, placer: Placer) -> flask.Response:
    v = flask.request.values
    code = v.get("service_code", "")
    rule = ctx.rules.get(code)
    if rule is None or rule.sensitive:
        return _errors(400, f"service_code: unknown service {code!r}")
    if not v.get("lat") or not v.get("long"):
        reason = ("address geocoding is not available: send lat and long"
                  if v.get("address_string") or v.get("address_id") else "lat and long required")
        return _errors(400, reason)
    now = time.time()
    description = (v.get("description") or "").strip()
    if v.get("media_url"):
        description = f"{description}\n{v['media_url']}".strip()
    iid = f"R{secrets.token_hex(6)}"
    msg = {"type": "incident", "msg_id": f"o311-{iid}", "incident_id": iid,
           "officer_id": REPORTER, "ts": now, "lat": v.get("lat"), "lon": v.get("long"),
           "category": code, "title": (description.splitlines() or [rule.name])[0][:80]
           or rule.name, "description": description[:4000]}
    try:
        msg["lat"], msg["lon"] = float(msg["lat"]), float(msg["lon"])
    except ValueError:
        return _errors(400, "lat/long: not numbers")
    item = decode_one(msg, now)
    routed = item if isinstance(item, Refused) else placer.route(item)
    [answer] = store_sync(client, [routed], f"open311@{flask.request.remote_addr}", now)
    if "nack" in answer:
        return _errors(400, str(answer["error"]))
    client.zadd(keys.OPEN311, {iid: now})
    log.info("open311 request %s (%s)", iid, code)
    return _reply([{"service_request_id": iid, "service_notice": rule.name_en,
                    "account_id": None}], 201)
