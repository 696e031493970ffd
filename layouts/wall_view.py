"""Wall mode chrome: clock, rotation status, data-freshness banner (filled by assets/wall.js)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from dash import html

from layouts.i18n import catalogue, t

# Component ids (assets/wall.js looks them up by these; it fills the empty spans with text)
WALL = "gw-wall"
WALL_TIME = "gw-wall-time"
WALL_DATE = "gw-wall-date"
WALL_NOW = "gw-wall-now"
WALL_STEP = "gw-wall-step"
WALL_NEXT = "gw-wall-next"
WALL_BANNER = "gw-wall-banner"
WALL_AGE = "gw-wall-age"

ROTATE_ITEMS = ("here", "children", "red")


@dataclass(frozen=True)
class WallView:
    """How a wall behaves: its home region, playlist kinds, dwell and staleness threshold."""

    home: str  # the wall's scope: rotation never leaves it
    home_name: str
    rotate: tuple[str, ...]  # playlist kinds in order ("" = no rotation)
    dwell_s: float
    stale_s: float
    timezone: str = "Asia/Shanghai"


def parse_rotate(raw: str | None, default: str) -> tuple[str, ...]:
    """The known playlist kinds of a comma-separated list ("off" or "0" = none)."""
    text = default if raw is None else raw
    if text.strip().lower() in ("off", "0", "none"):
        return ()
    return tuple(k for k in (p.strip().lower() for p in text.split(",")) if k in ROTATE_ITEMS)


def clamp(raw: str | None, default: float, low: float, high: float) -> float:
    """A number from the URL within [low, high], else the default."""
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return min(high, max(low, value)) if value == value else default


def wall_chrome(w: WallView, lang: str) -> html.Div:
    """The wall's bottom bar (rotation, clock) and its stale banner, configured by data-*."""
    labels = catalogue(lang, ("wall.", "cat.", "level."))
    return html.Div(id=WALL, className="gw-wallbar", **{
        "data-home": w.home, "data-rotate": ",".join(w.rotate), "data-lang": lang,
        "data-dwell": repr(float(w.dwell_s)), "data-stale": repr(float(w.stale_s)),
        "data-tz": w.timezone, "data-labels": json.dumps(labels, ensure_ascii=False)},
        children=[
            html.Div(className="gw-wall-rot", children=[
                html.Span(w.home_name, className="gw-wall-home"),
                html.Span(id=WALL_NOW, className="gw-wall-now"),
                html.Span(id=WALL_STEP, className="gw-wall-step"),
                html.Span(id=WALL_NEXT, className="gw-wall-next")]),
            html.Div(id=WALL_BANNER, className="gw-wall-banner", role="alert", children=[
                html.Div(t("wall.stale_title", lang), className="gw-wall-banner-title"),
                html.Div(className="gw-wall-banner-age", children=[
                    html.Span(t("wall.stale_since", lang), className="gw-wall-banner-k"),
                    html.Span(id=WALL_AGE, className="gw-wall-age")]),
                html.Div(t("wall.stale_hint", lang), className="gw-wall-banner-hint")]),
            html.Div(className="gw-wall-clock", children=[
                html.Span(id=WALL_TIME, className="gw-wall-time"),
                html.Span(id=WALL_DATE, className="gw-wall-date")]),
        ])
