"""Video review pages: view-models from the store, the review and flag callbacks, and the
case page's camera and video helpers."""
from __future__ import annotations

import logging
from typing import Any

import dash
import flask
import redis
from dash import Input, Output, State

from dashboard.video_routes import camera_urls, clip_urls
from domain.access import User
from domain.model import Incident
from domain.regions import towns_covering
from domain.video import FLAG_ROLES, REVIEW_ROLES, FlaggedEvent, review_order
from feeds.live import reads
from feeds.live.commands import NotPermitted
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.video.registry import nearest_cameras, read_health
from feeds.video.store import (
    events_of_case,
    flag_case,
    mark_reviewed,
    read_clips,
    read_event,
    read_events,
)
from layouts import ids
from layouts.i18n import t
from layouts.video_view import (
    EVENT_STORE,
    FLAG_BUTTON,
    FLAG_MSG,
    REVIEW_BUTTON,
    REVIEW_MSG,
    REVIEW_NOTE,
    REVIEW_STATE,
    ClipTile,
    EventView,
    QueueRow,
    QueueView,
    case_video_card,
    event_page,
    flagged_message,
    queue_page,
    review_state,
    vt,
)

log = logging.getLogger(__name__)

QUEUE_LIMIT = 300


def towns_in(ctx: CityContext, code: str) -> list[str]:
    """The towns a region's data lives in."""
    return towns_covering(code, ctx.towns)


def event_visible(ctx: CityContext, user: User, ev: FlaggedEvent) -> bool:
    """Whether a user may see an event (its case's region and category)."""
    return user.may_see_region(ev.grid) and user.may_see_category(ctx.rules.get(ev.category))


def queue_view_model(ctx: CityContext, client: redis.Redis, user: User, lang: str) -> QueueView:
    """The review queue of the user's scope."""
    evs = [e for e in read_events(client, towns_in(ctx, user.scope))
           if event_visible(ctx, user, e)]
    rows = [QueueRow(e.event_id, e.incident_id, e.title, e.category, e.level, e.reason, e.by,
                     e.ts, e.status.value, len(e.clips), e.reviewed_by, e.reviewed_ts)
            for e in review_order(evs)[:QUEUE_LIMIT]]
    region = ctx.hierarchy[user.scope] if user.scope in ctx.hierarchy else None
    name = "" if region is None else (region.name if lang == "zh" else
                                      region.name_en or region.name)
    return QueueView(rows, name, lang)


def event_view_model(ctx: CityContext, client: redis.Redis, user: User, ev: FlaggedEvent,
                     lang: str) -> EventView:
    """One event's clips on a shared timeline, its case and its review state."""
    clips = read_clips(client, ev.clips)
    start = min((c.start_ts for c in clips), default=ev.ts - ev.pre_s)
    end = max((c.end_ts + 1 / c.fps for c in clips), default=ev.ts + ev.post_s)
    tiles = [ClipTile(c.clip_id, c.camera_id, c.camera_name, c.dist_m, **clip_urls(c.clip_id),
                      offset_s=c.start_ts - start, duration_s=c.frames / c.fps,
                      live_url=camera_urls(c.camera_id)["stream_url"]
                      if user.may_see_region(c.grid) else "")
             for c in clips]
    have = {c.camera_id for c in clips}
    inc = reads.read_incident(client, ev.incident_id)
    return EventView(ev.to_json(), incident_to_json(inc) if inc else None, tiles,
                     [c for c in ev.cameras if c not in have] if ev.status.value == "ready"
                     else [], start, max(0.1, end - start), user.role.value in REVIEW_ROLES,
                     lang)


def render_video_page(ctx: CityContext, client: redis.Redis, user: User, parts: list[str],
                      lang: str) -> Any:
    """The page of a /video path ([] or [event_id] after "video"); None if there is no such
    event, False if it is outside the user's scope."""
    if not parts:
        return queue_page(queue_view_model(ctx, client, user, lang))
    ev = read_event(client, parts[0]) if len(parts) == 1 else None
    if ev is None:
        return None
    if not event_visible(ctx, user, ev):
        return False
    return event_page(event_view_model(ctx, client, user, ev, lang))


