"""The audit log for administrators: /admin/audit (page) and /admin/audit.csv (export)."""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import flask
import redis

from dashboard.readmodel import ReadModel
from dashboard.readmodel.records import audit_filter, within
from domain.access import Role, User
from feeds.history.audit import query
from feeds.live.commands import audit
from feeds.live.context import CityContext
from layouts.audit_view import audit_page
from layouts.format import LOCAL_TZ

log = logging.getLogger(__name__)

CSV_ROWS = 100_000
CSV_COLUMNS = ("time", "ts", "user", "action", "target", "region", "detail", "id")


def render(reads: ReadModel, user: User, args: Mapping[str, str], lang: str) -> Any:
    """The audit page for administrators (Forbidden for anyone else)."""
    return audit_page(reads.audit_view(user, args, lang))


def _cell(value: str) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_text(entries: list[dict[str, str]]) -> str:
    """The entries as CSV with a header row."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    for e in entries:
        ts = float(e.get("ts") or 0)
        when = datetime.fromtimestamp(ts, LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
        w.writerow([when, f"{ts:.3f}"] + [_cell(e.get(k, "")) for k in CSV_COLUMNS[2:]])
    return out.getvalue()


def blueprint(ctx: CityContext, client: redis.Redis) -> flask.Blueprint:
    """The CSV export route (the login hook in dashboard.auth sets flask.g.user first)."""
    bp = flask.Blueprint("audit", __name__)

    @bp.get("/admin/audit.csv")
    def export() -> flask.Response:
        user: User = flask.g.user
        if user.role is not Role.ADMIN:
            return flask.Response("administrators only\n", 403, {"Content-Type": "text/plain"})
        entries = query(client, audit_filter(flask.request.args), within(ctx, user), CSV_ROWS)
        log.info("audit export by %s: %d entries", user.name, len(entries))
        audit(client, user.name, "audit.export", "", f"{len(entries)} entries",
              region=user.scope)
        return flask.Response("\ufeff" + csv_text(entries), 200, {
            "Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="gridwatch-audit.csv"'})

    return bp
