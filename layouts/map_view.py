"""The live map page (city, town, village, grid): header, KPI strip and the dash-leaflet map."""
from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import dash_leaflet as dl
from dash import html
from dash_extensions.javascript import Namespace

from domain.alerts import AlertLevel, drawn_at_zoom
from domain.basemap import Basemap
from layouts import ids
from layouts.camera_layer import camera_layer
from layouts.i18n import (
    POPUP_KEYS,
    catalogue,
    html_lang,
    js_texts,
    lang_query,
    level_name,
    norm_lang,
    switch_href,
    t,
)
from layouts.overlay_layer import overlay_layers
from layouts.viewmodels import FeatureCollection, IncidentMarker, MapView, RegionStat

# China has kept UTC+8 without DST since 1991: a fixed offset keeps this module free of I/O.
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
LOCAL_TZ_NAME = "Asia/Shanghai"

ALIAS_LEVELS = ("town", "village", "grid")  # levels whose pages keep a path of their own

_NS = Namespace("gridwatch", "map")


def map_page(vm: MapView, side: Any = None, chrome: Any = None) -> html.Div:
    """The whole live map page for a view-model, with an optional side panel and wall chrome."""
    lang = norm_lang(vm.lang)
    mode = "gw-wall" if vm.wall else "gw-desk"
    body = map_panel(vm, lang)
    if side is not None:
        body = html.Div([body, side], className="gw-body")
    return html.Div(
        id=ids.ROOT,
        className=f"gw-root {mode} gw-lang-{lang}",
        lang=html_lang(lang),
        children=[header(vm, lang), kpi_strip(vm, lang), body] + ([chrome] if chrome else []),
        **{"data-live-url": vm.live_url, "data-lang": lang, "data-tz": LOCAL_TZ_NAME,
           "data-i18n": js_texts(lang),
           "data-region": vm.region_code, "data-level": vm.region_level,
           "data-datum": vm.datum_shift,
           "data-as-of": repr(float(vm.as_of)),
           "data-bounds": json.dumps([list(vm.bounds[0]), list(vm.bounds[1])])
           if vm.bounds else ""},
    )


# ---------------------------------------------------------------- URLs


def view_query(lang: str, wall: bool) -> str:
    """The query string that keeps the language and wall mode on a link ("" for defaults)."""
    params = {}
    if lang_query(lang):
        params["lang"] = norm_lang(lang)
    if wall:
        params["wall"] = "1"
    return "?" + urlencode(params) if params else ""


def region_path(level: str, code: str) -> str:
    """The drill-down path of a region: / for the city, /town/<code>, /village/<code> and
    /grid/<code> for those levels (the aliases), /region/<code> for any other."""
    if level == "city":
        return "/"
    path = level if level in ALIAS_LEVELS else "region"
    return f"/{path}/{quote(str(code), safe='')}"


def child_level(vm: MapView) -> str | None:
    """The level of a region's children (None below grids)."""
    order = vm.levels
    i = order.index(vm.region_level) if vm.region_level in order else len(order) - 1
    return order[i + 1] if i + 1 < len(order) else None


def crumb_levels(vm: MapView) -> list[str]:
    """The level of each breadcrumb, counted up from the current region (last = it or parent)."""
    n, order = len(vm.breadcrumbs), vm.levels
    here = order.index(vm.region_level) if vm.region_level in order else 0
    last_is_here = n > 0 and vm.breadcrumbs[-1][0] == vm.region_code
    last = here if last_is_here else here - 1
    return [order[max(0, last - (n - 1 - i))] for i in range(n)]


def level_title(vm: MapView, level: str, lang: str) -> str:
    """A level's display name: the city's own, else the catalogue's (Dongguan's levels)."""
    return vm.level_names.get(level) or t(f"region.{level}", lang)


# ---------------------------------------------------------------- header


def format_time(ts: float) -> str:
    """Local (Asia/Shanghai) HH:MM:SS of an epoch time."""
    return datetime.fromtimestamp(ts, UTC).astimezone(LOCAL_TZ).strftime("%H:%M:%S")


