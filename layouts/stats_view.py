"""The statistics page of a region: cases per day, handling times and repeat-location hotspots."""
from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from dash import html

from layouts.i18n import category_name, html_lang, norm_lang, switch_href, t
from layouts.ids import LANG_LINK
from layouts.map_view import region_path, view_query
from layouts.stats_charts import category_figure, graph, level_figure
from layouts.stats_model import (
    HotspotRow,
    StatsView,
    TimeRow,
    Timing,
    fmt_minutes,
    fmt_share,
    local_time,
    text,
)

# Component ids of the page.
ROOT = "gw-stats"
BACK_LINK = "gw-stats-back"
CHART_CATEGORY = "gw-stats-by-category"
CHART_LEVEL = "gw-stats-by-level"
TIMES = "gw-stats-times"
HOT_SHORT = "gw-stats-hot-short"
HOT_LONG = "gw-stats-hot-long"


# ---------------------------------------------------------------- page


_PANEL = {"background": "linear-gradient(135deg, var(--gw-panel-2) 0%, var(--gw-panel) 100%)",
          "border": "1px solid var(--gw-line)", "borderRadius": "0.4em",
          "padding": "0.7em 1em", "minWidth": 0}
_H2 = {"margin": "0 0 0.45em", "fontSize": "1.15em", "fontWeight": 700, "color": "#ffffff",
       "letterSpacing": "0.04em"}
_ROW2 = {"display": "grid", "gridTemplateColumns": "repeat(auto-fit, minmax(560px, 1fr))",
         "gap": "0.8em"}
_TH = {"textAlign": "left", "color": "var(--gw-text-dim)", "fontWeight": 600,
       "padding": "0.35em 0.6em", "borderBottom": "1px solid var(--gw-line-2)",
       "whiteSpace": "nowrap"}
_TD = {"padding": "0.35em 0.6em", "borderBottom": "1px solid var(--gw-line)"}
_NUM = {**_TD, "textAlign": "right", "fontFamily": "var(--gw-mono)", "whiteSpace": "nowrap",
        "fontVariantNumeric": "tabular-nums"}
_DIM = {"color": "var(--gw-text-dim)", "fontSize": "0.85em"}


def stats_page(vm: StatsView) -> html.Div:
    """The whole statistics page for a view-model (pure: no I/O, no callbacks)."""
    lang = norm_lang(vm.lang)
    mode = "gw-wall" if vm.wall else "gw-desk"
    body = [
        html.Div(style=_ROW2, children=[
            panel(text("chart.by_category", lang),
                  graph(CHART_CATEGORY, category_figure(vm), lang)),
            panel(text("chart.by_level", lang), graph(CHART_LEVEL, level_figure(vm), lang))]),
        panel(text("times.title", lang), times_table(vm, lang)),
        html.Div(style=_ROW2, children=[
            panel(text("hot.title", lang, n=vm.short_days),
                  hotspot_table(HOT_SHORT, vm.hotspots_short, lang, vm.wall)),
            panel(text("hot.title", lang, n=vm.long_days),
                  hotspot_table(HOT_LONG, vm.hotspots_long, lang, vm.wall))]),
    ]
    return html.Div(
        id=ROOT, className=f"gw-root {mode} gw-stats gw-lang-{lang}",
        lang=html_lang(lang), style={"overflowY": "auto"},
        children=[header(vm, lang), kpis(vm, lang),
                  html.Main(body, style={"display": "flex", "flexDirection": "column",
                                         "gap": "0.8em", "padding": "0.8em 1.1em"})],
        **{"data-region": vm.region_code, "data-level": vm.region_level, "data-lang": lang})


def panel(title: str, content: Any) -> html.Section:
    """A titled panel of the page."""
    return html.Section(style=_PANEL, children=[html.H2(title, style=_H2), content])


