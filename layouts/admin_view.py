"""Administration pages: the dead-letter review (refused messages, fix and resubmit)."""
from __future__ import annotations

from typing import Any

from dash import dcc, html

from layouts.format import local_time
from layouts.grid import column, grid
from layouts.i18n import lang_query, switch_href, t
from layouts.ids import LANG_LINK

DL_TEXT, DL_SEND, DL_RESULT = "gw-dl-text", "gw-dl-send", "gw-dl-result"
DL_GRID = "gw-dl-grid"


def _t(key: str, lang: str) -> str:
    return t(f"admin.{key}", lang)


def admin_nav(lang: str) -> html.Nav:
    """Links between the administration pages, back to the map, and sign-out."""
    return html.Nav(className="gw-admin-nav", children=[
        html.A(_t("nav.audit", lang), href="/admin/audit"),
        html.A(_t("nav.deadletters", lang), href="/admin/deadletters"),
        html.A(_t("back", lang), href="/" + lang_query(lang)),
        html.A(_t("nav.logout", lang), href="/logout" + lang_query(lang))])


def admin_header(title: str, lang: str) -> html.Header:
    """The header of an administration page: title, admin links, language switch."""
    return html.Header(className="gw-header", children=[
        html.Div(className="gw-brand", children=[
            html.Span(className="gw-logo"), html.H1(title, className="gw-title")]),
        html.Div(className="gw-status", children=[
            admin_nav(lang),
            html.A(t("nav.lang_switch", lang), className="gw-lang", id=LANG_LINK,
                   title=t("nav.lang_switch_title", lang), href=switch_href(lang))])])


def deadletter_page(entries: list[dict[str, Any]], done: set[str], lang: str) -> html.Div:
    """The newest refused messages, each editable and resubmittable (pure)."""
    items = [entry(e, e["id"] in done, lang) for e in entries]
    return html.Div(className=f"gw-root gw-desk gw-admin gw-lang-{lang}", id="gw-root", children=[
        admin_header(_t("title", lang), lang),
        html.P(_t("hint", lang), className="gw-muted gw-admin-hint"),
        entries_grid(entries, done, lang) if entries else None,
        html.Div(items or html.P(_t("empty", lang), className="gw-muted"),
                 className="gw-dl-list"),
    ])


def entries_grid(entries: list[dict[str, Any]], done: set[str], lang: str) -> Any:
    """The refused messages at a glance (sort, filter); a click shows that message's editor."""
    rows = [{"id": e["id"], "ts": float(e.get("ts") or 0),
             "when": local_time(float(e.get("ts") or 0), with_date=True),
             "msg_id": e.get("msg_id") or "—", "reason": e.get("reason", ""),
             "source": e.get("source", ""), "done": _t("done", lang) if e["id"] in done else ""}
            for e in entries]
    columns = [column("ts", t("auditlog.when", lang), colId="when", sort="desc", filter=False,
                      valueFormatter={"function": "params.data.when"}, maxWidth=190),
               column("msg_id", "ID"), column("reason", _t("reason", lang), flex=2),
               column("source", _t("source", lang)), column("done", t("case.status", lang))]
    return grid(DL_GRID, rows, columns, lang, page_size=20, rowClass="gw-row-link")


def entry(e: dict[str, Any], done: bool, lang: str) -> html.Div:
    """One refused message: when, reason, source, the raw text to fix, resubmit."""
    key = e["id"]
    return html.Div(className="gw-card gw-dl" + (" gw-dl--done" if done else ""),
                    **{"data-dl": key}, children=[
        html.Div(className="gw-dl-head", children=[
            html.Span(local_time(float(e.get("ts") or 0), with_date=True),
                      className="gw-ev-time"),
            html.Span(e.get("msg_id") or "—", className="gw-near-id"),
            html.Span(_t("done", lang) if done else "", className="gw-dl-done")]),
        html.Dl(className="gw-facts", children=[
            html.Dt(_t("reason", lang)), html.Dd(e.get("reason", ""), className="gw-dl-reason"),
            html.Dt(_t("source", lang)), html.Dd(e.get("source", ""))]),
        dcc.Textarea(id={"type": DL_TEXT, "id": key}, value=e.get("raw", ""),
                     className="gw-note gw-dl-raw", spellCheck=False),
        html.Div(className="gw-action-row", children=[
            html.Button(_t("resubmit", lang), id={"type": DL_SEND, "id": key}, n_clicks=0,
                        className="gw-btn gw-btn-resubmit"),
            html.Div(id={"type": DL_RESULT, "id": key}, className="gw-action-msg",
                     role="status")]),
    ])
