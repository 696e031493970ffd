"""Trial levels: the demo generator's splits cut a real city's lowest real level into the rest."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from domain.regions import Hierarchy, Levels, LevelSpec, Region
from feeds.geo.hierarchy import CityGeo, label_point, parse_hierarchy, to_document
from feeds.sim.citygen import DEMO_SEED, PRECISION_DEG, allocate, edge_match, short_name, split

Report = Callable[[str, int, int], None]  # level, regions made, parents split
MAX_CHILDREN = 999  # codes are the parent's + 3 digits


class SubdivideError(ValueError):
    """A subdivision that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Plan:
    """Which levels to make below which real one, how many children each parent gets."""

    below: str
    levels: Levels  # the city's levels after the subdivision
    sizes: tuple[int, ...]  # children per parent, one per new level
    seed: int = DEMO_SEED


def plan(city: CityGeo, below: str, specs: tuple[LevelSpec, ...] | None,
         sizes: tuple[int, ...], shard: str | None = None, dispatch: str | None = None,
         seed: int = DEMO_SEED) -> Plan:
    """Check a request: `below` is a level of the city, one size per new level, 1…999."""
    old = city.hierarchy.levels
    if below not in old.keys:
        raise SubdivideError(f"--below {below!r} is not one of the city's levels "
                             f"{', '.join(old.keys)}")
    upper = old.specs[: old.index(below) + 1]
    lower = specs if specs is not None else old.specs[old.index(below) + 1:]
    if not lower:
        raise SubdivideError(f"{below} is the city's lowest level: name the levels to make "
                             "with --levels, e.g. --levels community,grid")
    if len(sizes) == 1:
        sizes = sizes * len(lower)
    if len(sizes) != len(lower):
        raise SubdivideError(f"--sizes gives {len(sizes)} numbers for {len(lower)} new levels "
                             f"({', '.join(s.key for s in lower)})")
    if not all(1 <= n <= MAX_CHILDREN for n in sizes):
        raise SubdivideError(f"--sizes must be 1…{MAX_CHILDREN} children per parent, got "
                             f"{','.join(map(str, sizes))}")
    keys = [s.key for s in (*upper, *lower)]
    shard = shard or (old.shard if old.shard in keys else lower[0].key)
    dispatch = dispatch or (old.dispatch if old.dispatch in keys else shard)
    try:
        levels = Levels((*upper, *lower), shard=shard, dispatch=dispatch,
                        prefix_codes=old.prefix_codes)
    except ValueError as exc:
        raise SubdivideError(str(exc)) from None
    return Plan(below, levels, tuple(sizes), seed)


def split_shape(geom: BaseGeometry, n: int, rng: np.random.Generator) -> list[BaseGeometry]:
    """n children covering a (multi)polygon; islands too small for a child join the nearest."""
    parts = sorted(shapely.get_parts(geom), key=lambda g: -g.area)
    counts = allocate(np.array([p.area for p in parts]), n, 0) if len(parts) > 1 else [n]
    kids: list[BaseGeometry] = []
    for part, k in zip(parts, counts, strict=True):
        if k == 1:
            kids.append(part)
        elif k > 1:
            kids += [c.shape for c in split(part, k, rng)]
    for part, k in zip(parts, counts, strict=True):
        if k == 0:
            near = int(np.argmin(shapely.distance(np.array(kids, dtype=object), part)))
            kids[near] = shapely.union(kids[near], part)
    return kids


def _children(parent: Region, geom: BaseGeometry, spec: LevelSpec, leaf: bool, n: int,
              seed: int, real: bool) -> list[tuple[Region, BaseGeometry]]:
    """Split one region into n children named after it (a real one's short name: 园岭第1社区)."""
    rng = np.random.default_rng([seed, *(ord(c) for c in parent.code)])
    out = []
    for k, shape in enumerate(split_shape(geom, n, rng), start=1):
        name = (f"{parent.name}{k}号{spec.name}" if leaf
                else f"{short_name(parent.name) if real else parent.name}第{k}{spec.name}")
        region = Region(f"{parent.code}{k:03d}", name, spec.key, parent.code,
                        f"{parent.name_en} {spec.name_en} {k}".strip())
        out.append((region, shape))
    return out


def _round_up(made: list[list[Region]], shapes: dict[str, BaseGeometry]) -> None:
    """Edge-match and round the new grids; each new region above them is the union of its own."""
    leaves = [r.code for r in made[-1]]
    grids = edge_match(np.array([shapes[c] for c in leaves], dtype=object))
    grids = shapely.set_precision(grids, PRECISION_DEG, mode="pointwise")
    grids = shapely.orient_polygons(shapely.remove_repeated_points(grids))
    shapes.update(zip(leaves, grids, strict=True))
    for i in range(len(made) - 2, -1, -1):
        kids: dict[str, list[BaseGeometry]] = {}
        for r in made[i + 1]:
            kids.setdefault(r.parent or "", []).append(shapes[r.code])
        for r in made[i]:
            shapes[r.code] = shapely.orient_polygons(shapely.coverage_union_all(kids[r.code]))


def subdivide(city: CityGeo, p: Plan, report: Report | None = None) -> CityGeo:
    """The city with its levels below `p.below` generated anew (the regions there replaced)."""
    h = city.hierarchy
    keep = set(h.levels.keys[: h.levels.index(p.below) + 1])
    regions = [r for r in h.regions.values() if r.level in keep]
    shapes = {r.code: city.shapes[r.code] for r in regions}
    parents = h.at_level(p.below)
    new_specs = p.levels.specs[p.levels.index(p.below) + 1:]
    made: list[list[Region]] = []
    for depth, (spec, n) in enumerate(zip(new_specs, p.sizes, strict=True)):
        leaf = depth == len(new_specs) - 1
        level: list[Region] = []
        for parent in parents:
            try:
                pairs = _children(parent, shapes[parent.code], spec, leaf, n, p.seed,
                                  depth == 0)
            except RuntimeError as exc:
                raise SubdivideError(f"cannot split {parent.code} ({parent.name}) into {n}: "
                                     f"{exc}; try another --sizes") from None
            for region, shape in pairs:
                if region.code in shapes:
                    raise SubdivideError(f"generated code {region.code} is taken already")
                level.append(region)
                shapes[region.code] = shape
        if report:
            report(spec.key, len(level), len(parents))
        made.append(level)
        parents = level
    _round_up(made, shapes)
    new = [Region(r.code, r.name, r.level, r.parent, r.name_en, label_point(shapes[r.code]))
           for level in made for r in level]
    built = Hierarchy.build([*regions, *new], h.datum, p.levels)
    return parse_hierarchy(to_document(CityGeo(built, shapes)))
