"""Administration pages: the dead-letter review (refused messages, fix and resubmit)."""
from __future__ import annotations

from typing import Any

from dash import dcc, html

from layouts.format import local_time

DL_TEXT, DL_SEND, DL_RESULT = "gw-dl-text", "gw-dl-send", "gw-dl-result"

TEXT = {
    "title": ("死信队列 · 被拒消息", "Dead letters · refused messages"),
    "hint": ("每条被网关拒绝的消息都保存在此，附原因与来源。修改后可重新提交。",
             "Every message the gateway refused is kept here with its reason and source. "
             "Fix one and resubmit it."),
    "reason": ("原因", "Reason"),
    "source": ("来源", "Source"),
    "resubmit": ("重新提交", "Resubmit"),
    "done": ("已重新提交", "Resubmitted"),
    "empty": ("没有被拒消息", "No refused messages"),
    "back": ("← 返回地图", "← Back to the map"),
    "nav.audit": ("审计日志", "Audit log"),
    "nav.deadletters": ("死信队列", "Dead letters"),
    "nav.logout": ("退出登录", "Sign out"),
}


def _t(key: str, lang: str) -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def admin_nav(lang: str) -> html.Nav:
    """Links between the administration pages, back to the map, and sign-out."""
    return html.Nav(className="gw-admin-nav", children=[
        html.A(_t("nav.audit", lang), href="/admin/audit"),
        html.A(_t("nav.deadletters", lang), href="/admin/deadletters"),
        html.A(_t("back", lang), href="/"),
        html.A(_t("nav.logout", lang), href="/logout" + ("?lang=en" if lang == "en" else ""))])


def deadletter_page(entries: list[dict[str, Any]], done: set[str], lang: str) -> html.Div:
    """The newest refused messages, each editable and resubmittable (pure)."""
    items = [entry(e, e["id"] in done, lang) for e in entries]
    return html.Div(className=f"gw-root gw-desk gw-admin gw-lang-{lang}", id="gw-root", children=[
        html.Header(className="gw-header", children=[
            html.Div(className="gw-brand", children=[
                html.Span(className="gw-logo"),
                html.H1(_t("title", lang), className="gw-title")]),
            admin_nav(lang)]),
        html.P(_t("hint", lang), className="gw-muted gw-admin-hint"),
        html.Div(items or html.P(_t("empty", lang), className="gw-muted"),
                 className="gw-dl-list"),
    ])


def entry(e: dict[str, Any], done: bool, lang: str) -> html.Div:
    """One refused message: when, reason, source, the raw text to fix, resubmit."""
    key = e["id"]
    return html.Div(className="gw-card gw-dl" + (" gw-dl--done" if done else ""), children=[
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
