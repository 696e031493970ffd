"""The hierarchy file format (GeoJSON with a datum): load with validation, save, browser export."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from domain.regions import DONGGUAN_LEVELS, Hierarchy, Levels, LevelSpec, Region
from feeds.geo.datum import DATUMS

log = logging.getLogger(__name__)

SAVE_NDIGITS = 6


class HierarchyError(ValueError):
    """A hierarchy file that breaks the format; the message names feature, field and reason."""


@dataclass(frozen=True)
class CityGeo:
    """A city's hierarchy together with the shape of every region (in the hierarchy's datum)."""

    hierarchy: Hierarchy
    shapes: dict[str, BaseGeometry]

    @property
    def datum(self) -> str:
        """The datum of every coordinate of this city."""
        return self.hierarchy.datum


def label_point(geom: BaseGeometry) -> tuple[float, float]:
    """A good label point well inside a polygon (pole of inaccessibility), rounded to 6 digits."""
    if isinstance(geom, shapely.MultiPolygon):
        geom = max(geom.geoms, key=lambda g: g.area)
    tol = max(1e-6, (geom.area ** 0.5) / 200.0)
    pt = shapely.get_point(shapely.maximum_inscribed_circle(geom, tol), 0)
    if pt is None or not geom.contains(pt):
        pt = geom.point_on_surface()
    return round(pt.x, SAVE_NDIGITS), round(pt.y, SAVE_NDIGITS)


def _fail(index: int, code: Any, field: str, reason: str) -> HierarchyError:
    who = f"feature {index}" + (f" (code {code})" if isinstance(code, str) and code else "")
    return HierarchyError(f"{who}: field {field!r}: {reason}")


def _require(i: int, code: Any, props: Mapping[str, Any], *fields: str) -> None:
    for field in fields:
        if field not in props:
            raise _fail(i, code, field, "missing")


def _check_code(i: int, props: Mapping[str, Any], levels: Levels) -> tuple[str, str]:
    _require(i, None, props, "code")
    code = props.get("code")
    if not isinstance(code, str) or not code.strip():
        raise _fail(i, None, "code", f"must be a non-empty string, got {code!r}")
    _require(i, code, props, "level", "name", "parent")
    level = props.get("level")
    if level not in levels.keys:
        raise _fail(i, code, "level",
                    f"must be one of {', '.join(levels.keys)}, got {level!r}")
    if levels.code_digits:
        _check_digits(i, code, level, levels)
    return code, level


def _check_digits(i: int, code: str, level: str, levels: Levels) -> None:
    """The declared rule of fixed-length codes of digits (Dongguan's, the default)."""
    if not code.isdigit():
        raise _fail(i, None, "code", f"must be a string of digits, got {code!r}")
    want = levels.code_digits[levels.index(level)]
    if len(code) != want:
        raise _fail(i, code, "code", f"a {level} code has {want} digits, got {len(code)}")


def _check_parent(i: int, code: str, level: str, props: Mapping[str, Any],
                  levels: Levels) -> str | None:
    parent = props["parent"]
    if level == levels.top:
        if parent is not None:
            raise _fail(i, code, "parent", f"must be null for the city, got {parent!r}")
        return None
    if not isinstance(parent, str) or not parent:
        raise _fail(i, code, "parent", f"must name the {levels.above(level)} it lies in, "
                                       f"got {parent!r}")
    if levels.code_digits:  # fixed lengths: the parent is the code's prefix
        want = code[:levels.code_digits[levels.index(level) - 1]]
        if parent != want:
            raise _fail(i, code, "parent",
                        f"a {level}'s parent must be its code prefix {want!r}, got {parent!r}")
    elif levels.prefix_codes and not code.startswith(parent):
        raise _fail(i, code, "parent",
                    f"codes extend their parent's (the file declares it), {parent!r} does not "
                    f"prefix {code!r}")
    return parent


def _check_centre(i: int, code: str, props: Mapping[str, Any]) -> tuple[float, float] | None:
    centre = props.get("centre")
    if centre is None:
        return None
    ok = (isinstance(centre, list | tuple) and len(centre) == 2
          and all(isinstance(v, int | float) and not isinstance(v, bool) for v in centre))
    if not ok:
        raise _fail(i, code, "centre", f"must be [lon, lat], got {centre!r}")
    return float(centre[0]), float(centre[1])


def _check_geometry(i: int, code: str, feature: Mapping[str, Any]) -> BaseGeometry:
    raw = feature.get("geometry")
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        got = raw.get("type") if isinstance(raw, dict) else raw
        raise _fail(i, code, "geometry", f"must be a Polygon or MultiPolygon, got {got!r}")
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise _fail(i, code, "geometry", f"unreadable coordinates ({exc})") from None
    if geom.is_empty:
        raise _fail(i, code, "geometry", "is empty")
    if not geom.is_valid:
        raise _fail(i, code, "geometry", f"is invalid: {shapely.is_valid_reason(geom)}")
    if geom.area <= 0.0:
        raise _fail(i, code, "geometry", "has no area")
    return geom


def _parse_feature(i: int, feature: Any, levels: Levels) -> tuple[Region, BaseGeometry]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _fail(i, None, "type", "must be a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise _fail(i, None, "properties", "missing or not an object")
    code, level = _check_code(i, props, levels)
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(i, code, "name", f"must be a non-empty string, got {name!r}")
    name_en = props.get("name_en") or ""
    if not isinstance(name_en, str):
        raise _fail(i, code, "name_en", f"must be a string, got {name_en!r}")
    parent = _check_parent(i, code, level, props, levels)
    geom = _check_geometry(i, code, feature)
    centre = _check_centre(i, code, props) or label_point(geom)
    region = Region(code=code, name=name, level=level, parent=parent, name_en=name_en,
                    centre=centre)
    return region, geom


def _spec(i: int, raw: Any) -> LevelSpec:
    where = f"document: field 'levels' item {i}"
    if isinstance(raw, str):
        raw = {"key": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str) or not raw["key"]:
        raise HierarchyError(f"{where}: must be a level key or {{key, name, name_en}}, got {raw!r}")
    key = raw["key"]
    return LevelSpec(key, str(raw.get("name") or key), str(raw.get("name_en") or key.title()))


def parse_levels(doc: Mapping[str, Any]) -> Levels:
    """The levels a document declares (Dongguan's four when it declares none)."""
    raw = doc.get("levels")
    if raw is None:
        return DONGGUAN_LEVELS
    if not isinstance(raw, list) or len(raw) < 2:
        raise HierarchyError("document: field 'levels': must list at least two levels, "
                             f"top to bottom, got {raw!r}")
    specs = tuple(_spec(i, x) for i, x in enumerate(raw))
    keys = [s.key for s in specs]
    shard = doc.get("shard_level", keys[1])
    try:
        return Levels(specs, shard=shard, dispatch=doc.get("dispatch_level", shard),
                      prefix_codes=bool(doc.get("prefix_codes", False)),
                      code_digits=tuple(doc.get("code_digits") or ()))
    except ValueError as exc:
        raise HierarchyError(f"document: field 'levels': {exc}") from None


def levels_document(levels: Levels) -> dict[str, Any]:
    """The document fields that declare a hierarchy's levels."""
    return {"levels": [{"key": s.key, "name": s.name, "name_en": s.name_en}
                       for s in levels.specs],
            "shard_level": levels.shard, "dispatch_level": levels.dispatch,
            "prefix_codes": levels.prefix_codes, "code_digits": list(levels.code_digits)}


def _check_links(regions: dict[str, Region], first_seen: dict[str, int], levels: Levels) -> None:
    for code, region in regions.items():
        if region.parent is None:
            continue
        parent = regions.get(region.parent)
        if parent is None:
            raise _fail(first_seen[code], code, "parent", f"unknown parent {region.parent!r}")
        want = levels.above(region.level)
        if parent.level != want:
            raise _fail(first_seen[code], code, "parent",
                        f"a {region.level}'s parent must be a {want}, "
                        f"{parent.code} is a {parent.level}")
    cities = [c for c, r in regions.items() if r.level == levels.top]
    if len(cities) != 1:
        raise HierarchyError(f"document: field 'features': needs exactly one {levels.top}, "
                             f"found {len(cities)}")


def parse_hierarchy(doc: Any) -> CityGeo:
    """Validate a decoded hierarchy document and build its CityGeo."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise HierarchyError("document: field 'type': must be 'FeatureCollection'")
    datum = doc.get("datum")
    if datum not in DATUMS:
        raise HierarchyError(f"document: field 'datum': must be one of {', '.join(DATUMS)}, "
                             f"got {datum!r}")
    levels = parse_levels(doc)
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise HierarchyError("document: field 'features': must be a non-empty list")
    regions: dict[str, Region] = {}
    shapes: dict[str, BaseGeometry] = {}
    first_seen: dict[str, int] = {}
    for i, feature in enumerate(features):
        region, geom = _parse_feature(i, feature, levels)
        if region.code in regions:
            raise _fail(i, region.code, "code",
                        f"duplicate code (first used by feature {first_seen[region.code]})")
        regions[region.code], shapes[region.code] = region, geom
        first_seen[region.code] = i
    _check_links(regions, first_seen, levels)
    return CityGeo(hierarchy=Hierarchy.build(regions.values(), datum, levels), shapes=shapes)


def load_hierarchy(path: str | Path) -> CityGeo:
    """Read and validate a hierarchy file; raises HierarchyError naming what is wrong."""
    try:
        doc = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise HierarchyError(f"{path}: not valid JSON ({exc})") from None
    city = parse_hierarchy(doc)
    log.info("loaded hierarchy %s: %s regions", path, len(city.hierarchy.regions))
    return city


def round_geometry(geom: BaseGeometry, ndigits: int) -> dict[str, Any]:
    """GeoJSON geometry dict with coordinates rounded to ndigits."""
    polys = list(geom.geoms) if isinstance(geom, shapely.MultiPolygon) else [geom]
    rings = [[np.round(np.asarray(r.coords)[:, :2], ndigits).tolist()
              for r in (p.exterior, *p.interiors)] for p in polys]
    if isinstance(geom, shapely.MultiPolygon):
        return {"type": "MultiPolygon", "coordinates": rings}
    return {"type": "Polygon", "coordinates": rings[0]}


def _sorted_codes(city: CityGeo, codes: Iterable[str] | None = None) -> list[str]:
    regions = city.hierarchy.regions
    chosen = regions.keys() if codes is None else codes
    order = city.hierarchy.levels.index
    return sorted(chosen, key=lambda c: (order(regions[c].level), c))


def to_document(city: CityGeo, ndigits: int = SAVE_NDIGITS) -> dict[str, Any]:
    """The hierarchy as a GeoJSON document in the documented file format."""
    features = []
    for code in _sorted_codes(city):
        r = city.hierarchy.regions[code]
        props = {"code": r.code, "name": r.name, "name_en": r.name_en, "level": r.level,
                 "parent": r.parent, "centre": [r.centre[0], r.centre[1]]}
        features.append({"type": "Feature", "properties": props,
                         "geometry": round_geometry(city.shapes[code], ndigits)})
    return {"type": "FeatureCollection", "datum": city.hierarchy.datum,
            **levels_document(city.hierarchy.levels), "features": features}


def save_hierarchy(city: CityGeo, path: str | Path) -> Path:
    """Write the hierarchy as compact JSON (coordinates to 6 decimals), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(to_document(city)) + b"\n")
    os.replace(tmp, path)
    return path


def simplify_shapes(geoms: list[BaseGeometry], tolerance: float,
                    coverage: bool = True) -> list[BaseGeometry]:
    """Simplify shapes; as one coverage (neighbours keep one shared border) when they are."""
    arr = np.array(geoms, dtype=object)
    if tolerance <= 0 or not geoms:
        return list(geoms)
    if coverage and len(geoms) > 1:
        try:
            out = shapely.coverage_simplify(arr, tolerance)
            if bool(np.all(shapely.is_valid(out))):
                return list(out)
        except shapely.errors.GEOSException as exc:
            log.warning("coverage simplification failed (%s); simplifying one by one", exc)
    return list(shapely.simplify(arr, tolerance, preserve_topology=True))


def _simplified(city: CityGeo, codes: list[str], tolerance: float) -> list[BaseGeometry]:
    """Simplify; siblings of one level are simplified as a coverage so borders stay shared."""
    levels = {city.hierarchy.regions[c].level for c in codes}
    return simplify_shapes([city.shapes[c] for c in codes], tolerance, len(levels) == 1)


def region_features(city: CityGeo, codes: Iterable[str], simplify_deg: float = 0.0005,
                    ndigits: int = 5) -> dict[str, Any]:
    """A small GeoJSON FeatureCollection (plain dicts) of some regions, for browsers."""
    chosen = _sorted_codes(city, list(dict.fromkeys(codes)))
    unknown = [c for c in chosen if c not in city.shapes]
    if unknown:
        raise KeyError(f"unknown region codes: {unknown[:5]}")
    features = []
    for code, geom in zip(chosen, _simplified(city, chosen, simplify_deg), strict=True):
        r = city.hierarchy.regions[code]
        props = {"code": r.code, "name": r.name, "name_en": r.name_en, "level": r.level,
                 "centre": [round(r.centre[0], ndigits), round(r.centre[1], ndigits)]}
        features.append({"type": "Feature", "properties": props,
                         "geometry": round_geometry(geom, ndigits)})
    return {"type": "FeatureCollection", "features": features}
