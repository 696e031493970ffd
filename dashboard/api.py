"""The JSON API under /api/v1 and /health; every answer scoped to the caller."""
from __future__ import annotations

import time
from typing import Any

import flask
import orjson
import redis

from dashboard.openapi import OPENAPI
from dashboard.views import Snapshots
from domain.access import User
from domain.model import Status
from domain.regions import Level, level_of, town_of
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.live.summary import child_stats, officer_counts, region_counts

LEVELS = ("green", "yellow", "red")
STATUSES = tuple(s.value for s in Status)


def _json(data: Any, status: int = 200) -> flask.Response:
    return flask.Response(orjson.dumps(data), status, {"Content-Type": "application/json"})


def _error(status: int, message: str) -> flask.Response:
    return _json({"error": message}, status)


def _region(ctx: CityContext, user: User) -> str | flask.Response:
    code = flask.request.args.get("region") or user.scope
    if code not in ctx.hierarchy:
        return _error(404, f"unknown region {code}")
    if not user.may_see_region(code):
        return _error(403, "region outside your scope")
    return code


def blueprint(ctx: CityContext, client: redis.Redis, snaps: Snapshots) -> flask.Blueprint:
    """The API routes."""
    bp = flask.Blueprint("api", __name__)
    h = ctx.hierarchy

    @bp.get("/health")
    def health() -> flask.Response:
        try:
            lag = reads.last_entry_age(client, ctx.towns)
            pending = reads.pending_count(client, ctx.towns)
        except redis.RedisError as e:
            return _json({"status": "down", "error": f"redis: {e}"}, 503)
        return _json({"status": "ok", "feed_lag_s": None if lag is None else round(lag, 3),
                      "worker_pending": pending, "time": time.time()})

    @bp.get("/api/v1/openapi.json")
    def openapi() -> flask.Response:
        return _json(OPENAPI)

    @bp.get("/api/v1/summary")
    def summary() -> flask.Response:
        user: User = flask.g.user
        code = _region(ctx, user)
        if isinstance(code, flask.Response):
            return code
        st = snaps.live_state(code, user)
        c = region_counts(code, st["counts"])
        o = officer_counts(code, st["officers"].values(), time.time())
        region = h[code]
        kids = child_stats(code, h, st["counts"])
        return _json({
            "region": {"code": code, "name": region.name, "level": region.level.value},
            "counts": {"towns": _count(h, code, Level.TOWN),
                       "villages": _count(h, code, Level.VILLAGE),
                       "grids": _count(h, code, Level.GRID),
                       "officers": o["officers"], "officers_online": o["online"],
                       "officers_on_duty": o["on_duty"],
                       "incidents_open": {k: c[k] for k in LEVELS},
                       "incidents_overdue": c["overdue"], "incidents_new_today": c["new"]},
            "children": [{"code": k, "name": h[k].name, "level": h[k].level.value,
                          "alert": s["level"], "incidents_open": {x: s[x] for x in LEVELS}}
                         for k, s in kids.items()],
            "as_of": time.time()})

    @bp.get("/api/v1/incidents")
    def incidents() -> flask.Response:
        user: User = flask.g.user
        code = _region(ctx, user)
        if isinstance(code, flask.Response):
            return code
        status, level = flask.request.args.get("status"), flask.request.args.get("level")
        if level and level not in LEVELS:
            return _error(400, f"level must be one of {', '.join(LEVELS)}")
        if status and status not in STATUSES:
            return _error(400, f"status must be one of {', '.join(STATUSES)}")
        items = snaps.live_state(code, user)["incidents"]
        out = [incident_to_json(i) for i in items
               if (not status or i.status.value == status) and (not level or i.level == level)]
        return _json({"region": code, "incidents": out, "as_of": time.time()})

    @bp.get("/api/v1/incidents/<incident_id>")
    def incident(incident_id: str) -> flask.Response:
        user: User = flask.g.user
        inc = reads.read_incident(client, incident_id)
        if inc is None:
            return _error(404, "no such incident")
        if not user.may_see_region(inc.grid) or not user.may_see_category(
                ctx.rules.get(inc.category)):
            return _error(403, "incident outside your scope")
        return _json(incident_to_json(inc))

    @bp.get("/api/v1/officers")
    def officers() -> flask.Response:
        user: User = flask.g.user
        code = _region(ctx, user)
        if isinstance(code, flask.Response):
            return code
        offs = snaps.live_state(code, user)["officers"]
        return _json({"region": code, "officers": [_officer(ctx, o) for o in offs.values()],
                      "as_of": time.time()})

    @bp.get("/api/v1/officers/<officer_id>")
    def officer(officer_id: str) -> flask.Response:
        user: User = flask.g.user
        rec = ctx.roster.get(officer_id)
        if rec is None:
            return _error(404, "no such officer")
        if not user.may_see_region(rec.grid):
            return _error(403, "officer outside your scope")
        st = reads.read_officers(client, [town_of(rec.grid)]).get(officer_id)
        return _json(_officer(ctx, st) if st else {"officer_id": officer_id, "name": rec.name,
                                                   "grid": rec.grid, "position": None,
                                                   "on_duty": False})

    return bp


def _count(h: Any, code: str, level: Level) -> int:
    if level_of(code) is level:
        return 1
    return h.count(code, level)


def _officer(ctx: CityContext, o: Any) -> dict[str, Any]:
    rec = ctx.roster[o.officer_id]
    pos = None if o.lon is None else {"lon": o.lon, "lat": o.lat, "ts": o.ts, "grid": o.grid,
                                      "battery": o.battery}
    return {"officer_id": o.officer_id, "name": rec.name, "grid": rec.grid, "position": pos,
            "on_duty": o.on_duty}
