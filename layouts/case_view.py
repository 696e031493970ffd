"""The case page: details, SLA countdown, timeline, actions, audit trail, nearby officers."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from domain.alerts import AlertLevel
from domain.basemap import Basemap
from domain.model import DONE_STATUSES
from domain.tasks import TASK_ACKED, TASK_DELIVERED, delivery_of
from layouts import ids
from layouts.format import countdown, duration, local_time
from layouts.i18n import (
    dropdown_labels,
    has,
    html_lang,
    js_texts,
    lang_query,
    level_name,
    norm_lang,
    status_name,
    switch_href,
    t,
)
from layouts.map_view import basemap_layers, connection_indicator, popup_labels, region_path
from layouts.photos import photo_list
from layouts.video_view import vt

_NS = Namespace("gridwatch", "map")
CUE = {AlertLevel.RED: "◆", AlertLevel.YELLOW: "▲", AlertLevel.GREEN: "●"}
LIVE_IDS = (ids.CONN, ids.CLOCK, ids.ASOF, ids.INCIDENTS, ids.CASE_STORE)


@dataclass(frozen=True)
class CaseView:
    """Everything the case page shows."""

    case: dict[str, Any]  # the stored form of the case (feeds.state.incident_to_json)
    category_label: str
    due_ts: float | None
    officer_names: dict[str, str]
    nearest: list[dict[str, Any]]  # {officer_id, name, dist_m, lon, lat}
    cameras: list[dict[str, Any]]  # {camera_id, name, dist_m, lon, lat, snapshot_url}
    allowed: list[str]
    can_act: bool
    breadcrumbs: list[tuple[str, str, str]]  # (level, code, name), city first
    live_url: str
    now: float
    audit: list[dict[str, str]] = field(default_factory=list)
    lang: str = "zh"
    basemap: Basemap | None = None
    datum_shift: str = ""  # "gcj02>wgs84": pushed positions are drawn in the basemap's datum
    video: Any = None  # the video card (flagged events, flag button), when video is set up
    photos: list[dict[str, Any]] = field(default_factory=list)  # {id, url, thumb_url, ts, …}


def case_page(vm: CaseView) -> html.Div:
    """The whole case page (pure)."""
    lang = norm_lang(vm.lang)
    c = vm.case
    lats = [c["lat"]] + [o["lat"] for o in vm.nearest]
    lons = [c["lon"]] + [o["lon"] for o in vm.nearest]
    pad = 0.002
    bounds = [[min(lats) - pad, min(lons) - pad], [max(lats) + pad, max(lons) + pad]]
    return html.Div(
        id=ids.ROOT, className=f"gw-root gw-desk gw-case-page gw-lang-{lang}",
        lang=html_lang(lang),
        **{"data-live-url": vm.live_url, "data-lang": lang, "data-tz": "Asia/Shanghai",
           "data-i18n": js_texts(lang),
           "data-as-of": repr(float(vm.now)), "data-bounds": json.dumps(bounds),
           "data-live-ids": json.dumps(LIVE_IDS), "data-datum": vm.datum_shift},
        children=[
            dcc.Store(id=ids.CASE_STORE, data=c),
            dcc.Store(id=ids.CASE_ACTIONS_SIG,
                      data=action_signature(vm.allowed, vm.can_act, vm.nearest)),
            case_header(vm, lang),
            html.Div(className="gw-case-grid", children=[
                html.Section(className="gw-case-col", children=[
                    card(t("case.title", lang), html.Div(
                        case_details(c, vm.category_label, vm.due_ts, vm.officer_names,
                                     vm.now, lang), id=ids.CASE_DETAILS)),
                    card(t("case.actions", lang), html.Div(
                        action_panel(vm.allowed, vm.can_act, vm.nearest, lang),
                        id=ids.CASE_ACTIONS)),
                    card(t("case.audit", lang), html.Div(audit_list(vm.audit, lang),
                                                         id=ids.CASE_AUDIT)),
                ]),
                html.Section(className="gw-case-col gw-case-col-wide", children=[
                    html.Div(case_map(vm), className="gw-case-map"),
                    card(t("case.timeline", lang), html.Div(
                        timeline(c, vm.officer_names, lang), id=ids.CASE_TIMELINE)),
                    card(t("case.nearest", lang), html.Div([
                        nearest_list(vm.nearest, lang),
                        html.A(t("case.track", lang), href=f"/track?at={c['incident_id']}"
                               + lang_query(lang, "&"),
                               className="gw-track-link")])),
                    card(t("case.photos", lang), html.Div(
                        photo_list(vm.photos, vm.officer_names, lang), id=ids.CASE_PHOTOS)),
                    card(t("case.cameras", lang), camera_list(vm.cameras, lang)),
                    card(vt("case.video", lang), vm.video) if vm.video is not None else None,
                ]),
            ]),
        ])


def card(title: str, body: Any) -> html.Div:
    """A titled panel."""
    return html.Div(className="gw-card", children=[html.H2(title, className="gw-card-title"),
                                                   body])


def case_header(vm: CaseView, lang: str) -> html.Header:
    """Title, breadcrumbs up to the case's grid, connection state and clock."""
    crumbs: list[Any] = []
    for level, code, name in vm.breadcrumbs:
        crumbs.append(html.A(name, href=region_path(level, code)
                             + lang_query(lang), className="gw-crumb"))
        crumbs.append(html.Span("›", className="gw-crumb-sep", **{"aria-hidden": "true"}))
    return html.Header(className="gw-header", children=[
        html.Div(className="gw-brand", children=[
            html.Span(className="gw-logo", **{"aria-hidden": "true"}),
            html.H1(t("app.title", lang), id=ids.TITLE, className="gw-title"),
            html.Nav(crumbs, id=ids.BREADCRUMBS, className="gw-crumbs"),
            html.Span(vm.case["incident_id"], id=ids.REGION_NAME, className="gw-region-name")]),
        html.Div(className="gw-status", children=[
            connection_indicator(lang),
            html.Div(id=ids.CLOCK, className="gw-clock", children=[
                html.Span(t("clock.as_of", lang), className="gw-clock-label"),
                html.Span(local_time(vm.now), id=ids.ASOF, className="gw-clock-time")]),
            html.A(t("nav.lang_switch", lang), id=ids.LANG_LINK, className="gw-lang",
                   title=t("nav.lang_switch_title", lang), href=switch_href(lang))]),
    ])


