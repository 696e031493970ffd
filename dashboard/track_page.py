"""Track playback page: an officer's or a grid's fixes over a period, or around a case."""
from __future__ import annotations

import time
from typing import Any

import redis

from domain.access import User
from feeds.geo.hierarchy import region_features
from feeds.history import tracks
from feeds.live.context import CityContext
from layouts.map_view import view_query
from layouts.track_view import TrackView, track_page

AROUND_S = 30 * 60


def _subjects(ctx: CityContext, query: dict[str, str], user: User, lang: str = "zh"
              ) -> tuple[str, list[tuple[str, str]], str] | str:
    """(title, [(officer, home grid)], grid) or an error text."""
    h = ctx.hierarchy
    if query.get("officer"):
        rec = ctx.roster.get(query["officer"])
        if rec is None:
            return "404"
        if not user.may_see_region(rec.grid):
            return "403"
        return f"{rec.name} ({rec.officer_id})", [(rec.officer_id, rec.grid)], rec.grid
    grid = query.get("grid", "")
    if grid not in h or len(grid) != 15:
        return "404"
    if not user.may_see_region(grid):
        return "403"
    offs = [(o.officer_id, o.grid) for o in ctx.roster.values() if o.grid == grid]
    name = h[grid].name_en or h[grid].name if lang == "en" else h[grid].name
    return name, offs, grid


def render(ctx: CityContext, client: redis.Redis, user: User, query: dict[str, str],
           lang: str, incident: Any = None) -> Any:
    """The page, or '403' / '404'."""
    found = _subjects(ctx, query, user, lang)
    if isinstance(found, str):
        return found
    title, officers, grid = found
    if incident is not None:
        t0, t1 = incident.reported_ts - AROUND_S, incident.reported_ts + AROUND_S
    else:
        minutes = min(max(float(query.get("minutes") or 60), 1), 360)
        t1 = time.time()
        t0 = t1 - minutes * 60
    fixes = tracks.read_tracks(client, officers, t0, t1)
    vm = TrackView(
        subject=title, back_href=f"/grid/{grid}" + view_query(lang, False), t0=t0, t1=t1,
        tracks={o: [[f.ts, f.lon, f.lat] for f in fx] for o, fx in fixes.items() if fx},
        names={o: ctx.roster[o].name for o, _ in officers},
        stats={o: _stats(fx) for o, fx in fixes.items() if fx},
        stops=[{"officer_id": o, "lon": s.lon, "lat": s.lat, "start": s.start, "end": s.end}
               for o, fx in fixes.items() for s in tracks.stops(fx)],
        incident=None if incident is None else {
            "id": incident.incident_id, "title": incident.title, "lon": incident.lon,
            "lat": incident.lat, "ts": incident.reported_ts, "level": incident.level.value,
            "category": incident.category},
        near=[] if incident is None else [
            {"officer_id": o, "name": ctx.roster[o].name, "dist_m": d}
            for o, d, _ in tracks.near_at(fixes, incident.lon, incident.lat,
                                          incident.reported_ts)],
        outline=_named(region_features(ctx.city, [grid]), lang), lang=lang)
    return track_page(vm)


def _named(fc: dict[str, Any], lang: str) -> dict[str, Any]:
    """Region features with their names in the page's language (English when there is one)."""
    if lang == "en":
        for f in fc.get("features", []):
            props = f.get("properties") or {}
            props["name"] = props.get("name_en") or props.get("name", "")
    return fc


def _stats(fx: list[tracks.Fix]) -> dict[str, float]:
    km = tracks.distance(fx) / 1000
    hours = max(1e-9, (fx[-1].ts - fx[0].ts) / 3600)
    return {"fixes": len(fx), "km": km, "stops": len(tracks.stops(fx)),
            "avg_kmh": km / hours if len(fx) > 1 else 0.0}
