"""Page view-models converted once into the basemap's datum, so layers and tiles line up."""
from __future__ import annotations

import dataclasses
from typing import Any

from domain.basemap import Basemap
from feeds.geo.display import display_datum, display_features, display_point
from layouts.case_view import CaseView
from layouts.viewmodels import MapView


def target(src: str, basemap: Basemap | None) -> str | None:
    """The display datum of a page whose hierarchy is in `src`; None: draw as stored."""
    return display_datum(src, basemap.datum if basemap else None)


def _latlon(p: tuple[float, float], src: str, dst: str) -> tuple[float, float]:
    lon, lat = display_point(p[1], p[0], src, dst)
    return lat, lon


def map_view_in(vm: MapView, src: str, basemap: Basemap | None) -> MapView:
    """The map page's regions, cases, cameras and overlays in the basemap's datum."""
    dst = target(src, basemap)
    if dst is None:
        return vm
    incidents = [dataclasses.replace(m, **dict(zip(("lon", "lat"), display_point(
        m.lon, m.lat, src, dst), strict=True))) for m in vm.incidents]
    bounds = vm.bounds and (_latlon(vm.bounds[0], src, dst), _latlon(vm.bounds[1], src, dst))
    return dataclasses.replace(
        vm, children=display_features(vm.children, src, dst),
        incidents=incidents, centre=_latlon(vm.centre, src, dst), bounds=bounds,
        cameras=vm.cameras and display_features(vm.cameras, src, dst),
        overlays=[(i, n, display_features(fc, src, dst)) for i, n, fc in vm.overlays],
        datum_shift=f"{src}>{dst}")


def _moved(row: dict[str, Any], src: str, dst: str) -> dict[str, Any]:
    lon, lat = display_point(row["lon"], row["lat"], src, dst)
    return {**row, "lon": lon, "lat": lat}


def case_view_in(vm: CaseView, src: str, basemap: Basemap | None) -> CaseView:
    """The case page's case, nearest officers and cameras in the basemap's datum."""
    dst = target(src, basemap)
    if dst is None:
        return vm
    return dataclasses.replace(vm, case=_moved(vm.case, src, dst),
                               nearest=[_moved(o, src, dst) for o in vm.nearest],
                               cameras=[_moved(c, src, dst) for c in vm.cameras],
                               datum_shift=f"{src}>{dst}")
