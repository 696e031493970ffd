"""Business-grid layer files (docs/overlay-format.md): load and validate, save, browser export."""
from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from domain.overlays import BusinessUnit, Overlay, overlay_problems
from domain.regions import is_within
from feeds.geo.hierarchy import CityGeo, round_geometry, simplify_shapes

log = logging.getLogger(__name__)

OVERLAY_DIR = "overlays"
MAX_LISTED = 10
LAYER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_DOC_FIELDS = {"layer_id", "name", "name_en", "department", "region", "units"}
_UNIT_FIELDS = {"code", "name", "name_en", "grids"}


class OverlayError(ValueError):
    """A layer file that breaks the format or the rules; the message names file, unit and reason."""


# ---------------------------------------------------------------- parsing


def _text(obj: dict[str, Any], field: str, where: str, problems: list[str],
          required: bool = True, blank_ok: bool = False) -> str:
    """A string field; records a problem (and returns "") when it is missing or not text."""
    value = obj.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not blank_ok and not value.strip()):
        kind = "a string" if blank_ok else "a non-empty string"
        problems.append(f"{where}: field {field!r} must be {kind}, got {value!r}")
        return ""
    return value


def _unknown_fields(obj: dict[str, Any], allowed: set[str], where: str) -> list[str]:
    return [f"{where}: unknown field {k!r}" for k in sorted(set(obj) - allowed)]


def _parse_unit(i: int, raw: Any, problems: list[str]) -> BusinessUnit | None:
    """One unit object, or None (with its problems recorded) when it is malformed."""
    where = f"unit #{i + 1}"
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be an object, got {type(raw).__name__}")
        return None
    if isinstance(raw.get("code"), str) and raw["code"].strip():
        where = f"unit {raw['code']}"
    before = len(problems)
    problems += _unknown_fields(raw, _UNIT_FIELDS, where)
    code = _text(raw, "code", where, problems, blank_ok=True)  # blanks: overlay_problems
    name = _text(raw, "name", where, problems, blank_ok=True)
    name_en = _text(raw, "name_en", where, problems, required=False)
    grids = raw.get("grids")
    if not isinstance(grids, list) or not all(isinstance(g, str) for g in grids):
        problems.append(f"{where}: field 'grids' must be a list of base grid codes, got "
                        f"{str(grids)[:60]}")
        return None
    if len(problems) > before:
        return None
    return BusinessUnit(code=code, name=name, grids=tuple(grids), name_en=name_en)


def _parse_head(doc: dict[str, Any], city: CityGeo, problems: list[str]) -> dict[str, str]:
    """The layer's own fields (everything but the units)."""
    problems += _unknown_fields(doc, _DOC_FIELDS, "layer")
    head = {"layer_id": _text(doc, "layer_id", "layer", problems),
            "name": _text(doc, "name", "layer", problems),
            "name_en": _text(doc, "name_en", "layer", problems, required=False),
            "department": _text(doc, "department", "layer", problems)}
    if head["layer_id"] and not LAYER_ID_RE.match(head["layer_id"]):
        problems.append(f"layer: field 'layer_id' must be 1-64 letters, digits, '_' or '-', "
                        f"got {head['layer_id']!r}")
    region = doc.get("region", city.hierarchy.city.code)
    if not isinstance(region, str) or region not in city.hierarchy:
        problems.append(f"layer: field 'region' must be a region code of the city, got {region!r}")
        region = ""
    head["region"] = region
    return head


