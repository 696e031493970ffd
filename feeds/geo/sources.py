"""Boundary files as cities have them (Shapefile, GeoPackage, GeoJSON, DataV) read into one datum.

Needs the optional extra `gis` (pyogrio for the formats, pyproj for EPSG coordinate systems).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from feeds.geo.datum import DATUMS, normalize_datum, to_datum_arrays

# EPSG codes of the geographic systems that are one of our datums (no projection to undo).
GEOGRAPHIC = {4326: "wgs84", 4490: "cgcs2000", 4610: "cgcs2000"}
CODE_FIELDS = ("code", "adcode", "xzqdm", "pac", "region_code")
NAME_FIELDS = ("name", "xzqmc", "mc", "region_name")
NAME_EN_FIELDS = ("name_en", "ename", "name_eng")
PARENT_FIELDS = ("parent", "parent_code", "pcode", "parent_adcode")


class SourceError(ValueError):
    """A boundary file that cannot be read as asked; the message names the file and the reason."""


@dataclass(frozen=True)
class Fields:
    """Which attribute holds what (None: found by its usual names)."""

    code: str | None = None
    name: str | None = None
    name_en: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class RawRegion:
    """One feature of a boundary file, its attributes read and its shape in the target datum."""

    index: int
    code: str
    name: str
    name_en: str
    parent: str | None
    geom: BaseGeometry | None  # None: not a polygon (reported by the importer)
    geom_type: str


@dataclass(frozen=True)
class Source:
    """What a boundary file holds: its regions, the CRS they came from, whether it is DataV."""

    path: Path
    regions: tuple[RawRegion, ...]
    crs: str
    datav: bool
    datum: str  # the datum the shapes are in now


def parse_crs(text: str) -> tuple[str, int | None]:
    """A CRS flag as (datum, EPSG code to unproject or None): EPSG:4526, 4490, gcj02, bd09 …"""
    t = text.strip().upper().replace("EPSG:", "")
    if t.isdigit():
        epsg = int(t)
        return (GEOGRAPHIC[epsg], None) if epsg in GEOGRAPHIC else ("cgcs2000", epsg)
    try:
        return normalize_datum(text), None
    except ValueError:
        raise SourceError(f"--crs {text!r}: want EPSG:NNNN, gcj02, bd09, wgs84 or "
                          "cgcs2000") from None


def _epsg_of(crs_wkt: str | None) -> str | None:
    """The EPSG name of a file's CRS (pyogrio reports EPSG:NNNN or WKT)."""
    if not crs_wkt:
        return None
    if crs_wkt.upper().startswith("EPSG:"):
        return crs_wkt.upper()
    from pyproj import CRS  # noqa: PLC0415

    epsg = CRS.from_user_input(crs_wkt).to_epsg(min_confidence=70)
    if epsg is None:
        raise SourceError(f"its coordinate system has no EPSG code ({crs_wkt[:60]}…); "
                          "pass --crs EPSG:NNNN")
    return f"EPSG:{epsg}"


def _pick(names: list[str], given: str | None, usual: tuple[str, ...], what: str,
          required: bool) -> str | None:
    lower = {n.lower(): n for n in names}
    if given is not None:
        if given not in names and given.lower() not in lower:
            raise SourceError(f"no field {given!r} for the {what}; the file has "
                              f"{', '.join(names) or 'no fields'}")
        return given if given in names else lower[given.lower()]
    for u in usual:
        if u in lower:
            return lower[u]
    if required:
        raise SourceError(f"no field for the {what} (looked for {', '.join(usual)}); pass "
                          f"--{what}-field, one of {', '.join(names) or 'no fields'}")
    return None


def _text(value: object) -> str:
    """An attribute as a code or name string (440304.0 → "440304")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).strip()


def _parent(value: object) -> str | None:
    """A parent attribute: a code, or DataV's {"adcode": N} (GDAL hands objects over as JSON)."""
    text = _text(value)
    if text.startswith("{"):
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
        text = _text(obj.get("adcode")) if isinstance(obj, dict) else text
    return text or None


