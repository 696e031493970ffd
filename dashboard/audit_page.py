"""The audit log for administrators: /admin/audit (page) and /admin/audit.csv (export), same
filters, scoped to the administrator's region."""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import flask
import redis

from domain.access import Role, User
from feeds.history.audit import AuditFilter, query
from feeds.live.commands import audit
from feeds.live.context import CityContext
from layouts.audit_view import AuditView, audit_page
from layouts.format import LOCAL_TZ

log = logging.getLogger(__name__)

PAGE_ROWS = 500
CSV_ROWS = 100_000
CSV_COLUMNS = ("time", "ts", "user", "action", "target", "region", "detail", "id")
FILTER_KEYS = ("user", "kind", "since", "until")


def parse_time(text: str) -> float | None:
    """Epoch seconds of a local 'YYYY-MM-DD[ HH:MM[:SS]]' (or of an epoch number); None."""
    text = (text or "").strip().replace("T", " ")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ).timestamp()
        except ValueError:
            continue
    return None


def audit_filter(args: Mapping[str, str]) -> AuditFilter:
    """The filter of a request's query (unparseable times are ignored)."""
    return AuditFilter(user=(args.get("user") or "").strip()[:64],
                       kind=(args.get("kind") or "").strip()[:40],
                       since=parse_time(args.get("since", "")),
                       until=parse_time(args.get("until", "")))


def within(ctx: CityContext, user: User) -> str | None:
    """The region an administrator's audit reads are bounded to (None: the whole city)."""
    return None if user.scope == ctx.hierarchy.city.code else user.scope


def render(ctx: CityContext, client: redis.Redis, user: User, args: Mapping[str, str],
           lang: str) -> Any:
    """The audit page for administrators; None for anyone else."""
    if user.role is not Role.ADMIN:
        return None
    entries = query(client, audit_filter(args), within(ctx, user), PAGE_ROWS)
    region = ctx.hierarchy[user.scope] if user.scope in ctx.hierarchy else None
    name = user.scope if region is None else (
        region.name if lang == "zh" else region.name_en or region.name)
    return audit_page(AuditView(entries, {k: args.get(k, "") for k in FILTER_KEYS}, name, lang))


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