def header(vm: StatsView, lang: str) -> html.Header:
    """Title, page name, region name, window and as-of time, back link, language switch."""
    brand = [html.Span(className="gw-logo", **{"aria-hidden": "true"}),
             html.H1(t("app.title", lang), className="gw-title"),
             html.Span(text("page", lang), className="gw-stats-page",
                       style={"fontSize": "1.1em", "fontWeight": 600}),
             html.Span(vm.region_name, className="gw-region-name",
                       title=vm.level_name or t(f"region.{vm.region_level}", lang))]
    status: list[Any] = [
        html.Span(text("window", lang, n=vm.days), style={"fontWeight": 600}),
        html.Span([html.Span(text("as_of", lang) + " ", style=_DIM),
                   html.Span(local_time(vm.as_of), className="gw-clock-time",
                             style={"fontSize": "1em"})]),
        html.A(text("back", lang), id=BACK_LINK, className="gw-lang",
               href=region_path(vm.region_level, vm.region_code) + view_query(lang, vm.wall))]
    if not vm.wall:
        status.append(html.A(t("nav.lang_switch", lang), className="gw-lang", id=LANG_LINK,
                             title=t("nav.lang_switch_title", lang),
                             href=switch_href(lang)))
    return html.Header(className="gw-header", children=[
        html.Div(className="gw-brand", children=brand),
        html.Div(className="gw-status", children=status)])


def _kpi(kind: str, label: str, value: str, cue: bool = True) -> html.Div:
    parts: list[Any] = [html.Span(className=f"gw-cue gw-cue-{kind}", **{"aria-hidden": "true"})
                        ] if cue else []
    parts.append(html.Div(className="gw-kpi-body", children=[
        html.Div(label, className="gw-kpi-label"),
        html.Div(html.Span(value, className="gw-kpi-num"), className="gw-kpi-value")]))
    return html.Div(className=f"gw-kpi gw-kpi-{kind}", children=parts)


def kpis(vm: StatsView, lang: str) -> html.Section:
    """Cases, still open, reached red, mean and p90 to dispatch, mean to resolve."""
    d, r = vm.overall.dispatch, vm.overall.resolve
    return html.Section(className="gw-kpis", children=[
        _kpi("new", text("kpi.cases", lang), str(vm.total_cases)),
        _kpi("overdue", text("kpi.open", lang), str(vm.open_cases)),
        _kpi("red", text("kpi.red", lang), str(vm.red_cases)),
        _kpi("new", text("kpi.dispatch", lang), fmt_minutes(d.mean_min, lang), cue=False),
        _kpi("new", text("kpi.dispatch_p90", lang), fmt_minutes(d.p90_min, lang), cue=False),
        _kpi("new", text("kpi.resolve", lang), fmt_minutes(r.mean_min, lang), cue=False)])


# ---------------------------------------------------------------- tables


def _time_cells(tm: Timing, sla: float | None, lang: str) -> list[html.Td]:
    """n, mean, p90, on-time share and SLA; a time over the SLA is red with a ▲ and a title."""
    cells = [html.Td(str(tm.n), style=_NUM)]
    for value in (tm.mean_min, tm.p90_min):
        over = sla is not None and math.isfinite(value) and value > sla
        shown = fmt_minutes(value, lang)
        cells.append(html.Td(
            "▲ " + shown if over else shown, className="gw-over" if over else None,
            title=text("times.over", lang) if over else None,
            style={**_NUM, "color": "var(--gw-red)", "fontWeight": 700} if over else _NUM))
    on_time = tm.on_time
    colour = None if not math.isfinite(on_time) else "var(--gw-green)" if on_time >= 0.9 \
        else "var(--gw-yellow)" if on_time >= 0.75 else "var(--gw-red)"
    cells.append(html.Td(fmt_share(on_time), style={**_NUM, "color": colour} if colour
                         else _NUM))
    cells.append(html.Td(fmt_minutes(sla, lang), style={**_NUM, **_DIM}))
    return cells


def time_row(row: TimeRow, lang: str) -> html.Tr:
    """One category's (or all categories') handling times."""
    name = text("times.all", lang) if not row.category else category_name(row.category, lang)
    first = html.Td(name, style={**_TD, "fontWeight": 700 if not row.category else 500})
    return html.Tr([first, *_time_cells(row.dispatch, row.dispatch_sla_min, lang),
                    *_time_cells(row.resolve, row.resolve_sla_min, lang)],
                   className="gw-times-all" if not row.category else "gw-times-row",
                   style={"background": "rgba(0,200,255,0.06)"} if not row.category else None)