def visible_incident(ctx: CityContext, client: redis.Redis, user: User,
                     incident_id: str) -> Incident | None:
    """A case the user may see (region and category), else None (no import of case_page,
    which may import this module)."""
    inc = reads.read_incident(client, incident_id) if incident_id else None
    if inc is None or not user.may_see_region(inc.grid) or not user.may_see_category(
            ctx.rules.get(inc.category)):
        return None
    return inc


def case_cameras(ctx: CityContext, client: redis.Redis, user: User, inc: Incident,
                 n: int = 4, radius_km: float = 5.0) -> list[dict[str, Any]]:
    """Rows for CaseView.cameras: the nearest cameras the user may see, with their state."""
    near = [(c, d) for c, d in nearest_cameras(client, ctx.towns, inc.lon, inc.lat, n * 2,
                                                radius_km) if user.may_see_region(c.grid)][:n]
    health = read_health(client, [c for c, _ in near])
    return [{"camera_id": c.camera_id, "name": c.name, "dist_m": d, "lon": c.lon, "lat": c.lat,
             "state": health[c.camera_id]["state"], **camera_urls(c.camera_id)}
            for c, d in near]


def case_video(ctx: CityContext, client: redis.Redis, user: User, inc: Incident,
               lang: str) -> Any:
    """The case page's video card: the case's flagged events and the flag button."""
    evs = [e.to_json() for e in events_of_case(client, inc)]
    return case_video_card(evs, user.role.value in FLAG_ROLES, lang)


def _refusal_key(e: Exception) -> str:
    if isinstance(e, KeyError):
        return "err.not_found"
    return "err.out_of_scope" if "scope" in str(e) else "err.not_permitted"


def register(app: dash.Dash, ctx: CityContext, client: redis.Redis) -> None:
    """The callbacks of the review page (reviewed + note) and of the case page's flag button."""

    @app.callback(Output(REVIEW_MSG, "children"), Output(REVIEW_STATE, "children"),
                  Input(REVIEW_BUTTON, "n_clicks"), State(REVIEW_NOTE, "value"),
                  State(EVENT_STORE, "data"), State(ids.ROOT, "data-lang"),
                  prevent_initial_call=True)
    def reviewed(clicks: int | None, note: str | None, data: dict[str, Any] | None,
                 lang: str | None) -> tuple[Any, Any]:
        if not clicks:
            raise dash.exceptions.PreventUpdate
        lang = lang or "zh"
        user: User = flask.g.user
        ev = read_event(client, (data or {}).get("event_id", ""))
        if ev is None or not event_visible(ctx, user, ev):
            return "✗ " + t("err.not_found", lang), dash.no_update
        try:
            ev = mark_reviewed(client, ev.event_id, user, note or "")
        except (NotPermitted, KeyError) as e:
            log.info("review of %s by %s refused: %r", ev.event_id, user.name, e)
            return "✗ " + t(_refusal_key(e), lang), dash.no_update
        return vt("review.saved", lang), review_state(ev.to_json(), lang)

    @app.callback(Output(FLAG_MSG, "children"), Input(FLAG_BUTTON, "n_clicks"),
                  State(ids.CASE_STORE, "data"), State(ids.ROOT, "data-lang"),
                  prevent_initial_call=True)
    def flag(clicks: int | None, data: dict[str, Any] | None, lang: str | None) -> Any:
        if not clicks:
            raise dash.exceptions.PreventUpdate
        lang = lang or "zh"
        user: User = flask.g.user
        inc = visible_incident(ctx, client, user, (data or {}).get("incident_id", ""))
        if inc is None:
            return "✗ " + t("err.not_found", lang)
        try:
            ev = flag_case(client, inc, user)
        except NotPermitted as e:
            log.info("flag of %s by %s refused: %s", inc.incident_id, user.name, e)
            return "✗ " + t(_refusal_key(e), lang)
        return flagged_message(ev.event_id, lang)