def level_badge(level: str, lang: str) -> html.Span:
    """A level with its shape cue and name (never colour alone)."""
    return html.Span([html.Span(CUE.get(level, "○"), className="gw-cue"),
                      level_name(level, lang)], className=f"gw-badge gw-badge-{level}")


def case_details(c: dict[str, Any], category_label: str, due_ts: float | None,
                 names: dict[str, str], now: float, lang: str) -> html.Div:
    """The case's facts and its SLA countdown."""
    open_ = c["status"] not in DONE_STATUSES
    rows = [
        (t("case.level", lang), level_badge(c["level"], lang)),
        (t("case.status", lang), status_name(c["status"], lang)),
        (t("case.category", lang), category_label),
        (t("case.reported", lang), local_time(c["reported_ts"], with_date=True)),
        (t("case.reporter", lang), names.get(c.get("officer_id", ""), c.get("officer_id", ""))),
        (t("case.assignee", lang), assignee_cell(c, names, lang)),
        (t("case.grid", lang), c["grid"]),
    ]
    if open_ and due_ts is not None:
        late = due_ts < now
        rows.append((t("case.deadline", lang), html.Span(
            countdown(due_ts, now, lang), **{"data-due": repr(float(due_ts))},
            className="gw-countdown" + (" gw-countdown--late" if late else ""))))
    return html.Div([
        html.H3(c["title"], className="gw-case-title"),
        html.Dl(className="gw-facts", children=[x for k, v in rows
                                                for x in (html.Dt(k), html.Dd(v))]),
        html.P(c.get("description") or "", className="gw-case-desc"),
    ])


