"""The statistics page of a region: cases per day, handling times and repeat-location hotspots."""
from __future__ import annotations

import html as html_text
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import plotly.graph_objects as go
from dash import dcc, html

from domain.alerts import LEVELS, AlertLevel
from domain.model import Category
from layouts.i18n import category_name, level_name, norm_lang, switch_href, t
from layouts.ids import LANG_LINK
from layouts.map_view import LOCAL_TZ, region_path, view_query

# Component ids of the page.
ROOT = "gw-stats"
BACK_LINK = "gw-stats-back"
CHART_CATEGORY = "gw-stats-by-category"
CHART_LEVEL = "gw-stats-by-level"
TIMES = "gw-stats-times"
HOT_SHORT = "gw-stats-hot-short"
HOT_LONG = "gw-stats-hot-long"

LEVEL_COLOURS = dict(zip(AlertLevel, ("#1fd17a", "#ffc53d", "#ff3d3d"), strict=True))
LEVEL_PATTERNS = dict(zip(AlertLevel, ("", "/", "x"), strict=True))  # a cue beside colour
CATEGORY_COLOURS = dict(zip(Category, (  # in the order of domain.model.Category
    "#5b9bff", "#ff9f43", "#b18cff", "#ff6b9a", "#d9b650", "#2ed8b6", "#38bdf8", "#94a3b8",
    "#a3e635", "#f0abfc"), strict=True))
OTHER_COLOURS = ("#7dd3fc", "#fda4af", "#bef264", "#fcd34d", "#c4b5fd", "#99f6e4")
FONT = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
        '"Helvetica Neue", Arial, sans-serif')
FONT_PX = 16  # chart text on desks; nothing below 14 px
WALL_FONT_PX = 20  # and on the wall, read from metres away
# Plotly's own English texts (its dictionary keys) and our catalogue keys for them.
PLOTLY_TEXTS = ("Download plot as a png", "Zoom", "Pan", "Zoom in", "Zoom out", "Autoscale",
                "Reset axes", "Double-click to zoom back out")
PLOT_KEYS = ("plot.download", "plot.zoom", "plot.pan", "plot.zoom_in", "plot.zoom_out",
             "plot.autoscale", "plot.reset", "plot.double_click")
# Plotly's own buttons: only these (their tooltips come from the catalogue, plot.*).
GRAPH_CONFIG = {"displaylogo": False, "modeBarButtons": [[
    "toImage", "zoom2d", "pan2d", "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d"]]}

def text(key: str, lang: str, **fmt: Any) -> str:
    """A string of this page (stats.<key> in the catalogue) in a language."""
    return t(f"stats.{key}", lang, **fmt)


# ---------------------------------------------------------------- view-model


@dataclass(frozen=True)
class Timing:
    """Minutes from report to one stage over some cases: n done, mean, p90, share on time."""

    n: int = 0
    mean_min: float = math.nan
    p90_min: float = math.nan
    on_time: float = math.nan  # share of the n done within the SLA


@dataclass(frozen=True)
class TimeRow:
    """Handling times of one category ("" for all categories) and its SLA deadlines."""

    category: str
    cases: int
    dispatch: Timing
    resolve: Timing
    dispatch_sla_min: float | None = None
    resolve_sla_min: float | None = None


@dataclass(frozen=True)
class HotspotRow:
    """A grid with many cases in a period."""

    grid: str
    name: str
    place: str  # its village and town
    count: int
    share: float  # of all the region's cases in the period
    red: int = 0
    top_category: str = ""
    top_title: str = ""  # untrusted field text: shown as text only


@dataclass(frozen=True)
class StatsView:
    """The statistics page of a region over the last `days` days."""

    region_code: str
    region_name: str
    region_level: str  # city | town | village | grid
    as_of: float
    dates: list[str]  # local ISO dates, oldest first
    by_category: dict[str, list[int]]  # category code → cases per date
    by_level: dict[str, list[int]]  # green | yellow | red → cases per date
    overall: TimeRow
    times: list[TimeRow]
    hotspots_short: list[HotspotRow]
    hotspots_long: list[HotspotRow]
    total_cases: int = 0
    open_cases: int = 0
    red_cases: int = 0
    days: int = 30
    short_days: int = 7
    long_days: int = 30
    lang: str = "zh"
    wall: bool = False


# ---------------------------------------------------------------- formatting


def fmt_minutes(minutes: float | None, lang: str) -> str:
    """Minutes as "N 分钟" / "N.N 小时" / "N.N 天" (en: min, h, d); "—" if unknown."""
    if minutes is None or not math.isfinite(minutes):
        return "—"
    if minutes < 10:
        return text("unit.min", lang, n=f"{minutes:.1f}")
    if minutes < 60:
        return text("unit.min", lang, n=f"{minutes:.0f}")
    if minutes < 48 * 60:
        return text("unit.h", lang, n=f"{minutes / 60:.1f}")
    return text("unit.d", lang, n=f"{minutes / 1440:.1f}")