def _converter(src_datum: str, epsg: int | None, dst: str):
    """A function of (n, 2) lon/lat (or x/y) arrays into the target datum."""
    to_geo = None
    if epsg is not None:
        from pyproj import Transformer  # noqa: PLC0415
        from pyproj.exceptions import CRSError  # noqa: PLC0415

        try:
            to_geo = Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4490", always_xy=True)
        except CRSError as exc:
            raise SourceError(f"EPSG:{epsg}: {exc}") from None

    def convert(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        if to_geo is not None:
            x, y = to_geo.transform(x, y)
        lon, lat = to_datum_arrays(np.asarray(x), np.asarray(y), src_datum, dst)
        return np.column_stack([lon, lat])

    return convert


def _check_lonlat(path: Path, geoms: np.ndarray, crs: str) -> None:
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    if not (-180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90):
        raise SourceError(f"{path}: coordinates ({xmin:.0f}, {ymin:.0f}) are not lon/lat in "
                          f"{crs}; a projected file needs --crs EPSG:NNNN (e.g. EPSG:4526)")


def _regions(meta: dict, fields: Fields, geoms: np.ndarray, data: list) -> list[RawRegion]:
    names = [str(n) for n in meta["fields"]]
    col = {n: i for i, n in enumerate(names)}
    code_f = _pick(names, fields.code, CODE_FIELDS, "code", True)
    name_f = _pick(names, fields.name, NAME_FIELDS, "name", True)
    en_f = _pick(names, fields.name_en, NAME_EN_FIELDS, "name-en", False)
    parent_f = _pick(names, fields.parent, PARENT_FIELDS, "parent", False)

    def at(field: str | None, i: int) -> object:
        return None if field is None else data[col[field]][i]

    out = []
    for i, g in enumerate(geoms):
        ok = g is not None and isinstance(g, shapely.Polygon | shapely.MultiPolygon)
        out.append(RawRegion(i, _text(at(code_f, i)), _text(at(name_f, i)),
                             _text(at(en_f, i)), _parent(at(parent_f, i)),
                             g if ok else None, "none" if g is None else g.geom_type))
    return out


def read_source(path: Path, dst_datum: str | None, fields: Fields = Fields(),
                crs: str | None = None, layer: str | None = None,
                encoding: str | None = None) -> Source:
    """Read a boundary file's regions into `dst_datum` (None: the file's own datum); `encoding`
    of a Shapefile's attributes when it has no .cpg (Chinese ones are often GBK)."""
    import pyogrio  # noqa: PLC0415

    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    try:
        meta, _fids, wkb, data = pyogrio.raw.read(path, layer=layer, force_2d=True,
                                                  encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            LookupError) as exc:
        raise SourceError(f"{path}: cannot read it ({exc})") from None
    names = [str(n).lower() for n in meta["fields"]]
    datav = (path.suffix.lower() in (".json", ".geojson") and "adcode" in names
             and "name" in names and meta.get("crs") in (None, "EPSG:4326"))
    geoms = shapely.from_wkb(wkb)
    try:
        given = crs or ("gcj02" if datav else _epsg_of(meta.get("crs")))
    except SourceError as exc:
        raise SourceError(f"{path}: {exc}") from None
    if given is None:
        raise SourceError(f"{path}: it declares no coordinate system; pass --crs "
                          "(EPSG:4526, EPSG:4490, gcj02, bd09 or wgs84)")
    src_datum, epsg = parse_crs(given)
    dst = dst_datum or (src_datum if src_datum in DATUMS else "gcj02")
    present = geoms[~shapely.is_missing(geoms)]
    if len(present):
        if epsg is None:
            _check_lonlat(path, present, given)
        out = shapely.transform(present, _converter(src_datum, epsg, dst))
        _check_lonlat(path, out, given)
        geoms = geoms.copy()
        geoms[~shapely.is_missing(geoms)] = out
    return Source(path, tuple(_regions(meta, fields, geoms, data)), given, datav, dst)

