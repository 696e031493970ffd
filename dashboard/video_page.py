"""Video review pages (the queue, an event's clips) and the review and flag callbacks."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import dash
import flask
from dash import Input, Output, State

from dashboard.readmodel import ReadModel
from dashboard.refusals import Refusal
from domain.access import User
from feeds.live.commands import NotPermitted
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
    event_page,
    flagged_message,
    queue_page,
    review_state,
    vt,
)

if TYPE_CHECKING:
    from dashboard.actions import Actions

log = logging.getLogger(__name__)


def render_queue_page(reads: ReadModel, user: User, lang: str) -> Any:
    """/video: the flagged events awaiting review in the user's scope."""
    return queue_page(reads.video_queue(user, lang))


def render_event_page(reads: ReadModel, user: User, event_id: str, lang: str) -> Any:
    """/video/<event_id>: one event's clips (NotFound / Forbidden when missing / out of scope)."""
    return event_page(reads.video_event(user, event_id, lang))


def _refusal_key(e: Exception) -> str:
    if isinstance(e, KeyError):
        return "err.not_found"
    return "err.out_of_scope" if "scope" in str(e) else "err.not_permitted"


def register(app: dash.Dash, reads: ReadModel, actions: Actions) -> None:
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
        try:
            ev = reads.visible_event(user, (data or {}).get("event_id", ""))
        except Refusal:
            return "✗ " + t("err.not_found", lang), dash.no_update
        try:
            ev = actions.review(user, ev.event_id, note or "")
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
        try:
            inc = reads.visible_case(user, (data or {}).get("incident_id", ""))
        except Refusal:
            return "✗ " + t("err.not_found", lang)
        try:
            ev = actions.flag(user, inc)
        except NotPermitted as e:
            log.info("flag of %s by %s refused: %s", inc.incident_id, user.name, e)
            return "✗ " + t(_refusal_key(e), lang)
        return flagged_message(ev.event_id, lang)
