"""Track playback: officers' paths over a period, play / pause / speed, follow, stops, stats."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from layouts.format import duration, local_time
from layouts.i18n import norm_lang, switch_href, t
from layouts.ids import LANG_LINK
from layouts.map_view import popup_labels

_NS = Namespace("gridwatch", "map")
TRACK_NOW = "gw-track-now"
COLOURS = ("#00c8ff", "#ff9f1c", "#b388ff", "#4ee39a", "#ff6bb5", "#ffd24d", "#7fdbff")


def _t(key: str, lang: str) -> str:
    return t(f"track.{key}", lang)


@dataclass(frozen=True)
class TrackView:
    """Tracks of some officers over a period, with their statistics."""

    subject: str  # what is played back (officer or grid name)
    back_href: str
    t0: float
    t1: float
    tracks: dict[str, list[list[float]]]  # officer id → [[ts, lon, lat], ...]
    names: dict[str, str]
    stats: dict[str, dict[str, float]]  # officer id → fixes, km, stops, avg_kmh
    stops: list[dict[str, Any]]  # {officer_id, lon, lat, start, end}
    incident: dict[str, Any] | None = None  # {id, title, lon, lat, ts, level}
    near: list[dict[str, Any]] = field(default_factory=list)  # {officer_id, name, dist_m}
    outline: dict[str, Any] | None = None  # the grid's shape
    lang: str = "zh"


def track_page(vm: TrackView) -> html.Div:
    """The playback page (pure); assets/track.js drives the playback."""
    lang = norm_lang(vm.lang)
    data = {"t0": vm.t0, "t1": vm.t1, "tracks": vm.tracks,
            "colours": {o: COLOURS[i % len(COLOURS)] for i, o in enumerate(vm.tracks)}}
    pts = [p for track in vm.tracks.values() for p in track]
    bounds = json.dumps([[min(p[2] for p in pts), min(p[1] for p in pts)],
                         [max(p[2] for p in pts), max(p[1] for p in pts)]]) if pts else ""
    return html.Div(
        id="gw-root", className=f"gw-root gw-desk gw-track-page gw-lang-{lang}",
        **{"data-track": json.dumps(data), "data-lang": lang, "data-bounds": bounds,
           "data-live-ids": json.dumps([TRACK_NOW])},
        children=[
            html.Header(className="gw-header", children=[
                html.Div(className="gw-brand", children=[
                    html.Span(className="gw-logo"),
                    html.H1(_t("title", lang), className="gw-title"),
                    html.Span(vm.subject, className="gw-region-name")]),
                html.Div(className="gw-status", children=[
                    html.A(_t("back", lang), href=vm.back_href, className="gw-lang"),
                    html.A(t("nav.lang_switch", lang), className="gw-lang", id=LANG_LINK,
                           title=t("nav.lang_switch_title", lang), href=switch_href(lang))])]),
            controls(vm, lang),
            html.Div(className="gw-body", children=[
                html.Main(track_map(vm), className="gw-mapwrap"),
                html.Aside(side(vm, lang), className="gw-side")]),
        ])


def controls(vm: TrackView, lang: str) -> html.Div:
    """Play / pause, speed, time slider, clock and follow mode."""
    return html.Div(className="gw-track-controls", children=[
        html.Button(_t("play", lang), id="gw-track-play", className="gw-btn",
                    **{"data-play": _t("play", lang), "data-pause": _t("pause", lang)}),
        html.Label([_t("speed", lang), html.Select(id="gw-track-speed", children=[
            html.Option(f"{s}×", value=str(s), selected=s == 60)
            for s in (1, 10, 60, 300, 1200)])], className="gw-track-label"),
        dcc.Input(id="gw-track-slider", type="range", min=0, max=1000, value=0,
                  className="gw-track-slider"),
        html.Span(local_time(vm.t0, with_date=True), id="gw-track-clock",
                  className="gw-clock-time"),
        dcc.Checklist(id="gw-track-follow", options=[{"label": _t("follow", lang),
                                                      "value": "follow"}],
                      value=[], className="gw-track-label", inline=True),
        html.Span(f"{_t('period', lang)} {local_time(vm.t0, True)} – {local_time(vm.t1, True)}",
                  className="gw-muted"),
    ])


def track_map(vm: TrackView) -> dl.Map:
    """Paths, stops, the case, and the officers' moving positions."""
    labels = popup_labels(norm_lang(vm.lang))
    layers: list[Any] = [dl.Pane(name="gwOfficers", style={"zIndex": 610}),
                         dl.Pane(name="gwIncidents", style={"zIndex": 640})]
    if vm.outline:
        layers.append(dl.GeoJSON(data=vm.outline, style=_NS("regionStyle"),
                                 hideout={"stats": {}}, id="gw-track-outline"))
    for i, (oid, pts) in enumerate(vm.tracks.items()):
        if len(pts) > 1:
            layers.append(dl.Polyline(positions=[[p[2], p[1]] for p in pts], weight=3,
                                      color=COLOURS[i % len(COLOURS)], opacity=0.8,
                                      children=dl.Tooltip(vm.names.get(oid, oid))))
    for s in vm.stops:
        layers.append(dl.CircleMarker(center=[s["lat"], s["lon"]], radius=7, color="#ffd24d",
                                      children=dl.Tooltip(
                                          f"{vm.names.get(s['officer_id'], s['officer_id'])} · "
                                          f"{local_time(s['start'])}–{local_time(s['end'])}")))
    if vm.incident:
        inc = vm.incident
        layers.append(dl.GeoJSON(data={"type": "FeatureCollection", "features": [{
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [inc["lon"],
                                                                             inc["lat"]]},
            "properties": {"id": inc["id"], "level": inc["level"], "title": inc["title"],
                           "category": inc.get("category", ""), "status": "",
                           "reported_ts": inc["ts"], "grid": ""}}]},
            pointToLayer=_NS("incidentPoint"), pane="gwIncidents", hideout={"labels": labels}))
    layers.append(dl.GeoJSON(id=TRACK_NOW, data={"type": "FeatureCollection", "features": []},
                             pointToLayer=_NS("officerPoint"), pane="gwOfficers",
                             hideout={"labels": labels}))
    lats = [p[2] for pts in vm.tracks.values() for p in pts] or [23.0]
    lons = [p[1] for pts in vm.tracks.values() for p in pts] or [113.75]
    return dl.Map(id="gw-map", center=[sum(lats) / len(lats), sum(lons) / len(lons)], zoom=15,
                  trackViewport=False, className="gw-map", children=layers,
                  style={"width": "100%", "height": "100%"})