def _listing(problems: list[str]) -> str:
    """At most MAX_LISTED problems, one a line, then 'and N more'."""
    lines = [f"  - {p}" for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  and {len(problems) - MAX_LISTED} more")
    return "\n".join(lines)


def _refuse(source: str, layer_id: str, problems: list[str]) -> OverlayError:
    who = f"{source}: layer {layer_id}" if layer_id else source
    n = len(problems)
    return OverlayError(f"{who}: {n} problem{'s' if n != 1 else ''}:\n{_listing(problems)}")


def base_grids_of(city: CityGeo, region: str) -> set[str]:
    """Codes of the base grids at or below a region."""
    return {r.code for r in city.hierarchy.descendants(region, city.hierarchy.levels.leaf)}


def parse_overlay(doc: Any, city: CityGeo, source: str = "document") -> Overlay:
    """Validate a decoded layer document against the city; raises OverlayError listing problems."""
    if not isinstance(doc, dict):
        raise OverlayError(f"{source}: must be a JSON object, got {type(doc).__name__}")
    problems: list[str] = []
    head = _parse_head(doc, city, problems)
    raw_units = doc.get("units")
    units: list[BusinessUnit] = []
    if not isinstance(raw_units, list) or not raw_units:
        problems.append("layer: field 'units' must be a non-empty list")
    else:
        parsed = [_parse_unit(i, raw, problems) for i, raw in enumerate(raw_units)]
        units = [u for u in parsed if u is not None]
    if problems:
        raise _refuse(source, head["layer_id"], problems)
    overlay = Overlay(units=tuple(units), **head)
    problems = overlay_problems(overlay, base_grids_of(city, overlay.region))
    if problems:
        raise _refuse(source, overlay.layer_id, problems)
    return overlay


def load_overlay(path: str | Path, city: CityGeo) -> Overlay:
    """Read and validate one layer file; OverlayError names the file, the unit and the reason."""
    path = Path(path)
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise OverlayError(f"{path}: not valid JSON ({exc})") from None
    started = time.perf_counter()
    overlay = parse_overlay(doc, city, str(path))
    log.info("loaded layer %s from %s: %d units in %.0f ms", overlay.layer_id, path,
             len(overlay.units), (time.perf_counter() - started) * 1000)
    return overlay


def load_overlays(data_dir: str | Path, city: CityGeo) -> list[Overlay]:
    """Every layer file (*.json) in DATA_DIR/overlays, by file name; layer ids must be unique."""
    folder = Path(data_dir) / OVERLAY_DIR
    overlays: list[Overlay] = []
    first: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        overlay = load_overlay(path, city)
        if overlay.layer_id in first:
            raise OverlayError(f"{path}: layer {overlay.layer_id}: layer_id already used by "
                               f"{first[overlay.layer_id]}")
        first[overlay.layer_id] = path
        overlays.append(overlay)
    return overlays


# ---------------------------------------------------------------- saving


def to_document(overlay: Overlay) -> dict[str, Any]:
    """The layer as a document of the file format."""
    units = []
    for u in overlay.units:
        unit: dict[str, Any] = {"code": u.code, "name": u.name}
        if u.name_en:
            unit["name_en"] = u.name_en
        unit["grids"] = list(u.grids)
        units.append(unit)
    return {"layer_id": overlay.layer_id, "name": overlay.name, "name_en": overlay.name_en,
            "department": overlay.department, "region": overlay.region, "units": units}


def save_overlay(overlay: Overlay, path: str | Path) -> Path:
    """Write the layer as UTF-8 JSON, one unit a line (easy to read and diff), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = to_document(overlay)
    units = doc.pop("units")
    head = orjson.dumps(doc)[:-1]
    lines = b",\n".join(orjson.dumps(u) for u in units)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(head + b',"units":[\n' + lines + b"\n]}\n")
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- browser export


def _dissolve(city: CityGeo, grids: tuple[str, ...]) -> BaseGeometry:
    """The union of some base grids (a coverage union: they share borders vertex for vertex)."""
    parts = np.array([city.shapes[g] for g in grids], dtype=object)
    if len(parts) == 1:
        return parts[0]
    geom = shapely.coverage_union_all(parts)
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid:
        geom = shapely.union_all(parts)
    return geom


def overlay_features(overlay: Overlay, city: CityGeo, simplify_deg: float = 0.0005,
                     ndigits: int = 5, within: str | None = None) -> dict[str, Any]:
    """A small GeoJSON FeatureCollection: one dissolved polygon per unit (code, name, grid_count).

    `within` keeps only the units holding a base grid at or below that region (e.g. a town).
    """
    units = [u for u in overlay.units
             if within is None or any(is_within(g, within) for g in u.grids)]
    shapes = simplify_shapes([_dissolve(city, u.grids) for u in units], simplify_deg)
    features = []
    for u, geom in zip(units, shapes, strict=True):
        props = {"code": u.code, "name": u.name, "name_en": u.name_en, "grid_count": len(u.grids)}
        features.append({"type": "Feature", "properties": props,
                         "geometry": round_geometry(shapely.orient_polygons(geom), ndigits)})
    return {"type": "FeatureCollection", "features": features}


# ---------------------------------------------------------------- demo layer


