"""The JSON API under /api/v1 and /health; every answer scoped to the caller."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import flask
import orjson
import pydantic
import redis

from dashboard.api_models import (
    ActionRequest,
    Answer,
    ChildSummary,
    CommandAccepted,
    Error,
    Health,
    Incident,
    IncidentDetail,
    Incidents,
    LevelCounts,
    Officer,
    Officers,
    Position,
    RegionDetail,
    RegionRef,
    Summary,
    SummaryCounts,
)
from dashboard.media_routes import attachment_rows
from dashboard.openapi import OPENAPI
from dashboard.views import Snapshots
from domain.access import User
from domain.alerts import LEVELS
from domain.cases import Action, ActionRefused
from domain.model import STATUSES
from domain.regions import Hierarchy, town_of
from feeds.live import reads
from feeds.live.commands import NotPermitted
from feeds.live.context import CityContext
from feeds.live.state import OfficerState
from feeds.live.summary import child_stats, officer_counts, region_counts

if TYPE_CHECKING:
    from dashboard.actions import Actions


def _json(data: Any, status: int = 200) -> flask.Response:
    return flask.Response(orjson.dumps(data), status, {"Content-Type": "application/json"})


def _answer(answer: Answer, status: int = 200) -> flask.Response:
    return _json(answer.wire(), status)


def _error(status: int, message: str) -> flask.Response:
    return _answer(Error(error=message), status)


def _counts(h: Hierarchy, code: str) -> dict[str, int]:
    """How many regions of each level lie at or below a region (itself counted as 1)."""
    keys = h.levels.keys[h.levels.index(h[code].level):]
    return {k: h.count(code, k) for k in keys}


def _bad_body(err: pydantic.ValidationError) -> str:
    parts = []
    for e in err.errors()[:3]:
        where = ".".join(str(p) for p in e["loc"]) or "body"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


class Api:
    """The API's answers for one city, its store and its snapshots."""

    def __init__(self, ctx: CityContext, client: redis.Redis, snaps: Snapshots,
                 actions: Actions | None = None):
        self.ctx, self.client, self.snaps, self.actions = ctx, client, snaps, actions

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

    def region_detail(self, code: str) -> flask.Response:
        """GET /api/v1/regions/<code>: names, level, path and children of a region in scope."""
        user: User = flask.g.user
        h = self.ctx.hierarchy
        if code not in h:
            return _error(404, f"unknown region {code}")
        if not user.may_see_region(code):
            return _error(403, "region outside your scope")
        r = h[code]

        def ref(c: str) -> RegionRef:
            return RegionRef(code=c, name=h[c].name, level=h[c].level)
        return _answer(RegionDetail(
            code=code, name=r.name, name_en=r.name_en, level=r.level,
            level_name=h.levels.name(r.level, "zh"), parent=r.parent,
            path=[ref(c) for c in reversed(h.ancestors(code))],
            children=[ref(c) for c in h.children_of(code)]))

    def counts(self, code: str, st: dict[str, Any]) -> SummaryCounts:
        """What a region and everything below it holds, from its live state."""
        h = self.ctx.hierarchy
        c = region_counts(code, st["counts"])
        o = officer_counts(code, st["officers"].values(), time.time())
        n = _counts(h, code)
        return SummaryCounts(
            towns=n.get(h.levels.shard, 0), villages=n.get(h.levels.above(h.levels.leaf), 0),
            grids=n.get(h.levels.leaf, 0), regions=n, officers=o["officers"],
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
        return _answer(IncidentDetail.with_attachments(inc, attachment_rows(self.client, inc)))

    def act(self, incident_id: str) -> flask.Response:
        """POST /api/v1/incidents/<id>/actions: the case page's action, as the caller
        (flask.g.user: HTTP Basic or a session with its CSRF token, checked by dashboard.auth;
        the bearer API tokens of issue 16 arrive the same way, as a user)."""
        user: User = flask.g.user
        try:
            req = ActionRequest.model_validate_json(flask.request.get_data() or b"{}")
        except pydantic.ValidationError as e:
            return _error(400, _bad_body(e))
        inc = reads.read_incident(self.client, incident_id)
        if inc is None:
            return _error(404, "no such incident")
        if not user.may_see_region(inc.grid) or not user.may_see_category(
                self.ctx.rules.get(inc.category)):
            return _error(403, "incident outside your scope")
        action = Action(req.action)
        refused = self.bad_input(user, action, req)
        if refused is not None:
            return refused
        if self.actions is None:
            return _error(404, "actions are not served here")
        try:
            cmd = self.actions.case_action(user, inc, action, req.officer_id, req.note.strip())
        except NotPermitted as e:
            return _error(403, str(e))
        except ActionRefused as e:
            return _error(409, str(e))
        return _answer(CommandAccepted(command_id=cmd), 202)

    def bad_input(self, user: User, action: Action, req: ActionRequest
                  ) -> flask.Response | None:
        """400 for what the request lacks, 403 for an officer outside the caller's scope."""
        if action is Action.ASSIGN:
            off = self.ctx.roster.get(req.officer_id)
            if off is None:
                return _error(400, f"officer_id: unknown officer {req.officer_id!r}"
                              if req.officer_id else "officer_id: assign needs an officer")
            if not user.may_see_region(off.grid):
                return _error(403, "officer outside your scope")
        elif req.officer_id:
            return _error(400, f"officer_id: only assign takes an officer, not {action.value}")
        if action is Action.NOTE and not req.note.strip():
            return _error(400, "note: a note needs text")
        return None

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


def blueprint(ctx: CityContext, client: redis.Redis, snaps: Snapshots,
              actions: Actions | None = None) -> flask.Blueprint:
    """The API routes (the actions route with `actions`, the page's own)."""
    bp = flask.Blueprint("api", __name__)
    api = Api(ctx, client, snaps, actions)
    bp.get("/health")(api.health)
    bp.get("/api/v1/openapi.json")(api.openapi)
    bp.get("/api/v1/summary")(api.summary)
    bp.get("/api/v1/regions/<code>")(api.region_detail)
    bp.get("/api/v1/incidents")(api.incidents)
    bp.get("/api/v1/incidents/<incident_id>")(api.incident)
    if actions is not None:
        bp.post("/api/v1/incidents/<incident_id>/actions")(api.act)
    bp.get("/api/v1/officers")(api.officers)
    bp.get("/api/v1/officers/<officer_id>")(api.officer)
    return bp