def header(vm: MapView, lang: str) -> html.Header:
    """Title, region name, breadcrumbs, language switch, connection state and data clock."""
    brand: list[Any] = [html.Span(className="gw-logo", **{"aria-hidden": "true"}),
                        html.H1(t("app.title", lang), id=ids.TITLE, className="gw-title")]
    if not vm.wall:
        brand.append(breadcrumbs(vm, lang))
    brand.append(html.Span(vm.region_name, id=ids.REGION_NAME, className="gw-region-name",
                           title=level_title(vm, vm.region_level, lang)))
    status: list[Any] = [connection_indicator(lang), data_clock(vm, lang)]
    if not vm.wall:
        status.append(html.A(t("nav.stats", lang), className="gw-lang gw-stats-link",
                             href=f"/stats/{vm.region_code}" + view_query(lang, False)))
        status.append(html.A(t("nav.lang_switch", lang), id=ids.LANG_LINK,
                             className="gw-lang", title=t("nav.lang_switch_title", lang),
                             href=switch_href(lang)))
    return html.Header(className="gw-header", children=[
        html.Div(className="gw-brand", children=brand),
        html.Div(className="gw-status", children=status)])


def breadcrumbs(vm: MapView, lang: str) -> html.Nav:
    """Links to the ancestors, top down, each followed by a separator (the region badge follows)."""
    query = view_query(lang, vm.wall)
    items: list[Any] = []
    for (code, name), level in zip(vm.breadcrumbs, crumb_levels(vm), strict=True):
        if code == vm.region_code:
            continue
        items.append(html.A(name, href=region_path(level, code) + query, className="gw-crumb",
                            title=level_title(vm, level, lang)))
        items.append(html.Span("›", className="gw-crumb-sep", **{"aria-hidden": "true"}))
    return html.Nav(items, id=ids.BREADCRUMBS, className="gw-crumbs",
                    **{"aria-label": t("nav.breadcrumbs", lang)})


def connection_indicator(lang: str) -> html.Div:
    """The push connection state; the JS switches the gw-conn--<state> class."""
    return html.Div(id=ids.CONN, className="gw-conn gw-conn--connecting", role="status",
                    children=[html.Span(className="gw-conn-dot")] + [
                        html.Span(t(f"conn.{s}", lang), className=f"gw-conn-t gw-conn-t-{s}")
                        for s in ("connecting", "open", "closed")])


def data_clock(vm: MapView, lang: str) -> html.Div:
    """The local time of the data; the JS updates it and flags it when stale."""
    return html.Div(id=ids.CLOCK, className="gw-clock", children=[
        html.Span(t("clock.as_of", lang), className="gw-clock-label"),
        html.Span(format_time(vm.as_of), id=ids.ASOF, className="gw-clock-time"),
        html.Span(t("clock.stale", lang), className="gw-stale-badge"),
    ])


# ---------------------------------------------------------------- KPI strip


def kpi_card(kind: str, label: str, value: Any, value_id: str, extra: Any = None) -> html.Div:
    """One KPI card: a cue (shape), a label and a value element with its own id."""
    value_children: list[Any] = [html.Span(str(value), id=value_id, className="gw-kpi-num")]
    if extra is not None:
        value_children.append(extra)
    return html.Div(className=f"gw-kpi gw-kpi-{kind}", children=[
        html.Span(className=f"gw-cue gw-cue-{kind}", **{"aria-hidden": "true"}),
        html.Div(className="gw-kpi-body", children=[
            html.Div(label, className="gw-kpi-label"),
            html.Div(value_children, className="gw-kpi-value"),
        ]),
    ])


def kpi_strip(vm: MapView, lang: str) -> html.Section:
    """Open red / yellow / green, new today, overdue, officers on duty / total."""
    k = vm.kpi
    total = html.Span(className="gw-kpi-total", children=[
        html.Span(" / ", className="gw-kpi-slash"),
        html.Span(str(k.officers), id=ids.KPI_OFFICERS, className="gw-kpi-num-total")])
    return html.Section(id=ids.KPI_STRIP, className="gw-kpis", children=[
        kpi_card("red", t("kpi.open_red", lang), k.open_red, ids.KPI_RED),
        kpi_card("yellow", t("kpi.open_yellow", lang), k.open_yellow, ids.KPI_YELLOW),
        kpi_card("green", t("kpi.open_green", lang), k.open_green, ids.KPI_GREEN),
        kpi_card("new", t("kpi.new_today", lang), k.new_today, ids.KPI_NEW_TODAY),
        kpi_card("overdue", t("kpi.overdue", lang), k.overdue, ids.KPI_OVERDUE),
        kpi_card("officers", t("kpi.officers", lang), k.on_duty, ids.KPI_ON_DUTY, total),
    ])


