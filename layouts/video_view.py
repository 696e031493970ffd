"""Video review pages (pure): the queue of flagged events and one event's clips on a shared
timeline beside its case; plus the case page's video card. Field text is shown as text."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from dash import dcc, html

from domain.alerts import AlertLevel
from layouts import ids
from layouts.format import local_time
from layouts.i18n import (
    category_name,
    html_lang,
    lang_query,
    level_name,
    norm_lang,
    status_name,
    switch_href,
    t,
)
from layouts.photos import photo_list

# Component ids (callbacks in dashboard/video_page.py, sync in assets/video.js).
EVENT_STORE = "gw-video-event"  # dcc.Store {"event_id"}
TIMELINE = "gw-video-sync"  # the shared timeline (class gw-vsync; assets/video.js)
REVIEW_NOTE = "gw-video-note"
REVIEW_BUTTON = "gw-video-reviewed"
REVIEW_MSG = "gw-video-review-msg"
REVIEW_STATE = "gw-video-review-state"
FLAG_BUTTON = "gw-video-flag"
FLAG_MSG = "gw-video-flag-msg"

CUE = {AlertLevel.RED: "◆", AlertLevel.YELLOW: "▲", AlertLevel.GREEN: "●"}


def vt(key: str, lang: str) -> str:
    """The text of a video-page message key (video.<key> in the catalogue) in a language."""
    return t(f"video.{key}", lang)


@dataclass(frozen=True)
class QueueRow:
    """One flagged event in the review queue."""

    event_id: str
    incident_id: str
    title: str
    category: str
    level: str
    reason: str
    by: str
    ts: float
    status: str
    clips: int
    reviewed_by: str = ""
    reviewed_ts: float | None = None


@dataclass(frozen=True)
class QueueView:
    """The review queue page."""

    rows: list[QueueRow]
    scope_name: str
    lang: str = "zh"


@dataclass(frozen=True)
class ClipTile:
    """One clip on the shared timeline."""

    clip_id: str
    camera_id: str
    camera_name: str
    dist_m: float
    src: str
    poster: str
    offset_s: float  # clip time 0 on the timeline
    duration_s: float
    live_url: str = ""


@dataclass(frozen=True)
class EventView:
    """One flagged event: its clips, its case, its review."""

    event: dict[str, Any]  # FlaggedEvent.to_json()
    case: dict[str, Any] | None  # feeds.state.incident_to_json, if still stored
    clips: list[ClipTile]
    missing: list[str]  # names of chosen cameras without a clip
    start_ts: float  # timeline start (epoch)
    length_s: float
    can_review: bool
    lang: str = "zh"
    extra: dict[str, Any] = field(default_factory=dict)
    photos: list[dict[str, Any]] = field(default_factory=list)  # the case's photos (API rows)


def _header(title: str, lang: str, crumbs: list[tuple[str, str]]) -> html.Header:
    q = lang_query(lang)
    nav: list[Any] = []
    for text, href in crumbs:
        nav += [html.A(text, href=href + q, className="gw-crumb"),
                html.Span("›", className="gw-crumb-sep", **{"aria-hidden": "true"})]
    return html.Header(className="gw-header", children=[
        html.Div(className="gw-brand", children=[
            html.Span(className="gw-logo", **{"aria-hidden": "true"}),
            html.H1(title, className="gw-title"),
            html.Nav(nav, className="gw-crumbs")]),
        html.Div(className="gw-status", children=[
            html.A(t("nav.lang_switch", lang), className="gw-lang", id=ids.LANG_LINK,
                   title=t("nav.lang_switch_title", lang), href=switch_href(lang))])])


def _root(lang: str, kind: str, children: list[Any]) -> html.Div:
    lang = norm_lang(lang)
    return html.Div(id=ids.ROOT, className=f"gw-root gw-desk gw-video-page gw-video-{kind} "
                    f"gw-lang-{lang}", lang=html_lang(lang),
                    children=children, **{"data-lang": lang, "data-tz": "Asia/Shanghai"})


def level_badge(level: str, lang: str) -> html.Span:
    """A level with its shape cue and name (never colour alone)."""
    return html.Span([html.Span(CUE.get(level, "○"), className="gw-cue"),
                      level_name(level or None, lang)], className=f"gw-badge gw-badge-{level}")


def _q(lang: str) -> str:
    return lang_query(lang)


def queue_page(vm: QueueView) -> html.Div:
    """The queue of flagged events: unreviewed first, red first, newest first (pure)."""
    lang = vm.lang
    head = html.Tr([html.Th(vt(f"col.{c}", lang)) for c in (
        "level", "case", "category", "flagged", "reason", "clips", "review", "open")])
    rows = [_queue_row(r, lang) for r in vm.rows]
    body = html.Table([html.Thead(head), html.Tbody(rows)], className="gw-vqueue") if rows \
        else html.P(vt("queue.empty", lang), className="gw-muted")
    return _root(lang, "queue", [
        _header(vt("title.queue", lang), lang, [(vt("nav.map", lang), "/")]),
        html.Div(className="gw-video-body", children=[
            html.H2(f"{vt('nav.queue', lang)} · {vm.scope_name}", className="gw-card-title"),
            body])])


def reason_text(reason: str, by: str, lang: str) -> str:
    """Who or what flagged an event: turned red, motion detected, or a user by name."""
    if reason in ("red", "motion"):
        return vt(f"reason.{reason}", lang)
    return f"{vt('reason.manual', lang)} {by}"


def _queue_row(r: QueueRow, lang: str) -> html.Tr:
    q = _q(lang)
    reason = reason_text(r.reason, r.by, lang)
    what = [html.A(r.title or r.incident_id, href=f"/case/{quote(r.incident_id)}{q}"),
            html.Div(r.incident_id, className="gw-near-id")] if r.incident_id else \
        [html.A(r.title, href=f"/video/{r.event_id}{q}"),
         html.Div(vt("event.no_case", lang), className="gw-near-id")]
    review = html.Span(f"✓ {vt('review.done', lang)} · {r.reviewed_by}",
                       className="gw-vdone") if r.reviewed_ts else \
        html.Span(f"○ {vt('review.todo', lang)}", className="gw-vtodo")
    clips = f"{r.clips} · {vt('status.' + r.status, lang)}"
    return html.Tr(className="gw-vrow" + ("" if r.reviewed_ts else " gw-vrow-todo"), children=[
        html.Td(level_badge(r.level, lang)),
        html.Td(what),
        html.Td(category_name(r.category, lang)),
        html.Td(local_time(r.ts, with_date=True), className="gw-ev-time"),
        html.Td(reason), html.Td(clips), html.Td(review),
        html.Td(html.A("▶ " + vt("col.open", lang), href=f"/video/{r.event_id}{q}",
                       className="gw-btn gw-vopen"))])


def _tile(c: ClipTile, lang: str) -> html.Div:
    return html.Div(className="gw-vtile", children=[
        html.Div(className="gw-vtile-head", children=[
            html.Span(c.camera_name, className="gw-near-name"),
            html.Span(f"{c.dist_m:.0f} m", className="gw-near-dist"),
            html.A(vt("clip.live", lang), href=c.live_url, target="_blank",
                   className="gw-vlive") if c.live_url else None]),
        html.Div(className="gw-vframe", children=[
            html.Video(src=c.src, poster=c.poster, controls=True, muted=True, preload="auto",
                       className="gw-vclip", id=f"gw-vclip-{c.clip_id}",
                       playsInline=True, **{"data-offset": f"{c.offset_s:.3f}",
                                            "data-duration": f"{c.duration_s:.3f}"}),
            html.Div(vt("clip.out", lang), className="gw-vout")])])


def timeline(vm: EventView) -> html.Div:
    """All clips side by side and one scrubber (assets/video.js builds its controls)."""
    lang, ev = vm.lang, vm.event
    mark = (ev["ts"] - vm.start_ts) / vm.length_s if vm.length_s > 0 else 0
    return html.Div(id=TIMELINE, className="gw-vsync", children=[
        html.Div([_tile(c, lang) for c in vm.clips], className="gw-vgrid"),
        html.Div(className="gw-vbar", children=[
            html.Div(className="gw-vcontrols"),
            html.Div(className="gw-vticks", children=[
                html.Span(local_time(vm.start_ts), className="gw-vtick-start"),
                html.Span("⚑ " + local_time(ev["ts"]), className="gw-vtick-flag",
                          style={"left": f"{100 * max(0.0, min(1.0, mark)):.2f}%"}),
                html.Span(local_time(vm.start_ts + vm.length_s), className="gw-vtick-end")]),
            html.P(vt("timeline.hint", lang), className="gw-muted gw-vhint")])],
        **{"data-start": f"{vm.start_ts:.3f}", "data-length": f"{vm.length_s:.3f}",
           "data-flag": f"{ev['ts'] - vm.start_ts:.3f}", "data-tz": "Asia/Shanghai",
           "data-lang": norm_lang(lang), "data-label": vt("timeline", lang),
           "data-play": vt("play", lang)})


def _facts(rows: list[tuple[str, Any]]) -> html.Dl:
    return html.Dl(className="gw-facts", children=[x for k, v in rows
                                                   for x in (html.Dt(k), html.Dd(v))])


def case_card(vm: EventView) -> html.Div:
    """The case beside the clips (text only) with a link to its page."""
    lang, ev, c = vm.lang, vm.event, vm.case or {}
    rows = [(vt("col.level", lang), level_badge(c.get("level", ev["level"]), lang)),
            (vt("col.category", lang), category_name(ev["category"], lang))]
    if c:
        rows += [(vt("case.status", lang), status_name(c.get("status", ""), lang)),
                 (vt("case.reported", lang), local_time(c.get("reported_ts"), with_date=True))]
    rows.append((vt("case.grid", lang), ev["grid"]))
    link = html.A(vt("event.open_case", lang) + " →",
                  href=f"/case/{quote(ev['incident_id'])}{_q(lang)}", className="gw-btn") \
        if ev["incident_id"] else html.P(vt("event.no_case", lang), className="gw-muted")
    return html.Div(className="gw-card", children=[
        html.H2(vt("event.case" if ev["incident_id"] else "event.motion", lang),
                className="gw-card-title"),
        html.H3(c.get("title") or ev["title"], className="gw-case-title"),
        _facts(rows),
        html.P(c.get("description", ""), className="gw-case-desc"),
        html.H3(t("case.photos", lang), className="gw-card-subtitle"),
        html.Div(photo_list(vm.photos, {}, lang), className="gw-video-photos"),
        link])


def review_state(ev: dict[str, Any], lang: str) -> html.Div:
    """Who reviewed the event, when, with which note (or that it awaits review)."""
    if not ev.get("reviewed_ts"):
        return html.Div(f"○ {vt('review.todo', lang)}", className="gw-vtodo")
    return html.Div(className="gw-vdone", children=[
        html.Div(f"✓ {vt('review.done', lang)} · {ev.get('reviewed_by', '')} · "
                 f"{local_time(ev['reviewed_ts'], with_date=True)}"),
        html.Div(ev.get("note", ""), className="gw-ev-note") if ev.get("note") else None])


def review_card(vm: EventView) -> html.Div:
    """Event facts, review state, and the note + "reviewed" button for reviewers."""
    lang, ev = vm.lang, vm.event
    by = vt(f"reason.{ev['reason']}", lang) if ev["reason"] in ("red", "motion") else ev["by"]
    facts = _facts([
        (vt("event.flagged_at", lang), local_time(ev["ts"], with_date=True)),
        (vt("event.window", lang), f"−{ev['pre_s']:.0f} s … +{ev['post_s']:.0f} s"),
        (vt("event.by", lang), by),
        (vt("event.status", lang), vt("status." + ev["status"], lang))])
    form: list[Any] = [html.Div(vt("review.read_only", lang), className="gw-muted")]
    if vm.can_review:
        form = [dcc.Textarea(id=REVIEW_NOTE, className="gw-note", maxLength=2000,
                             placeholder=vt("review.note", lang), value=ev.get("note", "")),
                html.Button(vt("review.button", lang), id=REVIEW_BUTTON, n_clicks=0,
                            className="gw-btn gw-btn-resolve")]
    return html.Div(className="gw-card", children=[
        html.H2(vt("col.review", lang), className="gw-card-title"), facts,
        html.Div(review_state(ev, lang), id=REVIEW_STATE),
        html.Div(form, className="gw-action-row"),
        html.Div(id=REVIEW_MSG, className="gw-action-msg", role="status")])


def _clips_section(vm: EventView) -> html.Div:
    lang, ev = vm.lang, vm.event
    parts: list[Any] = []
    if ev["status"] in ("pending", "recording"):
        ready = local_time(ev["ts"] + ev["post_s"] + 3)
        parts.append(html.P([vt("event.wait", lang).replace("{t}", ready), " ",
                             html.A(vt("event.reload", lang), href=f"/video/{ev['event_id']}"
                                    + _q(lang))], className="gw-muted"))
    parts.append(timeline(vm) if vm.clips else
                 html.P(vt("event.no_clips", lang), className="gw-muted"))
    if vm.missing:
        parts.append(html.P(f"{vt('event.expired', lang)}: {', '.join(vm.missing)}",
                            className="gw-muted"))
    return html.Div(className="gw-card gw-vclips", children=[
        html.H2(vt("event.clips", lang), className="gw-card-title"), *parts])


def event_page(vm: EventView) -> html.Div:
    """One flagged event: its clips on one timeline, the case beside them, the review."""
    lang, ev = vm.lang, vm.event
    return _root(lang, "event", [
        dcc.Store(id=EVENT_STORE, data={"event_id": ev["event_id"]}),
        _header(vt("title.event", lang), lang, [(vt("nav.map", lang), "/"),
                                                (vt("nav.queue", lang), "/video")]),
        html.Div(className="gw-case-grid gw-video-grid", children=[
            html.Section(_clips_section(vm), className="gw-case-col gw-case-col-wide"),
            html.Section([case_card(vm), review_card(vm)], className="gw-case-col")])])


def case_video_card(events: list[dict[str, Any]], can_flag: bool, lang: str) -> html.Div:
    """For the case page: the case's flagged events (links) and the "flag" button."""
    items = [html.Li([html.A(f"{local_time(e['ts'], with_date=True)} · "
                             f"{vt('status.' + e['status'], lang)}",
                             href=f"/video/{e['event_id']}{_q(lang)}"),
                      html.Span(f" ✓ {e.get('reviewed_by', '')}" if e.get("reviewed_ts")
                                else f" ○ {vt('review.todo', lang)}", className="gw-near-id")])
             for e in events]
    body: list[Any] = [html.Ul(items, className="gw-near") if items else
                       html.P(vt("case.no_events", lang), className="gw-muted")]
    if can_flag:
        body.append(html.Div(className="gw-action-row", children=[
            html.Button(vt("case.flag", lang), id=FLAG_BUTTON, n_clicks=0,
                        className="gw-btn gw-btn-escalate")]))
    body.append(html.Div(id=FLAG_MSG, className="gw-action-msg", role="status"))
    return html.Div(body, className="gw-case-video")


def flagged_message(event_id: str, lang: str) -> html.A:
    """The link shown after a case was flagged."""
    return html.A(vt("case.flagged", lang).replace("{id}", event_id),
                  href=f"/video/{event_id}{_q(lang)}")