def assignee_cell(c: dict[str, Any], names: dict[str, str], lang: str) -> Any:
    """The assignee's name and whether their phone has the dispatch yet (未送达 …)."""
    oid = c.get("assignee") or ""
    if not oid:
        return t("case.unassigned", lang)
    state = delivery_of(oid, c["status"] not in DONE_STATUSES, c.get("events", ()))
    name = names.get(oid, oid)
    if state is None:
        return name
    return html.Span([name, " ", html.Span(t(f"case.delivery.{state.value}", lang),
                                           className=f"gw-delivery gw-delivery-{state.value}",
                                           id=ids.CASE_DELIVERY)])


def _event_text(e: dict[str, Any], names: dict[str, str], lang: str) -> list[Any]:
    kind = e.get("kind", "")
    if kind in (TASK_DELIVERED, TASK_ACKED):
        oid = e.get("officer_id", "")
        return [names.get(oid, oid), " · ", t(f"task.{e.get('action', 'assign')}", lang), " · ",
                html.Span(e.get("device", ""), className="gw-ev-device")]
    if kind == "status":
        return [status_name(e.get("status", ""), lang)]
    if kind == "level":
        return [level_badge(e.get("level", ""), lang)]
    if kind == "assign":
        oid = e.get("officer_id", "")
        return [names.get(oid, oid)]
    if kind in ("reported", "photo"):
        oid = e.get("officer_id", "")
        return [names.get(oid, oid)]
    if kind == "refused":
        return [t(f"act.{e.get('action', '')}", lang)]
    return []


def timeline(c: dict[str, Any], names: dict[str, str], lang: str) -> html.Ol:
    """Every event of the case, oldest first: when, what, who, note."""
    items = []
    start = c["reported_ts"]
    for e in c.get("events", ()):
        kind = e.get("kind", "")
        who = e.get("by", "")
        items.append(html.Li(className=f"gw-ev gw-ev-{kind}", children=[
            html.Span(local_time(e.get("ts")), className="gw-ev-time"),
            html.Span("+" + duration(max(0.0, e.get("ts", start) - start), lang),
                      className="gw-ev-age"),
            html.Span(t(f"ev.{kind}", lang), className="gw-ev-kind"),
            html.Span(_event_text(e, names, lang), className="gw-ev-what"),
            html.Span(who, className="gw-ev-by") if who else None,
            _note(e, lang),
        ]))
    return html.Ol(items, className="gw-timeline")


def _note(e: dict[str, Any], lang: str) -> html.Div | None:
    """An event's note; a refused action's stored reason becomes a sentence of the catalogue."""
    if e.get("kind") == "refused":
        return html.Div(t("err.not_now", lang), className="gw-ev-note", title=e.get("note", ""))
    return html.Div(e["note"], className="gw-ev-note") if e.get("note") else None


def action_signature(allowed: list[str], can_act: bool,
                     nearest: list[dict[str, Any]]) -> list[Any]:
    """What the action panel shows, minus distances: the panel is drawn again only when this
    changes, so a pushed update does not wipe a note being typed or a chosen officer."""
    return [sorted(allowed), can_act, sorted(o["officer_id"] for o in nearest)]


def action_panel(allowed: list[str], can_act: bool, nearest: list[dict[str, Any]],
                 lang: str) -> html.Div:
    """Buttons for the actions the case allows now (assign with an officer, note with text)."""
    if not can_act:
        return html.Div(t("case.read_only", lang), className="gw-muted")
    simple = [a for a in allowed if a not in ("assign", "note")]
    parts: list[Any] = [html.Div(className="gw-actions", children=[
        html.Button(t(f"act.{a}", lang), id={"type": ids.ACTION_BUTTON, "action": a},
                    className=f"gw-btn gw-btn-{a}", n_clicks=0) for a in simple])]
    if "assign" in allowed:
        options = [{"label": f"{o['name']} · {o['dist_m']:.0f} m", "value": o["officer_id"]}
                   for o in nearest]
        parts.append(html.Div(className="gw-action-row", children=[
            dcc.Dropdown(id={"type": ids.ASSIGN_OFFICER, "i": 0}, options=options, clearable=False,
                         placeholder=t("case.pick_officer", lang), className="gw-select",
                         labels=dropdown_labels(lang),
                         value=options[0]["value"] if options else None),
            html.Button(t("act.assign", lang),
                        id={"type": ids.ACTION_BUTTON, "action": "assign"},
                        className="gw-btn gw-btn-assign", n_clicks=0)]))
    parts.append(html.Div(className="gw-action-row", children=[
        dcc.Textarea(id={"type": ids.NOTE_TEXT, "i": 0}, className="gw-note", maxLength=2000,
                     placeholder=t("case.note_placeholder", lang)),
        html.Button(t("act.note", lang), id={"type": ids.ACTION_BUTTON, "action": "note"},
                    className="gw-btn gw-btn-note", n_clicks=0)]))
    parts.append(html.Div(id=ids.ACTION_MESSAGE, className="gw-action-msg", role="status"))
    return html.Div(parts)