# ---------------------------------------------------------------- map data


def region_code(feature: dict[str, Any]) -> str:
    """The region code of a child feature (properties.code, else the feature id)."""
    props = feature.get("properties") or {}
    return str(props.get("code", feature.get("id", "")))


def ring_centroid(ring: list[list[float]]) -> tuple[float, float, float]:
    """(area, lon, lat) of a linear ring by the shoelace formula (vertex mean if degenerate)."""
    a = cx = cy = 0.0
    for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(a) < 1e-15:
        n = max(len(ring), 1)
        return 0.0, sum(p[0] for p in ring) / n, sum(p[1] for p in ring) / n
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def label_point(feature: dict[str, Any]) -> tuple[float, float] | None:
    """Where a region's label goes: properties.label_point, else its largest ring's centroid."""
    props = feature.get("properties") or {}
    if props.get("label_point"):
        lon, lat = props["label_point"][:2]
        return float(lon), float(lat)
    geom = feature.get("geometry") or {}
    kind, coords = geom.get("type"), geom.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    rings = [ring_centroid(p[0]) for p in polygons if p and len(p[0]) >= 3]
    if not rings:
        return None
    _, lon, lat = max(rings, key=lambda r: r[0])
    return lon, lat


def children_data(vm: MapView, lang: str) -> FeatureCollection:
    """The child regions with code, name and drill-down href in their properties (a copy)."""
    level = child_level(vm)
    query = view_query(lang, vm.wall)
    features = []
    for f in vm.children.get("features", []):
        code = region_code(f)
        props = dict(f.get("properties") or {})
        props["code"] = code
        props.setdefault("name", code)
        if lang == "en" and props.get("name_en"):
            props["name"] = props["name_en"]
        if level:
            props["href"] = region_path(level, code) + query
        features.append({"type": "Feature", "geometry": f.get("geometry"), "properties": props})
    return {"type": "FeatureCollection", "features": features}


def labels_data(children: FeatureCollection) -> FeatureCollection:
    """One label point per child region, carrying code, name and href."""
    features = []
    for f in children["features"]:
        point = label_point(f)
        if point is None:
            continue
        p = f["properties"]
        props = {"code": p["code"], "name": p["name"], "href": p.get("href")}
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": list(point)}})
    return {"type": "FeatureCollection", "features": features}


def incidents_data(incidents: list[IncidentMarker]) -> FeatureCollection:
    """Open cases as GeoJSON points; the properties are the push protocol's incident fields."""
    features = []
    for m in incidents:
        props = m.as_dict()
        lon, lat = props.pop("lon"), props.pop("lat")
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return {"type": "FeatureCollection", "features": features}


def stats_hideout(stats: dict[str, RegionStat]) -> dict[str, Any]:
    """Region and label hideout: {"stats": {code: {green, yellow, red, level}}}."""
    return {"stats": {str(code): s.as_dict() for code, s in stats.items()}}


# ---------------------------------------------------------------- map


def popup_labels(lang: str) -> dict[str, str]:
    """The texts the JS marker, tooltip and popup functions read from their layer's hideout."""
    return catalogue(lang, POPUP_KEYS)


def officer_layer(labels: dict[str, str]) -> dl.GeoJSON:
    """Officers as the push channel sends them for the map's viewport at its zoom: counts per
    town or village, cells, single officers where few are in view (at every scale)."""
    return dl.GeoJSON(id=ids.OFFICERS, data={"type": "FeatureCollection", "features": []},
                      cluster=False, pointToLayer=_NS("officerOrCluster"),
                      hideout={"labels": labels}, pane=ids.PANE_OFFICERS)


def basemap_layers(basemap: Basemap | None) -> list[Any]:
    """The basemap's tile layers (none: the dark background shows)."""
    if basemap is None:
        return []
    return [dl.TileLayer(url=t.url, maxZoom=19, maxNativeZoom=t.max_zoom,
                         attribution=t.attribution or None, className="gw-basemap",
                         **({"subdomains": t.subdomains} if t.subdomains else {}))
            for t in basemap.layers]