def times_table(vm: StatsView, lang: str) -> html.Table:
    """Mean, p90, on-time share and SLA to dispatch and to resolve, overall and per category."""
    group = {**_TH, "textAlign": "center", "color": "#ffffff"}
    sub = [html.Th(text(k, lang), style={**_TH, "textAlign": "right"}) for _ in range(2)
           for k in ("times.n", "times.mean", "times.p90", "times.on_time", "times.sla")]
    head = html.Thead([
        html.Tr([html.Th(text("times.category", lang), rowSpan=2, style=_TH),
                 html.Th(text("times.dispatch", lang), colSpan=5, style=group),
                 html.Th(text("times.resolve", lang), colSpan=5, style=group)]),
        html.Tr(sub)])
    rows = [time_row(vm.overall, lang)] + [time_row(r, lang) for r in vm.times]
    if not vm.total_cases:
        rows = [html.Tr([html.Td(text("chart.empty", lang), colSpan=11,
                                 style={**_TD, **_DIM, "textAlign": "center"})])]
    return html.Table([head, html.Tbody(rows)], id=TIMES,
                      style={"width": "100%", "borderCollapse": "collapse"})


def grid_href(code: str, lang: str, wall: bool) -> str:
    """The map page of a grid, keeping the language and wall mode."""
    return f"/grid/{quote(code, safe='')}" + view_query(lang, wall)


def hotspot_row(rank: int, h: HotspotRow, top: int, lang: str, wall: bool) -> html.Tr:
    """One hotspot grid: rank, name and place, cases with a bar, share, red, category, title."""
    bar = html.Div(style={"height": "0.3em", "borderRadius": "0.15em",
                          "background": "var(--gw-accent)", "opacity": 0.7,
                          "width": f"{100 * h.count / max(top, 1):.0f}%", "marginLeft": "auto"})
    red = [html.Span("◆ ", style={"color": "var(--gw-red)"}), str(h.red)] if h.red else "0"
    return html.Tr(className="gw-hot-row", **{"data-grid": h.grid}, children=[
        html.Td(str(rank), style={**_NUM, **_DIM}),
        html.Td([html.A(h.name or h.grid, href=grid_href(h.grid, lang, wall), title=h.grid,
                        style={"fontWeight": 700}),
                 html.Div(h.place, style=_DIM)], style=_TD),
        html.Td([html.Span(str(h.count), style={"fontWeight": 700}), bar], style=_NUM),
        html.Td(fmt_share(h.share), style=_NUM),
        html.Td(red, style=_NUM),
        html.Td(category_name(h.top_category, lang) if h.top_category else "—", style=_TD),
        html.Td(h.top_title or "—", className="gw-hot-title",
                style={**_TD, "overflowWrap": "anywhere"}),
    ])


def hotspot_table(table_id: str, rows: list[HotspotRow], lang: str, wall: bool) -> html.Table:
    """Hotspot grids of a period, most cases first (a "no cases" row when there are none)."""
    cols = (("hot.rank", True), ("hot.grid", False), ("hot.count", True), ("hot.share", True),
            ("hot.red", True), ("hot.category", False), ("hot.top_title", False))
    head = html.Thead(html.Tr([html.Th(text(k, lang), style={**_TH, "textAlign": "right"}
                                       if num else _TH) for k, num in cols]))
    top = max((h.count for h in rows), default=0)
    body = [hotspot_row(i, h, top, lang, wall) for i, h in enumerate(rows, start=1)]
    if not body:
        body = [html.Tr([html.Td(text("hot.empty", lang), colSpan=len(cols),
                                 style={**_TD, **_DIM, "textAlign": "center"})])]
    return html.Table([head, html.Tbody(body)], id=table_id,
                      style={"width": "100%", "borderCollapse": "collapse"})