def side(vm: TrackView, lang: str) -> list[Any]:
    """Statistics per officer, and who was near the case at its time."""
    if not vm.tracks:
        return [html.P(_t("none", lang), className="gw-muted")]
    rows = [html.Tr([html.Th(_t(k, lang)) for k in ("officer", "fixes", "km", "stops", "avg")])]
    for i, (oid, st) in enumerate(vm.stats.items()):
        rows.append(html.Tr([
            html.Td([html.Span("━ ", style={"color": COLOURS[i % len(COLOURS)]}),
                     vm.names.get(oid, oid)]),
            html.Td(int(st["fixes"])), html.Td(f"{st['km']:.2f}"), html.Td(int(st["stops"])),
            html.Td(f"{st['avg_kmh']:.1f}")]))
    out: list[Any] = [html.H2(_t("title", lang), className="gw-card-title"),
                      html.Table(rows, className="gw-track-stats")]
    if vm.incident:
        out += [html.H2(_t("near", lang), className="gw-card-title"),
                html.P(f"{_t('case', lang)}: {vm.incident['title']} · "
                       f"{local_time(vm.incident['ts'], True)}", className="gw-muted"),
                html.Ul(className="gw-near", children=[
                    html.Li([html.Span(n["name"], className="gw-near-name"),
                             html.Span(n["officer_id"], className="gw-near-id"),
                             html.Span(f"{n['dist_m']:.0f} m", className="gw-near-dist")])
                    for n in vm.near])]
    out.append(html.P(f"{_t('period', lang)}: {duration(vm.t1 - vm.t0, lang)}",
                      className="gw-muted"))
    return out
