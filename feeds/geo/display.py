"""Shapes and points converted once, for display, into the basemap's datum (the store keeps
the hierarchy's datum)."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

from feeds.geo.datum import _family, to_datum, to_datum_arrays


def display_datum(src: str, basemap_datum: str | None) -> str | None:
    """The datum to draw in, or None when no conversion is needed (same family, no basemap,
    or a basemap of undeclared datum)."""
    if basemap_datum is None or _family(src) == _family(basemap_datum):
        return None
    return basemap_datum


def display_point(lon: float, lat: float, src: str, dst: str | None) -> tuple[float, float]:
    """One (lon, lat) in the display datum."""
    return (lon, lat) if dst is None else to_datum(lon, lat, src, dst)


def _positions(coords: Any, out: list[list[float]]) -> None:
    if coords and isinstance(coords[0], (int, float)):
        out.append(coords)
    else:
        for c in coords:
            _positions(c, out)


def display_features(fc: dict[str, Any], src: str, dst: str | None) -> dict[str, Any]:
    """A copy of a FeatureCollection with every position (and a `label_point` property) in
    the display datum; `fc` itself when no conversion is needed."""
    if dst is None or not fc.get("features"):
        return fc
    out = copy.deepcopy(fc)
    pos: list[list[float]] = []
    for f in out["features"]:
        _positions((f.get("geometry") or {}).get("coordinates") or [], pos)
        lp = (f.get("properties") or {}).get("label_point")
        if lp:
            f["properties"]["label_point"] = lp = list(lp)
            pos.append(lp)
    if pos:
        arr = np.array([p[:2] for p in pos], dtype=np.float64)
        lons, lats = to_datum_arrays(arr[:, 0], arr[:, 1], src, dst)
        for p, lon, lat in zip(pos, lons.tolist(), lats.tolist(), strict=True):
            p[0], p[1] = lon, lat
    return out