def audit_list(entries: list[dict[str, str]], lang: str) -> html.Ul:
    """Who did what to the case, and when (newest first)."""
    return html.Ul(className="gw-audit", children=[
        html.Li([html.Span(local_time(float(e.get("ts", 0)), with_date=True),
                           className="gw-ev-time"),
                 html.Span(e.get("user", ""), className="gw-ev-by"),
                 html.Span(audit_label(e.get("action", ""), lang), className="gw-ev-kind"),
                 html.Span(e.get("detail", ""), className="gw-ev-note")])
        for e in entries])


def audit_label(action: str, lang: str) -> str:
    """A readable name of an audited action (case actions, video, administration)."""
    key = f"act.{action[5:]}" if action.startswith("case.") else f"audit.{action}"
    return t(key, lang) if has(key) else action


def nearest_list(nearest: list[dict[str, Any]], lang: str) -> Any:
    """Officers on duty nearest to the case, with distances."""
    if not nearest:
        return html.P(t("case.no_officers", lang), className="gw-muted")
    return html.Ul(className="gw-near", children=[
        html.Li([html.Span(o["name"], className="gw-near-name"),
                 html.Span(o["officer_id"], className="gw-near-id"),
                 html.Span(f"{o['dist_m']:.0f} m", className="gw-near-dist")])
        for o in nearest])


def camera_list(cameras: list[dict[str, Any]], lang: str) -> Any:
    """Cameras nearest to the case (from the camera registry, when there is one)."""
    if not cameras:
        return html.P(t("case.no_cameras", lang), className="gw-muted")
    return html.Ul(className="gw-near", children=[
        html.Li([html.A(cam["name"], href=cam.get("snapshot_url", "#"), target="_blank"),
                 html.Span(f"{cam['dist_m']:.0f} m", className="gw-near-dist")])
        for cam in cameras])


def case_map(vm: CaseView) -> dl.Map:
    """The case and the nearest officers on a small map (the case layer stays live)."""
    c = vm.case
    case_fc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [c["lon"], c["lat"]]},
        "properties": {"id": c["incident_id"], "level": c["level"], "category": c["category"],
                       "title": c["title"], "status": c["status"],
                       "reported_ts": c["reported_ts"], "grid": c["grid"]}}]}
    officers_fc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [o["lon"], o["lat"]]},
        "properties": {"id": o["officer_id"], "on": 1, "name": o["name"]}} for o in vm.nearest]}
    labels = popup_labels(norm_lang(vm.lang))
    layers: list[Any] = basemap_layers(vm.basemap)
    layers += [
        dl.Pane(name="gwOfficers", style={"zIndex": 610}),
        dl.Pane(name="gwIncidents", style={"zIndex": 640}),
        dl.GeoJSON(id="gw-case-officers", data=officers_fc, pointToLayer=_NS("officerPoint"),
                   pane="gwOfficers", hideout={"labels": labels}),
        dl.GeoJSON(id=ids.INCIDENTS, data=case_fc, pointToLayer=_NS("incidentPoint"),
                   pane="gwIncidents", hideout={"labels": labels}),
    ]
    return dl.Map(id=ids.MAP, center=[c["lat"], c["lon"]], zoom=16, trackViewport=False,
                  className="gw-map", style={"width": "100%", "height": "100%"},
                  attributionControl=bool(vm.basemap), children=layers)
