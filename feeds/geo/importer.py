"""One level of boundaries into a city's hierarchy: checked, every problem named, or refused."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from domain.regions import Hierarchy, Levels, LevelSpec, Region
from feeds.geo.hierarchy import CityGeo, HierarchyError, label_point, parse_hierarchy, to_document
from feeds.geo.sources import RawRegion, Source
from feeds.geo.validate import Problem, Tolerance, check_level, repair

PRECISION_DEG = 1e-6  # what the hierarchy file keeps (6 decimals)
KNOWN_LEVELS = {"city": ("市", "City"), "district": ("区", "District"),
                "county": ("县", "County"), "street": ("街道", "Street"),
                "town": ("镇街", "Town"), "community": ("社区", "Community"),
                "village": ("村（社区）", "Village"), "grid": ("网格", "Grid")}
DEFAULT_LEVELS = "city,district,street,community,grid"


class ImportRefused(ValueError):
    """An import that cannot start (no city yet, a level not declared …); says what to do."""


@dataclass(frozen=True)
class ImportOptions:
    """How to take one file in: its level, its parent, the tolerances, the new city's facts."""

    level: str
    parent: str | None = None  # --parent: every feature lies in this region
    tolerance: Tolerance = Tolerance()
    repair: bool = True
    city_code: str | None = None
    city_name: str | None = None
    city_name_en: str = ""
    levels: Levels | None = None  # only for a new city (default: the five levels of DEFAULT_LEVELS)


@dataclass(frozen=True)
class ImportResult:
    """The city with the level in (None when refused), and what was found on the way."""

    city: CityGeo | None
    level: str
    added: int  # usable features of the file
    replaced: int
    problems: tuple[Problem, ...] = field(default=())

    @property
    def refused(self) -> bool:
        """Whether any problem refuses the import."""
        return self.city is None


def level_specs(text: str) -> tuple[LevelSpec, ...]:
    """`city:市:City,district,…` as level declarations (known keys get their usual names)."""
    specs = []
    for item in [x.strip() for x in text.split(",") if x.strip()]:
        key, *names = item.split(":")
        zh, en = KNOWN_LEVELS.get(key, (key, key.title()))
        specs.append(LevelSpec(key, names[0] if names else zh,
                               names[1] if len(names) > 1 else en))
    return tuple(specs)


def parse_levels_flag(text: str, shard: str | None = None, dispatch: str | None = None) -> Levels:
    """A new city's levels from `--levels` (shard: the third of five or more, else the second)."""
    specs = level_specs(text)
    keys = [s.key for s in specs]
    if len(keys) < 2:
        raise ImportRefused(f"--levels {text!r}: name at least two levels, top to bottom")
    shard = shard or (keys[2] if len(keys) > 3 else keys[1])
    try:
        return Levels(specs, shard=shard, dispatch=dispatch or shard)
    except ValueError as exc:
        raise ImportRefused(f"--levels: {exc}") from None


def _clean(raw: RawRegion, opts: ImportOptions, problems: list[Problem]) -> BaseGeometry | None:
    """A feature's shape, repaired and rounded as the file keeps it, or None (reported)."""
    who = raw.code or f"feature {raw.index}"
    if not raw.code:
        problems.append(Problem("no-code", who, "the code field is empty"))
    if not raw.name:
        problems.append(Problem("no-name", who, "the name field is empty"))
    if raw.geom is None:
        problems.append(Problem("not-a-polygon", who, f"geometry is {raw.geom_type}, want a "
                                "Polygon or MultiPolygon"))
        return None
    geom, note = repair(who, raw.geom, opts.repair)
    if note is not None:
        problems.append(note)
    if geom is None:
        return None
    geom = shapely.orient_polygons(shapely.set_precision(geom, PRECISION_DEG))
    if geom.is_empty or geom.area <= 0:
        problems.append(Problem("no-area", who, "geometry has no area at 6 decimals"))
        return None
    return geom


def _take(source: Source, opts: ImportOptions,
          problems: list[Problem]) -> dict[str, tuple[RawRegion, BaseGeometry]]:
    """The file's usable features by code; duplicates and unusable ones reported."""
    out: dict[str, tuple[RawRegion, BaseGeometry]] = {}
    for raw in source.regions:
        geom = _clean(raw, opts, problems)
        if raw.code in out:
            problems.append(Problem("duplicate", raw.code, f"features {out[raw.code][0].index} "
                                    f"and {raw.index} have the same code"))
        elif geom is not None and raw.code and raw.name:
            out[raw.code] = (raw, geom)
    return out


def _region(raw: RawRegion, level: str, parent: str | None, geom: BaseGeometry) -> Region:
    return Region(raw.code, raw.name, level, parent, raw.name_en, label_point(geom))


def _new_city(taken: dict[str, tuple[RawRegion, BaseGeometry]], opts: ImportOptions,
              levels: Levels, problems: list[Problem]) -> tuple[list[Region], dict]:
    """A city from its own outline (--level city) or as the union of its first level."""
    if opts.level == levels.top:
        if len(taken) != 1:
            problems.append(Problem("not-one-city", opts.level, f"the file has {len(taken)} "
                                    f"usable features, the {levels.top} level wants one"))
            return [], {}
        raw, geom = next(iter(taken.values()))
        return [_region(raw, levels.top, None, geom)], {raw.code: geom}
    parents = {opts.parent or raw.parent for raw, _ in taken.values()} - {None}
    code = opts.city_code or (parents.pop() if len(parents) == 1 else None)
    if not code:
        raise ImportRefused(f"no city yet and the file names {len(parents)} parents: pass "
                            f"--city-code (and --city-name), or import the {levels.top} first")
    geom = shapely.orient_polygons(shapely.set_precision(
        shapely.union_all(np.array([g for _, g in taken.values()], dtype=object)),
        PRECISION_DEG))
    city = Region(code, opts.city_name or code, levels.top, None, opts.city_name_en,
                  label_point(geom))
    return [city], {code: geom}


