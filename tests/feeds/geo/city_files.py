"""Boundary files as a city would bring them, made by the tests: a small 深圳市 with 3 districts.

In GCJ-02 (the truth): 福田区 has a hole, 南山区 fills it (an enclave), 罗湖区 is a MultiPolygon
with an island. Written as DataV GeoJSON (GCJ-02, adcode, parent.adcode) and as a Shapefile in
EPSG:4526 (CGCS2000 / Gauss-Krüger zone 38, via WGS-84 and pyproj), as cities have them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import shapely
from shapely.geometry import mapping

from feeds.geo.datum import to_datum_arrays

CITY, FUTIAN, LUOHU, NANSHAN = "440300", "440304", "440303", "440305"
SEG = 0.004  # vertices every ~400 m: projections bend straight lines


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.segmentize(shapely.box(x0, y0, x1, y1), SEG)


HOLE = _box(113.94, 22.55, 113.96, 22.57)
ISLAND = _box(114.12, 22.52, 114.14, 22.53)


def districts() -> dict[str, tuple[str, shapely.Geometry]]:
    """code → (name, shape in GCJ-02)."""
    futian = shapely.Polygon(_box(113.90, 22.50, 114.00, 22.62).exterior.coords,
                             [HOLE.exterior.coords])
    luohu = shapely.MultiPolygon([_box(114.00, 22.50, 114.10, 22.62), ISLAND])
    return {FUTIAN: ("福田区", futian), LUOHU: ("罗湖区", luohu), NANSHAN: ("南山区", HOLE)}


def city_shape() -> shapely.Geometry:
    """The city's outline (the union of its districts)."""
    return shapely.union_all([g for _, g in districts().values()])


def datav(path: Path, items: dict[str, tuple[str, shapely.Geometry]], parent: str | None,
          parents: dict[str, str] | None = None) -> Path:
    """Write regions as DataV GeoJSON: adcode, name, parent {adcode}, MultiPolygons."""
    feats = []
    for code, (name, geom) in items.items():
        up = (parents or {}).get(code, parent)
        multi = geom if isinstance(geom, shapely.MultiPolygon) else shapely.MultiPolygon([geom])
        props = {"adcode": int(code), "name": name, "level": "district",
                 "parent": {"adcode": int(up)} if up else None}
        feats.append({"type": "Feature", "properties": props, "geometry": mapping(multi)})
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def np_transform(src: str, dst: str):
    """A shape converter between two datums (feeds/geo/datum.py)."""
    def fn(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_datum_arrays(xy[:, 0], xy[:, 1], src, dst))

    return lambda geom: shapely.transform(geom, fn)


def _projected(geom: shapely.Geometry, epsg: int) -> shapely.Geometry:
    """GCJ-02 → WGS-84 (our datum module) → EPSG:epsg (pyproj), as a city's GIS holds it."""
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4490", f"EPSG:{epsg}", always_xy=True)

    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_datum_arrays(xy[:, 0], xy[:, 1], "gcj02", "wgs84")
        return np.column_stack(t.transform(lon, lat))

    return shapely.transform(geom, fn)


def gis_file(path: Path, items: dict[str, tuple[str, shapely.Geometry]], parent: str,
             epsg: int = 4526, driver: str = "ESRI Shapefile",
             fields: tuple[str, str, str] = ("XZQDM", "XZQMC", "PARENT"),
             encoding: str = "UTF-8") -> Path:
    """Write regions as a Shapefile (or GeoPackage) in EPSG:epsg with code, name, parent."""
    import pyogrio.raw

    codes = list(items)
    geoms = [_projected(items[c][1], epsg) for c in codes]
    geoms = [g if isinstance(g, shapely.MultiPolygon) else shapely.MultiPolygon([g])
             for g in geoms]
    pyogrio.raw.write(path, shapely.to_wkb(np.array(geoms, dtype=object)),
                      field_data=[np.array(codes), np.array([items[c][0] for c in codes]),
                                  np.array([parent] * len(codes))],
                      fields=list(fields), crs=f"EPSG:{epsg}", driver=driver,
                      geometry_type="MultiPolygon", encoding=encoding)
    return path