def fit_zoom(bounds: tuple[float, float, float, float]) -> int:
    """The zoom a map page opens a region at (minx, miny, maxx, maxy): it fits the page's map."""
    minx, miny, maxx, maxy = bounds
    span = max(maxx - minx, (maxy - miny) * 1.3, 1e-4)
    return max(8, min(18, int(math.log2(360 * 900 / (256 * span)))))


def cases_at_zoom(incidents: list[IncidentMarker], zoom: int) -> list[IncidentMarker]:
    """The cases drawn as single markers at a zoom: all from CASE_ZOOM, else the red ones."""
    return [m for m in incidents if drawn_at_zoom(m.level, zoom)]


def map_layers(vm: MapView, lang: str) -> list[Any]:
    """Regions, their labels, then officers and cases in their own panes above them."""
    children = children_data(vm, lang)
    hideout = stats_hideout(vm.child_stats)
    labels = popup_labels(lang)
    layers: list[Any] = basemap_layers(vm.basemap)
    layers += [
        dl.GeoJSON(id=ids.REGIONS, data=children, hideout=hideout, style=_NS("regionStyle"),
                   hoverStyle=_NS("regionHover"), onEachFeature=_NS("regionEach"),
                   zoomToBoundsOnClick=False),
        # labels above every marker (never hidden under cases or officers), below tooltips
        dl.Pane(name=ids.PANE_LABELS, style={"zIndex": 645}, children=dl.GeoJSON(
            id=ids.LABELS, data=labels_data(children), hideout=hideout,
            pointToLayer=_NS("labelPoint"), pane=ids.PANE_LABELS)),
        dl.Pane(name=ids.PANE_OFFICERS, style={"zIndex": 610},
                children=officer_layer(labels)),
        dl.Pane(name=ids.PANE_INCIDENTS, style={"zIndex": 640}, children=dl.GeoJSON(
            id=ids.INCIDENTS, data=incidents_data(cases_at_zoom(vm.incidents, vm.zoom)),
            hideout={"labels": labels},
            pointToLayer=_NS("incidentPoint"), pane=ids.PANE_INCIDENTS)),
    ]
    if vm.cameras is not None and vm.cameras.get("features"):
        layers += camera_layer(vm.cameras, lang)
    layers += overlay_layers(vm.overlays, lang)
    return layers


def legend(lang: str) -> html.Div:
    """The map legend: level colours with their shapes, officer marks, cluster bubble."""
    items = [(f"inc-{lv}", level_name(lv, lang)) for lv in reversed(AlertLevel)]
    items += [("duty-on", t("legend.officer_on", lang)),
              ("duty-off", t("legend.officer_off", lang)),
              ("cluster", t("legend.cluster", lang))]
    return html.Div(id=ids.LEGEND, className="gw-legend", children=[
        html.Div(t("legend.title", lang), className="gw-legend-title")] + [
        html.Div(className="gw-legend-item", children=[
            html.Span(className=f"gw-lg gw-lg-{cls}", **{"aria-hidden": "true"}),
            html.Span(text)]) for cls, text in items])


def map_panel(vm: MapView, lang: str) -> html.Main:
    """The map filling the rest of the screen, with its legend."""
    the_map = dl.Map(
        id=ids.MAP, center=[vm.centre[0], vm.centre[1]], zoom=vm.zoom, className="gw-map",
        zoomControl=not vm.wall, attributionControl=bool(vm.basemap), zoomSnap=0.5,
        # trackViewport would replace our moveend handler (dash-leaflet 1.1.3) and push
        # center/zoom/bounds into Dash on every pan; the JS holds updates on movestart/moveend.
        trackViewport=False,
        style={"width": "100%", "height": "100%"}, children=map_layers(vm, lang),
        eventHandlers={"movestart": _NS("moveStart"), "moveend": _NS("moveEnd"),
                       "popupopen": _NS("popupOpen"), "popupclose": _NS("popupClose")},
    )
    return html.Main(className="gw-mapwrap", role="region",
                     **{"aria-label": t("map.label", lang)},
                     children=[the_map, legend(lang)])
