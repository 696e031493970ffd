"""Layers drawn in the basemap's datum: a GCJ-02 hierarchy on a WGS-84 (or CGCS2000) basemap
is shifted onto the published WGS-84 pair, on a GCJ-02 basemap it stays as stored."""
from __future__ import annotations

import math

import pytest

from dashboard.display import map_view_in
from domain.basemap import Basemap, TileLayer
from layouts.viewmodels import IncidentMarker, Kpi, MapView

# Shenzhen, a published pair (googollee/eviltransform): WGS-84 and GCJ-02 of one place
WGS = (113.912316, 22.543847)
GCJ = (113.9171764808363, 22.540796131694766)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance of two (lon, lat) in metres."""
    p1, p2 = math.radians(a[1]), math.radians(b[1])
    dp, dl = p2 - p1, math.radians(b[0] - a[0])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


def view() -> MapView:
    """A town page whose corner, officer, case and camera all stand on the GCJ-02 point."""
    lon, lat = GCJ
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01],
            [lon, lat]]
    fc = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"code": "T1", "label_point": [lon, lat]}}]}
    cams = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"id": "c1"}}]}
    case = IncidentMarker("i1", lon, lat, "red", "road", "t", "new", 0.0, "g")
    return MapView(region_code="T1", region_name="t", region_level="town", children=fc,
                   child_stats={}, incidents=[case],
                   kpi=Kpi(0, 0, 0, 0, 0, 0, 0), centre=(lat, lon), zoom=12, live_url="",
                   as_of=0.0, bounds=((lat, lon), (lat + 0.01, lon + 0.01)), cameras=cams)


def points(vm: MapView) -> list[tuple[float, float]]:
    """Every place of the view that stood on the test point, as (lon, lat)."""
    corner = vm.children["features"][0]["geometry"]["coordinates"][0][0]
    return [tuple(corner), tuple(vm.children["features"][0]["properties"]["label_point"]),
            (vm.incidents[0].lon, vm.incidents[0].lat),
            tuple(vm.cameras["features"][0]["geometry"]["coordinates"]),
            (vm.centre[1], vm.centre[0]), (vm.bounds[0][1], vm.bounds[0][0])]


@pytest.mark.parametrize("datum", ["wgs84", "cgcs2000"])
def test_gcj02_hierarchy_on_a_wgs84_basemap_is_shifted(datum):
    shown = map_view_in(view(), "gcj02", Basemap((TileLayer("/tiles/{z}/{x}/{y}"),), datum))
    for p in points(shown):
        assert metres(p, WGS) < 5, p  # within 5 m of the published WGS-84 position
    assert metres(GCJ, WGS) > 300  # and that is a real move


@pytest.mark.parametrize("basemap", [
    Basemap((TileLayer("https://webrd0{s}.is.autonavi.com/{z}/{x}/{y}"),), "gcj02"),
    Basemap((TileLayer("https://tiles.example/{z}/{x}/{y}"),), None),  # undeclared: as stored
    None])
def test_gcj02_hierarchy_on_a_gcj02_basemap_is_not(basemap):
    vm = view()
    assert map_view_in(vm, "gcj02", basemap) is vm
    assert all(metres(p, GCJ) < 0.01 for p in points(vm))


def test_wgs84_hierarchy_on_a_gcj02_basemap_is_shifted():
    vm = view()
    vm = map_view_in(map_view_in(vm, "gcj02", Basemap((), "wgs84")), "wgs84", Basemap((), "gcj02"))
    assert all(metres(p, GCJ) < 1 for p in points(vm))  # there and back


def test_case_page_points_follow_the_basemap():
    from dashboard.display import case_view_in
    from layouts.case_view import CaseView
    lon, lat = GCJ
    vm = CaseView(case={"lon": lon, "lat": lat, "incident_id": "i1"}, category_label="c",
                  due_ts=None, officer_names={}, nearest=[{"officer_id": "o", "lon": lon,
                                                           "lat": lat}],
                  cameras=[{"camera_id": "c", "lon": lon, "lat": lat}], allowed=[],
                  can_act=False, breadcrumbs=[], live_url="", now=0.0)
    shown = case_view_in(vm, "gcj02", Basemap((), "wgs84"))
    for row in (shown.case, shown.nearest[0], shown.cameras[0]):
        assert metres((row["lon"], row["lat"]), WGS) < 5
    assert shown.datum_shift == "gcj02>wgs84" and shown.case["incident_id"] == "i1"
    assert case_view_in(vm, "gcj02", Basemap((), "gcj02")) is vm
