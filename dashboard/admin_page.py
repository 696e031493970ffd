"""Admin pages: dead-letter review with resubmission through the gateway's rules."""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import dash
import flask
import orjson
import redis
from dash import MATCH, Input, Output, State

from dashboard.readmodel import ReadModel
from dashboard.readmodel.records import city_admin
from domain.access import User
from feeds.ingest.intake import store_sync
from feeds.ingest.placement import Placer
from feeds.ingest.protocol import Refused, decode
from feeds.live.commands import audit
from feeds.store import keys
from layouts.admin_view import DL_RESULT, DL_SEND, DL_TEXT, deadletter_page

if TYPE_CHECKING:
    from dashboard.actions import Actions

log = logging.getLogger(__name__)


def render(reads: ReadModel, user: User, lang: str) -> Any:
    """The dead-letter page for city administrators (Forbidden for anyone else)."""
    vm = reads.dead_letters(user)
    return deadletter_page(vm.entries, set(vm.done), lang)


def resubmit(client: redis.Redis, placer: Placer, user: User, entry_id: str,
             text: str) -> str:
    """Decode, route and store a fixed message; the answer as the user should read it."""
    now = time.time()
    items, _ = decode(text.encode(), now)
    results = [it if isinstance(it, Refused) else placer.route(it) for it in items]
    refused = [r for r in results if isinstance(r, Refused)]
    if refused:
        return "✗ " + "; ".join(r.reason for r in refused)  # not stored again: still wrong
    answers = store_sync(client, results, f"resubmit:{user.name}", now)
    client.sadd(keys.DEAD_LETTER_DONE, entry_id)
    audit(client, user.name, "deadletter.resubmit", entry_id,
          orjson.dumps([a.get("ack") for a in answers]).decode())
    return "✓ " + ", ".join(str(a["ack"]) for a in answers)


def register(app: dash.Dash, actions: Actions) -> None:
    """The resubmit callback."""

    @app.callback(Output({"type": DL_RESULT, "id": MATCH}, "children"),
                  Input({"type": DL_SEND, "id": MATCH}, "n_clicks"),
                  State({"type": DL_TEXT, "id": MATCH}, "value"), prevent_initial_call=True)
    def send(n: int, text: str | None) -> str:
        user: User = flask.g.user
        if not n or not city_admin(user):
            raise dash.exceptions.PreventUpdate
        return actions.resubmit(user, dash.ctx.triggered_id["id"], text or "")