def fmt_share(share: float | None) -> str:
    """A share as a percentage with one decimal; "—" if unknown."""
    if share is None or not math.isfinite(share):
        return "—"
    return f"{100 * share:.1f}%"


def plot_text(s: str) -> str:
    """Text for a Plotly label: Plotly reads a few HTML tags in labels, so escape them."""
    return html_text.escape(str(s), quote=False)


def category_colour(code: str, i: int = 0) -> str:
    """The chart colour of a category (a spare one, by position, for unknown codes)."""
    return CATEGORY_COLOURS.get(code) or OTHER_COLOURS[i % len(OTHER_COLOURS)]


def local_time(ts: float) -> str:
    """Local YYYY-MM-DD HH:MM of an epoch time."""
    return datetime.fromtimestamp(ts, UTC).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


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
        lang="zh-CN" if lang == "zh" else "en", style={"overflowY": "auto"},
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
                       title=t(f"region.{vm.region_level}", lang))]
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


# ---------------------------------------------------------------- charts


def graph_config(lang: str) -> dict[str, Any]:
    """The charts' config: Plotly's button tooltips in the page's language (an inline locale)."""
    if norm_lang(lang) == "en":
        return dict(GRAPH_CONFIG)
    words = {en: zh for en, zh in zip(PLOTLY_TEXTS, (t(k, "zh") for k in PLOT_KEYS),
                                      strict=True)}
    return {**GRAPH_CONFIG, "locale": "gw-zh",
            "locales": {"gw-zh": {"dictionary": words, "format": {}}}}


def graph(graph_id: str, fig: go.Figure, lang: str = "zh") -> dcc.Graph:
    """A chart without the Plotly logo."""
    return dcc.Graph(id=graph_id, figure=fig, config=graph_config(lang),
                     style={"height": "380px"})


def stacked_bars(dates: list[str], series: list[tuple[str, list[int], str, str]],
                 lang: str, px: int = FONT_PX) -> go.Figure:
    """Stacked daily bars, one trace per (name, values, colour, pattern), dark, `px` text."""
    fig = go.Figure()
    for name, values, colour, pattern in series:
        fig.add_trace(go.Bar(
            x=dates, y=values, name=plot_text(name), hovertemplate="%{y}",
            marker={"color": colour, "line": {"width": 0},
                    "pattern": {"shape": pattern, "fgcolor": "rgba(6,13,25,0.6)", "size": 8,
                                "solidity": 0.3}}))
    fig.update_layout(
        template="plotly_dark", barmode="stack", bargap=0.18, height=380,
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        font={"family": FONT, "size": px, "color": "#e8f0fb"},
        margin={"l": 60, "r": 12, "t": 8, "b": 44}, hovermode="x unified",
        hoverlabel={"font": {"size": px}},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                "font": {"size": px - 1}})
    fig.update_xaxes(type="date", tickformat="%m-%d", hoverformat="%Y-%m-%d",
                     gridcolor="rgba(45,82,136,0.25)", tickfont={"size": px - 1})
    fig.update_yaxes(title={"text": plot_text(text("chart.cases", lang)),
                            "font": {"size": px}},
                     rangemode="tozero", tickformat="d", gridcolor="rgba(45,82,136,0.35)",
                     tickfont={"size": px - 1})
    if not any(v for _, values, _, _ in series for v in values):
        fig.add_annotation(text=plot_text(text("chart.empty", lang)), showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5,
                           font={"size": px + 4, "color": "#9fb3d1"})
    return fig


def category_figure(vm: StatsView) -> go.Figure:
    """Cases per day stacked by category, the busiest category at the bottom."""
    lang = norm_lang(vm.lang)
    busy = sorted((c for c, v in vm.by_category.items() if any(v)),
                  key=lambda c: (-sum(vm.by_category[c]), c))
    series = [(category_name(c, lang), vm.by_category[c], category_colour(c, i), "")
              for i, c in enumerate(busy)]
    return stacked_bars(vm.dates, series, lang, WALL_FONT_PX if vm.wall else FONT_PX)


def level_figure(vm: StatsView) -> go.Figure:
    """Cases per day stacked by alert level: green, yellow, red (colour and pattern)."""
    lang = norm_lang(vm.lang)
    zeros = [0] * len(vm.dates)
    series = [(level_name(lv, lang), vm.by_level.get(lv, zeros), LEVEL_COLOURS[lv],
               LEVEL_PATTERNS[lv]) for lv in LEVELS]
    return stacked_bars(vm.dates, series, lang, WALL_FONT_PX if vm.wall else FONT_PX)


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