def _descendants(h: Hierarchy, codes: set[str]) -> set[str]:
    out, todo = set(), list(codes)
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(h.children_of(c))
    return out


def _link(taken: dict[str, tuple[RawRegion, BaseGeometry]], opts: ImportOptions,
          base: list[Region], levels: Levels, problems: list[Problem]) -> dict[str, str]:
    """Each feature's parent, checked against the regions one level up."""
    up = levels.above(opts.level)
    by_code = {r.code: r for r in base}
    parent_of: dict[str, str] = {}
    for code, (raw, _) in taken.items():
        parent = opts.parent or raw.parent
        if parent is None and len([r for r in base if r.level == up]) == 1:
            parent = next(r.code for r in base if r.level == up)
        if parent is None:
            problems.append(Problem("no-parent", code, f"names no {up}: pass --parent-field "
                                    "or --parent CODE"))
        elif parent not in by_code or by_code[parent].level != up:
            problems.append(Problem("unknown-parent", code, f"names parent {parent}, which is "
                                    f"no {up} of the city"))
        elif levels.prefix_codes and not code.startswith(parent):
            problems.append(Problem("code", code, f"must start with its parent's {parent} "
                                    "(the city declares prefix codes)"))
        else:
            parent_of[code] = parent
    return parent_of


def _into(city: CityGeo, taken: dict[str, tuple[RawRegion, BaseGeometry]],
          opts: ImportOptions, problems: list[Problem]) -> tuple[list[Region], dict, int]:
    """Regions and shapes of the city with the level in; how many old regions it replaces."""
    h = city.hierarchy
    uppers = h.at_level(h.levels.above(opts.level) or h.levels.top)
    only = uppers[0].code if len(uppers) == 1 else None  # _link's default parent
    named = {opts.parent or raw.parent or only for raw, _ in taken.values()}
    old = {r.code for r in h.at_level(opts.level) if r.parent in named or r.code in taken}
    gone = _descendants(h, old)
    base = [r for c, r in h.regions.items() if c not in gone]
    parent_of = _link(taken, opts, base, h.levels, problems)
    for code in taken:
        if code in h.regions and code not in gone:
            problems.append(Problem("duplicate", code, f"the city already has it as a "
                                    f"{h.regions[code].level}"))
    shapes = {c: g for c, g in city.shapes.items() if c not in gone}
    children = {c: taken[c][1] for c in parent_of}
    problems += check_level(shapes, children, parent_of, opts.tolerance)
    regions = base + [_region(taken[c][0], opts.level, p, taken[c][1])
                      for c, p in parent_of.items()]
    shapes.update(children)
    return regions, shapes, len(gone)


def import_level(city: CityGeo | None, source: Source, opts: ImportOptions) -> ImportResult:
    """The city with one more level from a boundary file, or refused with every problem."""
    levels = city.hierarchy.levels if city else (opts.levels or parse_levels_flag(DEFAULT_LEVELS))
    if opts.level not in levels.keys:
        raise ImportRefused(f"--level {opts.level!r} is not one of the city's levels "
                            f"{', '.join(levels.keys)}")
    problems: list[Problem] = []
    taken = _take(source, opts, problems)
    if not taken:
        problems.append(Problem("empty", str(source.path), "no usable feature in the file"))
        return ImportResult(None, opts.level, 0, 0, tuple(problems))
    replaced = 0
    if city is None:
        if levels.index(opts.level) > 1:
            raise ImportRefused(f"no city yet: import the {levels.top} or the "
                                f"{levels.keys[1]} level first")
        regions, shapes = _new_city(taken, opts, levels, problems)
        if opts.level != levels.top:
            up = _link(taken, opts, regions, levels, problems)
            kids = {c: taken[c][1] for c in up}
            problems += check_level(shapes, kids, up, opts.tolerance)
            regions += [_region(taken[c][0], opts.level, p, kids[c]) for c, p in up.items()]
            shapes.update(kids)
    else:
        if opts.level == levels.top:
            raise ImportRefused("the city exists already; import its lower levels, or start "
                                "over in an empty data dir")
        regions, shapes, replaced = _into(city, taken, opts, problems)
    return _finish(regions, shapes, city.datum if city else source.datum,
                   levels, opts.level, (len(taken), replaced), problems)


def _finish(regions: list[Region], shapes: dict, datum: str, levels: Levels, level: str,
            counts: tuple[int, int], problems: list[Problem]) -> ImportResult:
    """The checked city as the file format reads it back, or None if any problem refuses it."""
    added, replaced = counts
    if any(p.fatal for p in problems):
        return ImportResult(None, level, added, replaced, tuple(problems))
    try:
        h = Hierarchy.build(regions, datum, levels)
        city = parse_hierarchy(to_document(CityGeo(h, shapes)))
    except (ValueError, HierarchyError) as exc:
        problems.append(Problem("format", level, str(exc)))
        return ImportResult(None, level, added, replaced, tuple(problems))
    return ImportResult(city, level, added, replaced, tuple(problems))
