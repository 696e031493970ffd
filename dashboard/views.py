"""Builds the view-models of pages from the store (snapshot per view)."""
from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

import redis

from dashboard.display import map_view_in
from dashboard.video_routes import camera_rows
from domain.access import User
from domain.basemap import Basemap
from domain.regions import ancestors_of, is_within, level_of, town_of, towns_covering
from feeds.geo.hierarchy import region_features
from feeds.geo.overlays import overlay_features
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import OfficerState, marker
from feeds.live.summary import child_stats, kpi, visible_counts
from layouts.camera_layer import camera_features
from layouts.map_view import fit_zoom
from layouts.viewmodels import IncidentMarker, Kpi, MapView, RegionStat


class Snapshots:
    """Snapshot reads for pages and the API, scoped by the caller."""

    def __init__(self, ctx: CityContext, client: redis.Redis):
        self.ctx = ctx
        self.client = client
        self.children_features = lru_cache(maxsize=256)(self._children_features)
        self.overlay_features = lru_cache(maxsize=256)(self._overlay_features)

    def _overlay_features(self, layer_id: str, code: str) -> dict[str, Any]:
        ov = next(o for o in self.ctx.overlays if o.layer_id == layer_id)
        return overlay_features(ov, self.ctx.city, within=code)

    def _children_features(self, code: str) -> dict[str, Any]:
        kids = self.ctx.hierarchy.children_of(code)
        return region_features(self.ctx.city, kids) if kids else \
            region_features(self.ctx.city, [code])

    def towns_of(self, code: str) -> list[str]:
        """The towns a region's data lives in."""
        return towns_covering(code, self.ctx.towns)

    def live_state(self, code: str, user: User) -> dict[str, Any]:
        """Officers, visible open cases and counts of a region, now."""
        towns = self.towns_of(code)
        offs = reads.read_officers(self.client, towns)
        for oid, o in self.ctx.roster.items():
            if oid not in offs and town_of(o.grid) in towns:
                offs[oid] = OfficerState(oid, o.grid)
        rules = self.ctx.rules
        incs = [i for i in reads.read_open_incidents(self.client, towns)
                if is_within(i.grid, code) and user.may_see_category(rules.get(i.category))]
        counts = visible_counts(reads.read_counts(self.client, towns), user.cleared)
        return {"officers": {k: v for k, v in offs.items() if is_within(v.home, code)},
                "incidents": incs, "counts": counts}

    def level_names(self, lang: str) -> dict[str, str]:
        """The city's level names in a language."""
        lv = self.ctx.hierarchy.levels
        return {k: lv.name(k, lang) for k in lv.keys}

    def map_view(self, code: str, user: User, live_url: str, lang: str, wall: bool,
                 basemap: Basemap | None) -> MapView:
        """The view-model of a live map page of region `code`."""
        now = time.time()
        region = self.ctx.hierarchy[code]
        st = self.live_state(code, user)
        k = kpi(code, st["counts"], st["officers"].values(), now)
        stats = child_stats(code, self.ctx.hierarchy, st["counts"])
        # Officers are the push channel's, clustered for the map's viewport at its zoom (per
        # town or village, cells, single ones where few): the page carries none (measured: a
        # browser-clustered layer took 175 ms per update at 10k points, 447 ms at 100k).
        live_url = f"{live_url}&officers=view"
        minx, miny, maxx, maxy = bounds = self.ctx.city.shapes[code].bounds
        zoom = fit_zoom(bounds)
        if wall:  # no case list: the cases its zoom draws (at city zoom the red ones)
            live_url = f"{live_url}&cases=view&zoom={zoom}"
        crumbs = [(c, self.ctx.hierarchy[c].name if lang == "zh" else
                   self.ctx.hierarchy[c].name_en or self.ctx.hierarchy[c].name)
                  for c in reversed(ancestors_of(code)) if c in self.ctx.hierarchy]
        return map_view_in(MapView(
            region_code=code,
            region_name=region.name if lang == "zh" else (region.name_en or region.name),
            region_level=level_of(code),
            children=self.children_features(code),
            child_stats={c: RegionStat(s["green"], s["yellow"], s["red"])
                         for c, s in stats.items()},
            incidents=[IncidentMarker(**_marker_args(marker(i, self.ctx.rules)))
                       for i in st["incidents"]],
            kpi=Kpi(k["open"]["green"], k["open"]["yellow"], k["open"]["red"], k["new_today"],
                    k["overdue"], k["on_duty"], k["officers"]),
            centre=((miny + maxy) / 2, (minx + maxx) / 2), zoom=zoom, live_url=live_url,
            as_of=now, lang=lang, basemap=basemap, wall=wall, breadcrumbs=crumbs,
            levels=self.ctx.hierarchy.levels.keys, level_names=self.level_names(lang),
            dispatch_level=self.ctx.hierarchy.levels.dispatch,
            bounds=((miny, minx), (maxy, maxx)),
            cameras=None if code == self.ctx.hierarchy.city.code else camera_features(
                camera_rows(self.client, self.ctx, code)),
            overlays=[] if code == self.ctx.hierarchy.city.code else [
                (o.layer_id, o.name if lang == "zh" else (o.name_en or o.name),
                 self.overlay_features(o.layer_id, code)) for o in self.ctx.overlays]),
            self.ctx.hierarchy.datum, basemap)


def _marker_args(m: dict[str, Any]) -> dict[str, Any]:
    return {"incident_id": m["id"], "lon": m["lon"], "lat": m["lat"], "level": m["level"],
            "category": m["category"], "title": m["title"], "status": m["status"],
            "reported_ts": m["reported_ts"], "grid": m["grid"], "assignee": m["assignee"],
            "due_ts": m["due_ts"]}
