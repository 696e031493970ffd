"""Wall mode: settings and URL parameters of a wall, and its playlist route (scoped)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import flask
import orjson

from dashboard.config import DashboardConfig
from dashboard.views import Snapshots
from domain.access import User
from domain.regions import is_within, village_of
from feeds.live.context import CityContext
from feeds.live.state import marker
from feeds.live.summary import child_stats
from layouts.i18n import norm_lang
from layouts.map_view import region_path
from layouts.wall_view import WallView, clamp, parse_rotate

log = logging.getLogger(__name__)

MAX_CHILDREN = 40  # regions per cycle
MAX_RED = 12  # red cases per cycle, newest first


def wall_view(ctx: CityContext, settings: DashboardConfig, user: User, code: str,
              query: Mapping[str, str], lang: str) -> WallView:
    """The wall of a page of region `code`: its home (from ?home=, inside the user's scope and
    containing `code`, else `code`), playlist, dwell and staleness threshold."""
    q = {k: v for k, v in query.items() if v}
    home = q.get("home", code)
    if home not in ctx.hierarchy or not user.may_see_region(home) or not is_within(code, home):
        home = code
    region = ctx.hierarchy[home]
    return WallView(
        home=home, home_name=region.name if lang == "zh" else (region.name_en or region.name),
        rotate=parse_rotate(q.get("rotate"), settings.wall.rotate),
        dwell_s=clamp(q.get("dwell"), settings.wall.dwell_s, 3, 3600),
        stale_s=clamp(q.get("stale"), settings.wall.stale_s, 3, 3600),
        timezone=settings.web.timezone)


def region_item(ctx: CityContext, code: str, lang: str) -> dict[str, Any]:
    """A playlist entry showing a region's map page."""
    r = ctx.hierarchy[code]
    path = "/city" if code == ctx.hierarchy.city.code else region_path(r.level, code)
    return {"kind": "region", "code": code, "path": path,
            "name": r.name if lang == "zh" else (r.name_en or r.name)}


def case_item(ctx: CityContext, home: str, m: dict[str, Any], lang: str) -> dict[str, Any]:
    """A playlist entry showing one case on its village's map (never above the wall's home)."""
    village = village_of(m["grid"]) if m["grid"] in ctx.hierarchy else home
    code = village if is_within(village, home) else home
    item = region_item(ctx, code, lang)
    item.update(kind="case", case=m)
    return item


def playlist(ctx: CityContext, snaps: Snapshots, user: User, home: str,
             rotate: tuple[str, ...], lang: str) -> list[dict[str, Any]]:
    """The views of one rotation cycle: the home region, its children with open cases (worst
    first) and its open red cases (newest first), all inside the home region."""
    st = snaps.live_state(home, user)
    items: list[dict[str, Any]] = []
    for kind in rotate:
        if kind == "here":
            items.append(region_item(ctx, home, lang))
        elif kind == "children":
            stats = child_stats(home, ctx.hierarchy, st["counts"])
            busy = [c for c, s in stats.items() if s["level"]]
            busy.sort(key=lambda c: (-stats[c]["red"], -stats[c]["yellow"], -stats[c]["green"]))
            items += [region_item(ctx, c, lang) for c in busy[:MAX_CHILDREN]]
        elif kind == "red":
            reds = [marker(i, ctx.rules) for i in st["incidents"]]
            reds = sorted((m for m in reds if m["level"] == "red"),
                          key=lambda m: -m["reported_ts"])
            items += [case_item(ctx, home, m, lang) for m in reds[:MAX_RED]]
    return items


def blueprint(ctx: CityContext, snaps: Snapshots) -> flask.Blueprint:
    """GET /wall/playlist.json?home=<code>&rotate=here,children,red&lang=zh (scoped)."""
    bp = flask.Blueprint("wall", __name__)

    @bp.get("/wall/playlist.json")
    def wall_playlist() -> flask.Response:
        user: User = flask.g.user
        home = flask.request.args.get("home") or user.scope
        if home not in ctx.hierarchy:
            return flask.Response(b'{"error":"unknown region"}', 404,
                                  {"Content-Type": "application/json"})
        if not user.may_see_region(home):
            return flask.Response(b'{"error":"region outside your scope"}', 403,
                                  {"Content-Type": "application/json"})
        lang = norm_lang(flask.request.args.get("lang"))
        rotate = parse_rotate(flask.request.args.get("rotate"), "here,children,red")
        items = playlist(ctx, snaps, user, home, rotate, lang)
        log.debug("wall playlist of %s: %d items", home, len(items))
        return flask.Response(orjson.dumps({"home": home, "items": items}), 200,
                              {"Content-Type": "application/json", "Cache-Control": "no-store"})

    return bp
