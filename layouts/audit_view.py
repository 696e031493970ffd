"""The audit log page for administrators: filters (user, kind, time), entries newest first,
CSV export link (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dash import dcc, html

from layouts.admin_view import admin_header
from layouts.case_view import audit_label
from layouts.format import local_time
from layouts.grid import column, grid
from layouts.i18n import t

AUDIT_TABLE, AUDIT_FORM = "gw-audit-table", "gw-audit-form"
KINDS = ("login", "logout", "case", "video", "deadletter")


def _t(key: str, lang: str) -> str:
    return t(f"auditlog.{key}", lang)


@dataclass(frozen=True)
class AuditView:
    """What the audit page shows: the filters as typed, the entries, the reader's scope."""

    entries: list[dict[str, str]]
    filters: dict[str, str] = field(default_factory=dict)
    scope_name: str = ""
    lang: str = "zh"


def audit_page(vm: AuditView) -> html.Div:
    """The whole page (entries are shown as text, never as HTML)."""
    lang = vm.lang
    query = urlencode({k: v for k, v in vm.filters.items() if v})
    return html.Div(className=f"gw-root gw-desk gw-admin gw-lang-{lang}", id="gw-root",
                    children=[
        admin_header(_t("title", lang), lang),
        html.P([_t("hint", lang), " ", _t("scope", lang), ": ", vm.scope_name],
               className="gw-muted gw-admin-hint"),
        filter_form(vm.filters, lang),
        html.Div(className="gw-action-row", children=[
            html.Span(t("auditlog.shown", lang, n=len(vm.entries)), className="gw-muted"),
            html.A(_t("csv", lang), href="/admin/audit.csv" + (f"?{query}" if query else ""),
                   className="gw-btn gw-audit-csv", id="gw-audit-csv")]),
        entries_table(vm.entries, lang),
    ])


def filter_form(filters: dict[str, str], lang: str) -> html.Form:
    """A plain GET form: submitting it reloads the page with the filters in its URL."""
    def field_(name: str, hint: str = "", **kw: object) -> html.Label:
        return html.Label([_t(name, lang), dcc.Input(
            name=name, id=f"gw-audit-{name}", value=filters.get(name, ""), type="text",
            placeholder=hint, **kw)], className="gw-audit-field")
    return html.Form(id=AUDIT_FORM, method="get", action="/admin/audit", children=[
        field_("user"),
        html.Label([_t("kind", lang), html.Select(
            name="kind", id="gw-audit-kind", className="gw-select", children=[
                html.Option(_t("kind.all", lang), value="", selected=not filters.get("kind"))] + [
                html.Option(_t(f"kind.{k}", lang), value=k, selected=filters.get("kind") == k)
                for k in KINDS])], className="gw-audit-field"),
        field_("since", _t("time_hint", lang)),
        field_("until", _t("time_hint", lang)),
        dcc.Input(type="hidden", name="lang", value=lang, id="gw-audit-lang"),
        html.Button(_t("apply", lang), type="submit", className="gw-btn")],
        className="gw-audit-filters")


def entry_row(n: int, e: dict[str, str], lang: str) -> dict[str, str | float]:
    """One grid row of an entry: text fields as they were audited, the action as words."""
    return {"id": e.get("id") or str(n), "ts": float(e.get("ts") or 0),
            "when": local_time(float(e.get("ts") or 0), with_date=True),
            "user": e.get("user", ""), "action": audit_label(e.get("action", ""), lang),
            "action_key": e.get("action", ""), "target": e.get("target", ""),
            "region": e.get("region", "") or "—", "detail": e.get("detail", "")}


def entries_table(entries: list[dict[str, str]], lang: str) -> Any:
    """One row per entry, newest first: when, who, what, on what, where, detail (as text)."""
    if not entries:
        return html.P(_t("empty", lang), className="gw-muted")
    columns = [column("ts", _t("when", lang), colId="when", sort="desc", filter=False,
                      valueFormatter={"function": "params.data.when"}, maxWidth=190),
               column("user", _t("user", lang)), column("action", _t("action", lang)),
               column("target", _t("target", lang)), column("region", _t("region", lang)),
               column("detail", _t("detail", lang), flex=2, wrapText=True, autoHeight=True,
                      cellClass="gw-audit-detail")]
    rows = [entry_row(n, e, lang) for n, e in enumerate(entries)]
    return grid(AUDIT_TABLE, rows, columns, lang, page_size=50)
