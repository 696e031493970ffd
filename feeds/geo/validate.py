"""Checks of one imported level against its parents: children outside, gaps and overlaps, named."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_M_PER_DEG = 6371008.8 * math.pi / 180.0  # one degree of latitude on the mean sphere


@dataclass(frozen=True)
class Tolerance:
    """Slivers to ignore: pieces below `min_area_m2`, or below `min_share` of the parent."""

    min_area_m2: float = 1.0
    min_share: float = 0.0001  # 0.01 % of the parent's area


@dataclass(frozen=True)
class Problem:
    """One problem found: its kind, the regions concerned, where and how large."""

    kind: str  # outside | gap | overlap | repaired | invalid | unknown-parent | duplicate | …
    code: str
    detail: str
    other: str = ""
    area_m2: float = 0.0
    at: tuple[float, float] | None = None  # (lon, lat) of a point of the piece

    @property
    def fatal(self) -> bool:
        """Whether the import is refused for it (a repair is only reported)."""
        return self.kind != "repaired"

    def message(self) -> str:
        """One line a user reads: what, which regions, how much, where."""
        where = f" at {self.at[0]:.6f},{self.at[1]:.6f}" if self.at else ""
        size = f" {_fmt_area(self.area_m2)}" if self.area_m2 else ""
        return f"{self.kind}: {self.code}{size}{where}: {self.detail}"


def _fmt_area(m2: float) -> str:
    return f"{m2 / 1e6:.3f} km²" if m2 >= 1e5 else f"{m2:.1f} m²"


def area_m2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry in m² (local equal-area scaling at its latitude)."""
    if geom.is_empty:
        return 0.0
    lat = geom.centroid.y
    return float(geom.area) * _M_PER_DEG ** 2 * math.cos(math.radians(lat))


def _point(geom: BaseGeometry) -> tuple[float, float]:
    p = geom.point_on_surface()
    return round(p.x, 6), round(p.y, 6)


def _pieces(geom: BaseGeometry, parent_m2: float, tol: Tolerance) -> list[BaseGeometry]:
    """The polygon parts of a geometry that are no sliver."""
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon)
             and not g.is_empty]
    keep = []
    for g in parts:
        a = area_m2(g)
        if a >= tol.min_area_m2 and a >= tol.min_share * parent_m2:
            keep.append(g)
    return keep


def _outside(code: str, child: BaseGeometry, parent_code: str, parent: BaseGeometry,
             parent_m2: float, tol: Tolerance) -> list[Problem]:
    pieces = _pieces(shapely.difference(child, parent), parent_m2, tol)
    if not pieces:
        return []
    total = sum(area_m2(g) for g in pieces)
    big = max(pieces, key=lambda g: g.area)
    share = 100.0 * total / max(area_m2(child), 1e-9)
    return [Problem("outside", code, f"{share:.1f} % of it lies outside its parent "
                    f"{parent_code} ({len(pieces)} piece(s))", parent_code, total, _point(big))]


def _gaps(parent_code: str, parent: BaseGeometry, kids: list[BaseGeometry],
          parent_m2: float, tol: Tolerance) -> list[Problem]:
    union = shapely.union_all(np.array(kids, dtype=object))
    out = []
    for g in _pieces(shapely.difference(parent, union), parent_m2, tol):
        out.append(Problem("gap", parent_code, "part of the parent no child covers",
                           area_m2=area_m2(g), at=_point(g)))
    return out


def _overlaps(codes: list[str], kids: list[BaseGeometry], parent_m2: float,
              tol: Tolerance) -> list[Problem]:
    arr = np.array(kids, dtype=object)
    left, right = shapely.STRtree(arr).query(arr, predicate="intersects")
    out = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        pieces = _pieces(shapely.intersection(arr[i], arr[j]), parent_m2, tol)
        if pieces:
            total = sum(area_m2(g) for g in pieces)
            big = max(pieces, key=lambda g: g.area)
            out.append(Problem("overlap", codes[i], f"overlaps its sibling {codes[j]}",
                               codes[j], total, _point(big)))
    return out


def check_level(parents: Mapping[str, BaseGeometry], children: Mapping[str, BaseGeometry],
                parent_of: Mapping[str, str], tol: Tolerance) -> list[Problem]:
    """Every child outside its parent, every gap between siblings and every overlap."""
    by_parent: dict[str, list[str]] = {}
    for code, parent in parent_of.items():
        by_parent.setdefault(parent, []).append(code)
    problems: list[Problem] = []
    for parent_code in sorted(by_parent):
        parent = parents[parent_code]
        shapely.prepare(parent)
        parent_m2 = area_m2(parent)
        codes = sorted(by_parent[parent_code])
        kids = [children[c] for c in codes]
        for code, kid in zip(codes, kids, strict=True):
            problems += _outside(code, kid, parent_code, parent, parent_m2, tol)
        problems += _gaps(parent_code, parent, kids, parent_m2, tol)
        problems += _overlaps(codes, kids, parent_m2, tol)
    return problems


def repair(code: str, geom: BaseGeometry,
           allow: bool) -> tuple[BaseGeometry | None, Problem | None]:
    """A valid polygonal geometry: as it is, repaired with make_valid (reported), or refused."""
    if geom.is_valid:
        return geom, None
    reason = shapely.is_valid_reason(geom)
    if not allow:
        return None, Problem("invalid", code, f"invalid geometry ({reason}); fix it in the "
                             "source or drop --no-repair", at=_point(geom.buffer(0)))
    fixed = shapely.make_valid(geom)
    polys = [g for g in shapely.get_parts(fixed) if isinstance(g, shapely.Polygon)]
    if not polys:
        return None, Problem("invalid", code, f"invalid geometry ({reason}) with no area left "
                             "after repair")
    out = shapely.union_all(np.array(polys, dtype=object))
    return out, Problem("repaired", code, f"invalid geometry ({reason}) repaired with "
                        "make_valid", at=_point(out))
