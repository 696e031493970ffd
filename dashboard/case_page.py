"""The case page: its view-model from the store, and the callbacks of its actions."""
from __future__ import annotations

import logging
import time
from typing import Any

import dash
import flask
import redis
from dash import ALL, Input, Output, State

from dashboard import video_page
from domain.access import User
from domain.cases import Action, ActionRefused, allowed_actions, deadline
from domain.model import Incident
from domain.regions import ancestors_of, level_of, village_of
from feeds.live import reads
from feeds.live.commands import ACTING_ROLES, NotPermitted, send_action
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from layouts import ids
from layouts.case_view import (
    CaseView,
    action_panel,
    audit_list,
    case_details,
    case_page,
    timeline,
)
from layouts.i18n import category_name, has, t

log = logging.getLogger(__name__)


def nearest(ctx: CityContext, client: redis.Redis, inc: Incident, user: User
            ) -> list[dict[str, Any]]:
    """The on-duty officers nearest to a case whom the user may see, as plain rows."""
    rows = []
    for st, dist in reads.nearest_officers(client, ctx.towns, inc.lon, inc.lat):
        rec = ctx.roster.get(st.officer_id)
        if not user.may_see_region(rec.grid if rec else st.home):
            continue
        rows.append({"officer_id": st.officer_id, "name": rec.name if rec else st.officer_id,
                     "dist_m": dist, "lon": st.lon, "lat": st.lat})
    return rows


def _label(ctx: CityContext, category: str, lang: str) -> str:
    """A category's name: the catalogue's, else the configured rule's, else its code."""
    rule = ctx.rules.get(category)
    if has(f"cat.{category}") or rule is None:
        return category_name(category, lang)
    return rule.name if lang == "zh" else rule.name_en or rule.name


def _names(ctx: CityContext, inc: Incident, near: list[dict[str, Any]]) -> dict[str, str]:
    wanted = {inc.officer_id, inc.assignee} | {e.get("officer_id", "") for e in inc.events}
    names = {o: ctx.roster[o].name for o in wanted if o in ctx.roster}
    names.update({o["officer_id"]: o["name"] for o in near})
    return names


def visible_case(ctx: CityContext, client: redis.Redis, user: User,
                 incident_id: str) -> Incident | None | bool:
    """The case if the user may see it; None if there is none; False if out of scope."""
    inc = reads.read_incident(client, incident_id)
    if inc is None:
        return None
    if not user.may_see_region(inc.grid) or not user.may_see_category(
            ctx.rules.get(inc.category)):
        return False
    return inc


def case_view_model(ctx: CityContext, client: redis.Redis, inc: Incident, user: User,
                    lang: str, live_base: str, tile_url: str | None) -> CaseView:
    """Everything the case page shows, read now."""
    near = nearest(ctx, client, inc, user)
    h = ctx.hierarchy
    crumbs = [(level_of(c).value, c, h[c].name if lang == "zh" else (h[c].name_en or h[c].name))
              for c in reversed(ancestors_of(inc.grid)) if c in h]
    rule = ctx.rules.get(inc.category)
    return CaseView(
        case=incident_to_json(inc), category_label=_label(ctx, inc.category, lang),
        due_ts=deadline(rule, inc) if rule else None, officer_names=_names(ctx, inc, near),
        nearest=near, cameras=video_page.case_cameras(ctx, client, user, inc),
        video=video_page.case_video(ctx, client, user, inc, lang),
        allowed=[a.value for a in allowed_actions(inc)],
        can_act=user.role in ACTING_ROLES, breadcrumbs=crumbs,
        live_url=f"{live_base}?region={village_of(inc.grid)}&case={inc.incident_id}",
        now=time.time(),
        audit=reads.audit_entries(client, 50, target=inc.incident_id), lang=lang,
        tile_url=tile_url)


def render_case_page(ctx: CityContext, client: redis.Redis, user: User, incident_id: str,
                     lang: str, live_base: str, tile_url: str | None) -> Any:
    """The case page, or None / False when missing / outside the user's scope."""
    inc = visible_case(ctx, client, user, incident_id)
    if not isinstance(inc, Incident):
        return inc
    return case_page(case_view_model(ctx, client, inc, user, lang, live_base, tile_url))


def refusal_key(e: Exception, action: Action, officer_id: str, note: str) -> str:
    """The catalogue key that tells a user why an action was refused."""
    if isinstance(e, NotPermitted):
        return "err.out_of_scope" if "scope" in str(e) else "err.not_permitted"
    if action is Action.ASSIGN and not officer_id:
        return "err.need_officer"
    if action is Action.NOTE and not note:
        return "err.need_note"
    return "err.not_now"


def register(app: dash.Dash, ctx: CityContext, client: redis.Redis) -> None:
    """The case page's callbacks: re-render on every pushed change, run actions."""

    @app.callback(Output(ids.CASE_DETAILS, "children"), Output(ids.CASE_TIMELINE, "children"),
                  Output(ids.CASE_ACTIONS, "children"), Output(ids.CASE_AUDIT, "children"),
                  Input(ids.CASE_STORE, "data"), State(ids.ROOT, "data-lang"),
                  prevent_initial_call=True)
    def refresh(data: dict[str, Any] | None, lang: str | None) -> tuple[Any, ...]:
        lang = lang or "zh"
        user: User = flask.g.user
        inc = visible_case(ctx, client, user, (data or {}).get("incident_id", ""))
        if not isinstance(inc, Incident):
            raise dash.exceptions.PreventUpdate
        near = nearest(ctx, client, inc, user)
        rule = ctx.rules.get(inc.category)
        c = incident_to_json(inc)
        names = _names(ctx, inc, near)
        return (case_details(c, _label(ctx, inc.category, lang),
                             deadline(rule, inc) if rule else None, names, time.time(), lang),
                timeline(c, names, lang),
                action_panel([a.value for a in allowed_actions(inc)],
                             user.role in ACTING_ROLES, near, lang),
                audit_list(reads.audit_entries(client, 50, target=inc.incident_id), lang))

    @app.callback(Output(ids.ACTION_MESSAGE, "children"),
                  Input({"type": ids.ACTION_BUTTON, "action": ALL}, "n_clicks"),
                  State({"type": ids.ASSIGN_OFFICER, "i": ALL}, "value"),
                  State({"type": ids.NOTE_TEXT, "i": ALL}, "value"),
                  State(ids.CASE_STORE, "data"), State(ids.ROOT, "data-lang"),
                  prevent_initial_call=True)
    def act(clicks: list[int | None], officer: list[str | None], note: list[str | None],
            data: dict[str, Any] | None, lang: str | None) -> str:
        trigger = dash.ctx.triggered_id
        if not trigger or not any(clicks):
            raise dash.exceptions.PreventUpdate
        lang = lang or "zh"
        user: User = flask.g.user
        inc = visible_case(ctx, client, user, (data or {}).get("incident_id", ""))
        if not isinstance(inc, Incident):
            return t("case.not_found", lang)
        action = Action(trigger["action"])
        officer_id = ((officer or [None])[0] or "") if action is Action.ASSIGN else ""
        text = ((note or [None])[0] or "").strip() if action is Action.NOTE else ""
        try:
            send_action(client, user, inc, ctx.rules, action, officer_id=officer_id, note=text)
        except (ActionRefused, NotPermitted, ValueError) as e:
            log.info("action %s on %s by %s refused: %s", action.value, inc.incident_id,
                     user.name, e)
            return "✗ " + t(refusal_key(e, action, officer_id, text), lang)
        return t("case.sent", lang)
