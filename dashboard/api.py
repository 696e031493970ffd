"""The JSON API under /api/v1 and /health; every answer scoped to the caller."""
from __future__ import annotations

import time
from typing import Any

import flask
import orjson
import redis

from dashboard.api_models import (
    Answer,
    ChildSummary,
    Error,
    Health,
    Incident,
    Incidents,
    LevelCounts,
    Officer,
    Officers,
    Position,
    RegionRef,
    Summary,
    SummaryCounts,
)
from dashboard.openapi import OPENAPI
from dashboard.views import Snapshots
from domain.access import User
from domain.alerts import LEVELS
from domain.model import STATUSES
from domain.regions import Hierarchy, Level, level_of, town_of
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import OfficerState
from feeds.live.summary import child_stats, officer_counts, region_counts


def _json(data: Any, status: int = 200) -> flask.Response:
    return flask.Response(orjson.dumps(data), status, {"Content-Type": "application/json"})


def _answer(answer: Answer, status: int = 200) -> flask.Response:
    return _json(answer.wire(), status)


def _error(status: int, message: str) -> flask.Response:
    return _answer(Error(error=message), status)


def _count(h: Hierarchy, code: str, level: Level) -> int:
    if level_of(code) is level:
        return 1
    return h.count(code, level)


class Api:
    """The API's answers for one city, its store and its snapshots."""

    def __init__(self, ctx: CityContext, client: redis.Redis, snaps: Snapshots):
        self.ctx, self.client, self.snaps = ctx, client, snaps

    def region(self, user: User) -> str | flask.Response:
        """The ?region= the caller asks for (default: their scope), or the error answer."""
        code = flask.request.args.get("region") or user.scope
        if code not in self.ctx.hierarchy:
            return _error(404, f"unknown region {code}")
        if not user.may_see_region(code):
            return _error(403, "region outside your scope")
        return code

    def health(self) -> flask.Response:
        """GET /health: feed lag and worker backlog (no login)."""
        try:
            lag = reads.last_entry_age(self.client, self.ctx.towns)
            pending = reads.pending_count(self.client, self.ctx.towns)
        except redis.RedisError as e:
            return _answer(Health(status="down", error=f"redis: {e}"), 503)
        return _answer(Health(status="ok", feed_lag_s=None if lag is None else round(lag, 3),
                              worker_pending=pending, time=time.time()))

    def openapi(self) -> flask.Response:
        """GET /api/v1/openapi.json."""
        return _json(OPENAPI)

    def summary(self) -> flask.Response:
        """GET /api/v1/summary?region=."""
        user: User = flask.g.user
        code = self.region(user)
        if isinstance(code, flask.Response):
            return code
        st = self.snaps.live_state(code, user)
        h = self.ctx.hierarchy
        children = [ChildSummary(code=k, name=h[k].name, level=h[k].level, alert=s["level"],
                                 incidents_open=LevelCounts.of(s))
                    for k, s in child_stats(code, h, st["counts"]).items()]
        return _answer(Summary(region=RegionRef(code=code, name=h[code].name,
                                                level=h[code].level),
                               counts=self.counts(code, st), children=children,
                               as_of=time.time()))

    def counts(self, code: str, st: dict[str, Any]) -> SummaryCounts:
        """What a region and everything below it holds, from its live state."""
        h = self.ctx.hierarchy
        c = region_counts(code, st["counts"])
        o = officer_counts(code, st["officers"].values(), time.time())
        return SummaryCounts(
            towns=_count(h, code, Level.TOWN), villages=_count(h, code, Level.VILLAGE),
            grids=_count(h, code, Level.GRID), officers=o["officers"],
            officers_online=o["online"], officers_on_duty=o["on_duty"],
            incidents_open=LevelCounts.of(c), incidents_overdue=c["overdue"],
            incidents_new_today=c["new"])

    def incidents(self) -> flask.Response:
        """GET /api/v1/incidents?region=&status=&level=."""
        user: User = flask.g.user
        code = self.region(user)
        if isinstance(code, flask.Response):
            return code
        status, level = flask.request.args.get("status"), flask.request.args.get("level")
        if level and level not in LEVELS:
            return _error(400, f"level must be one of {', '.join(LEVELS)}")
        if status and status not in STATUSES:
            return _error(400, f"status must be one of {', '.join(STATUSES)}")
        items = self.snaps.live_state(code, user)["incidents"]
        out = [Incident.of(i) for i in items
               if (not status or i.status == status) and (not level or i.level == level)]
        return _answer(Incidents(region=code, incidents=out, as_of=time.time()))

    def incident(self, incident_id: str) -> flask.Response:
        """GET /api/v1/incidents/<id>."""
        user: User = flask.g.user
        inc = reads.read_incident(self.client, incident_id)
        if inc is None:
            return _error(404, "no such incident")
        if not user.may_see_region(inc.grid) or not user.may_see_category(
                self.ctx.rules.get(inc.category)):
            return _error(403, "incident outside your scope")
        return _answer(Incident.of(inc))

    def officers(self) -> flask.Response:
        """GET /api/v1/officers?region=."""
        user: User = flask.g.user
        code = self.region(user)
        if isinstance(code, flask.Response):
            return code
        offs = self.snaps.live_state(code, user)["officers"]
        return _answer(Officers(region=code, officers=[self.officer_of(o) for o in offs.values()],
                                as_of=time.time()))

    def officer(self, officer_id: str) -> flask.Response:
        """GET /api/v1/officers/<id>."""
        user: User = flask.g.user
        rec = self.ctx.roster.get(officer_id)
        if rec is None:
            return _error(404, "no such officer")
        if not user.may_see_region(rec.grid):
            return _error(403, "officer outside your scope")
        st = reads.read_officers(self.client, [town_of(rec.grid)]).get(officer_id)
        return _answer(self.officer_of(st) if st else Officer(
            officer_id=officer_id, name=rec.name, grid=rec.grid, position=None, on_duty=False))

    def officer_of(self, o: OfficerState) -> Officer:
        """The answer for one officer's live state."""
        rec = self.ctx.roster[o.officer_id]
        pos = None if o.lon is None else Position(lon=o.lon, lat=o.lat, ts=o.ts, grid=o.grid,
                                                  battery=o.battery)
        return Officer(officer_id=o.officer_id, name=rec.name, grid=rec.grid, position=pos,
                       on_duty=o.on_duty)


def blueprint(ctx: CityContext, client: redis.Redis, snaps: Snapshots) -> flask.Blueprint:
    """The API routes."""
    bp = flask.Blueprint("api", __name__)
    api = Api(ctx, client, snaps)
    bp.get("/health")(api.health)
    bp.get("/api/v1/openapi.json")(api.openapi)
    bp.get("/api/v1/summary")(api.summary)
    bp.get("/api/v1/incidents")(api.incidents)
    bp.get("/api/v1/incidents/<incident_id>")(api.incident)
    bp.get("/api/v1/officers")(api.officers)
    bp.get("/api/v1/officers/<officer_id>")(api.officer)
    return bp
