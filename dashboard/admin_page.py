"""Admin pages: dead-letter review with resubmission through the gateway's rules."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import dash
import flask
import orjson
import redis
from dash import MATCH, Input, Output, State

from domain.access import Role, User
from domain.regions import Level, level_of
from feeds.ingest.intake import store_sync
from feeds.ingest.placement import Placer
from feeds.ingest.protocol import Refused, decode
from feeds.live import reads
from feeds.live.commands import audit
from feeds.store import keys
from layouts.admin_view import DL_RESULT, DL_SEND, DL_TEXT, deadletter_page

log = logging.getLogger(__name__)


def city_admin(user: User) -> bool:
    """Whether a user administers the whole city (refused messages belong to no region)."""
    try:
        return user.role is Role.ADMIN and level_of(user.scope) is Level.CITY
    except ValueError:  # not a region code
        return False


def render(client: redis.Redis, user: User, lang: str) -> Any:
    """The dead-letter page for city administrators; None for anyone else."""
    if not city_admin(user):
        return None
    done = {x.decode() for x in client.smembers(keys.DEAD_LETTER_DONE)}
    return deadletter_page(reads.dead_letters(client, 100), done, lang)


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


def register(app: dash.Dash, client: redis.Redis, placer: Callable[[], Placer]) -> None:
    """The resubmit callback."""

    @app.callback(Output({"type": DL_RESULT, "id": MATCH}, "children"),
                  Input({"type": DL_SEND, "id": MATCH}, "n_clicks"),
                  State({"type": DL_TEXT, "id": MATCH}, "value"), prevent_initial_call=True)
    def send(n: int, text: str | None) -> str:
        user: User = flask.g.user
        if not n or not city_admin(user):
            raise dash.exceptions.PreventUpdate
        return resubmit(client, placer(), user, dash.ctx.triggered_id["id"], text or "")
