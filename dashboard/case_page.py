"""The case page: its layout from the read model, and the callbacks of its actions."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import dash
import flask
from dash import ALL, Input, Output, State

from dashboard.readmodel import ReadModel
from dashboard.refusals import Refusal
from domain.access import User
from domain.basemap import Basemap
from domain.cases import Action, ActionRefused
from feeds.live.commands import NotPermitted
from layouts import ids
from layouts.case_view import (
    action_panel,
    action_signature,
    audit_list,
    case_details,
    case_page,
    timeline,
)
from layouts.i18n import t
from layouts.photos import photo_list

if TYPE_CHECKING:
    from dashboard.actions import Actions

log = logging.getLogger(__name__)


def render_case_page(reads: ReadModel, user: User, incident_id: str, lang: str,
                     live_base: str, basemap: Basemap | None) -> Any:
    """The case page (NotFound / Forbidden when missing / outside the user's scope)."""
    return case_page(reads.case_view(user, incident_id, lang, live_base, basemap))


def refusal_key(e: Exception, action: Action, officer_id: str, note: str) -> str:
    """The catalogue key that tells a user why an action was refused."""
    if isinstance(e, NotPermitted):
        return "err.out_of_scope" if "scope" in str(e) else "err.not_permitted"
    if action is Action.ASSIGN and not officer_id:
        return "err.need_officer"
    if action is Action.NOTE and not note:
        return "err.need_note"
    return "err.not_now"


def register(app: dash.Dash, reads: ReadModel, actions: Actions) -> None:
    """The case page's callbacks: re-render on every pushed change, run actions."""
    _register_refresh(app, reads)
    _register_actions(app, reads, actions)


def _register_refresh(app: dash.Dash, reads: ReadModel) -> None:
    """Details, timeline, actions and audit trail again whenever the case changes."""

    @app.callback(Output(ids.CASE_DETAILS, "children"), Output(ids.CASE_TIMELINE, "children"),
                  Output(ids.CASE_ACTIONS, "children"), Output(ids.CASE_AUDIT, "children"),
                  Output(ids.CASE_ACTIONS_SIG, "data"), Output(ids.CASE_PHOTOS, "children"),
                  Input(ids.CASE_STORE, "data"), State(ids.ROOT, "data-lang"),
                  State(ids.CASE_ACTIONS_SIG, "data"), prevent_initial_call=True)
    def refresh(data: dict[str, Any] | None, lang: str | None,
                drawn: list[Any] | None) -> tuple[Any, ...]:
        lang = lang or "zh"
        user: User = flask.g.user
        try:
            vm = reads.case_view(user, (data or {}).get("incident_id", ""), lang, media=False)
        except Refusal:
            raise dash.exceptions.PreventUpdate from None
        sig = action_signature(vm.allowed, vm.can_act, vm.nearest)
        panel = (dash.no_update if sig == drawn
                 else action_panel(vm.allowed, vm.can_act, vm.nearest, lang))
        return (case_details(vm.case, vm.category_label, vm.due_ts, vm.officer_names, vm.now,
                             lang),
                timeline(vm.case, vm.officer_names, lang), panel,
                audit_list(vm.audit, lang), sig, photo_list(vm.photos, vm.officer_names, lang))


def _register_actions(app: dash.Dash, reads: ReadModel, actions: Actions) -> None:
    """The action buttons: each sends its action on the case, as the user."""

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
        try:
            inc = reads.visible_case(user, (data or {}).get("incident_id", ""))
        except Refusal:
            return t("case.not_found", lang)
        action = Action(trigger["action"])
        officer_id = ((officer or [None])[0] or "") if action is Action.ASSIGN else ""
        text = ((note or [None])[0] or "").strip() if action is Action.NOTE else ""
        try:
            actions.case_action(user, inc, action, officer_id=officer_id, note=text)
        except (ActionRefused, NotPermitted, ValueError) as e:
            log.info("action %s on %s by %s refused: %s", action.value, inc.incident_id,
                     user.name, e)
            return "✗ " + t(refusal_key(e, action, officer_id, text), lang)
        return t("case.sent", lang)
