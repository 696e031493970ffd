"""The statistics page's charts: stacked bars of cases per day by category and by level."""
from __future__ import annotations

import html as html_text
from typing import Any

import plotly.graph_objects as go
from dash import dcc

from domain.alerts import LEVELS, AlertLevel
from domain.model import Category
from layouts.i18n import category_name, level_name, norm_lang, t
from layouts.stats_model import StatsView, text

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


def plot_text(s: str) -> str:
    """Text for a Plotly label: Plotly reads a few HTML tags in labels, so escape them."""
    return html_text.escape(str(s), quote=False)


def category_colour(code: str, i: int = 0) -> str:
    """The chart colour of a category (a spare one, by position, for unknown codes)."""
    return CATEGORY_COLOURS.get(code) or OTHER_COLOURS[i % len(OTHER_COLOURS)]


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
