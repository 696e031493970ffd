"""Officers clustered per viewport on the server (sans I/O): a few hundred features per view.

At province scale the browser cannot rebuild a cluster index of 100,000 points every second,
so the push channel keeps every officer's last position in arrays and answers a browser's
view (bounds and zoom, sent when a pan ends) with: counts per town at city zoom, counts per
village closer in (both at the regions' fixed label points, so they do not jump), square
pixel cells nearer still, and single officers once few are in view.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.model import Officer
from domain.regions import Hierarchy, above_town, above_village, is_within, town_of, village_of

log = logging.getLogger(__name__)

TOWN_ZOOM = 12  # below: one count per town
VILLAGE_ZOOM = 14  # below (and from TOWN_ZOOM): one count per village
CELL_PX = 100  # cluster cell side in screen pixels (a 1920x1080 view: at most ~300 cells)
SINGLE_MAX = 300  # at most this many officers in view: each one itself
REGION_MAX = 250  # more regions than this in view: cells instead (fewer icons to draw)


@dataclass(frozen=True)
class View:
    """What a browser's map shows: bounds (in the hierarchy's datum) and zoom."""

    west: float
    south: float
    east: float
    north: float
    zoom: float

    @classmethod
    def parse(cls, msg: Mapping[str, Any]) -> View | None:
        """A view from a browser message, or None when it is not a sane one."""
        try:
            v = cls(*(float(msg[k]) for k in ("west", "south", "east", "north", "zoom")))
        except (KeyError, TypeError, ValueError):
            return None
        ok = (-180 <= v.west < v.east <= 180 and -90 <= v.south < v.north <= 90
              and 0 <= v.zoom <= 22)
        return v if ok else None


def _mercator_y(lat: np.ndarray) -> np.ndarray:
    """Web Mercator y in [0, 1) world units (north is 0)."""
    s = np.sin(np.radians(np.clip(lat, -85.0, 85.0)))
    return 0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)


class OfficerIndex:
    """Every officer's last position as arrays, grouped for per-view clustering."""

    def __init__(self, hierarchy: Hierarchy, roster: Iterable[Officer]) -> None:
        officers = list(roster)
        self.ids = [o.officer_id for o in officers]
        self.ordinal = {oid: i for i, oid in enumerate(self.ids)}
        self.homes = np.array([o.grid for o in officers])
        n = len(officers)
        self.lon = np.full(n, np.nan)
        self.lat = np.full(n, np.nan)
        self.on = np.zeros(n, dtype=bool)
        self.groups = {k: self._group(hierarchy, of) for k, of in (("town", town_of),
                                                                    ("village", village_of))}
        self._masks: dict[str, np.ndarray] = {}

    def _group(self, hierarchy: Hierarchy, region_of: Callable[[str], str]
               ) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Each officer's region (index), the region codes and their label points."""
        codes, idx = np.unique(np.array([region_of(h) for h in self.homes.tolist()]),
                               return_inverse=True)
        centres = np.array([hierarchy[c].centre if c in hierarchy else (np.nan, np.nan)
                            for c in codes.tolist()], dtype=np.float64).reshape(-1, 2)
        return idx, codes.tolist(), centres

    def update(self, officer_id: str, lon: float, lat: float, on_duty: bool) -> None:
        """Record an officer's new position and duty state."""
        i = self.ordinal.get(officer_id)
        if i is not None:
            self.lon[i], self.lat[i], self.on[i] = lon, lat, on_duty

    def mask(self, region: str) -> np.ndarray:
        """Which officers belong to a region (by home grid), cached per region."""
        m = self._masks.get(region)
        if m is None:
            m = np.fromiter((is_within(h, region) for h in self.homes), bool, len(self.homes))
            self._masks[region] = m
        return m

    def features(self, view: View, region: str) -> list[dict[str, Any]]:
        """GeoJSON point features for a view of a region: clusters or single officers."""
        pad_x, pad_y = (view.east - view.west) * 0.1, (view.north - view.south) * 0.1
        seen = self.mask(region) & ~np.isnan(self.lon)
        inside = seen & (self.lon >= view.west - pad_x) & (self.lon <= view.east + pad_x) & (
            self.lat >= view.south - pad_y) & (self.lat <= view.north + pad_y)
        if view.zoom < VILLAGE_ZOOM and above_village(region):
            kind = "town" if view.zoom < TOWN_ZOOM and above_town(region) else "village"
            counts = self._by_region(kind, seen, view, (pad_x, pad_y))
            if len(counts) <= REGION_MAX:
                return counts
        picked = np.flatnonzero(inside)
        if len(picked) <= SINGLE_MAX:
            return [_officer(self.ids[i], self.lon[i], self.lat[i], self.on[i])
                    for i in picked.tolist()]
        return self._by_cell(picked, view.zoom)

    def _by_region(self, kind: str, seen: np.ndarray, view: View,
                   pad: tuple[float, float]) -> list[dict[str, Any]]:
        """One count per region whose label point is in view (officers by home region)."""
        idx, codes, centres = self.groups[kind]
        count = np.bincount(idx[seen], minlength=len(codes))
        on = np.bincount(idx[seen & self.on], minlength=len(codes))
        x, y = centres[:, 0], centres[:, 1]
        show = (count > 0) & (x >= view.west - pad[0]) & (x <= view.east + pad[0]) & (
            y >= view.south - pad[1]) & (y <= view.north + pad[1])
        return [_cluster(float(x[k]), float(y[k]), int(count[k]), int(on[k]), kind, codes[k])
                for k in np.flatnonzero(show).tolist()]

    def _by_cell(self, picked: np.ndarray, zoom: float) -> list[dict[str, Any]]:
        """Officers in square screen cells of CELL_PX pixels, each at its members' mean."""
        world = 256 * 2 ** zoom / CELL_PX  # cells around the world
        lon, lat = self.lon[picked], self.lat[picked]
        cx = np.floor((lon + 180) / 360 * world).astype(np.int64)
        cy = np.floor(_mercator_y(lat) * world).astype(np.int64)
        cells, which = np.unique(cx * (1 << 31) + cy, return_inverse=True)
        count = np.bincount(which, minlength=len(cells))
        on = np.bincount(which, weights=self.on[picked], minlength=len(cells))
        mx = np.bincount(which, weights=lon, minlength=len(cells)) / count
        my = np.bincount(which, weights=lat, minlength=len(cells)) / count
        first = np.full(len(cells), -1, dtype=np.int64)
        first[which[::-1]] = picked[::-1]
        out = []
        for k in range(len(cells)):
            if count[k] == 1:
                i = int(first[k])
                out.append(_officer(self.ids[i], self.lon[i], self.lat[i], self.on[i]))
            else:
                out.append(_cluster(float(mx[k]), float(my[k]), int(count[k]), int(on[k]),
                                    "cell", None))
        return out


def _officer(oid: str, lon: float, lat: float, on: bool) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [
        round(float(lon), 6), round(float(lat), 6)]}, "properties": {"id": oid,
                                                                   "on": 1 if on else 0}}


def _cluster(lon: float, lat: float, n: int, on: int, kind: str,
             code: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"cluster": True, "point_count": n, "on": on, "kind": kind,
                             "point_count_abbreviated": _abbrev(n)}
    if code is not None:
        props["code"] = code
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [
        round(lon, 6), round(lat, 6)]}, "properties": props}


def _abbrev(n: int) -> str:
    """1234 → '1.2k', 56789 → '57k' (as supercluster abbreviates)."""
    if n >= 10_000:
        return f"{round(n / 1000)}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)
