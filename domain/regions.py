"""Regions of a city's hierarchy, its levels as data, and the walks over them (ancestor at level L).

A city declares its levels top to bottom (Dongguan: city → town → village → grid; most cities:
city → district → street → community → grid). Codes are unique strings and a child names its
parent; nothing is derived from a code's length unless the hierarchy declares a prefix rule.
Every hierarchy built registers its regions in this module's code book, so that the walks that
only hold a code (`town_of`, `is_within`, `ancestors_of` …) answer for the city of the process;
a code no hierarchy holds falls back to Dongguan's fixed-length prefix scheme.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

CITY_CODE_LEN = 6
TOWN_CODE_LEN = 9
VILLAGE_CODE_LEN = 12
GRID_CODE_LEN = 15
_DONGGUAN_LENS = (CITY_CODE_LEN, TOWN_CODE_LEN, VILLAGE_CODE_LEN, GRID_CODE_LEN)


class Level(StrEnum):
    """The level keys of the default (Dongguan) hierarchy; other cities declare their own."""

    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    GRID = "grid"


@dataclass(frozen=True)
class LevelSpec:
    """One level of a city: its key and its display names."""

    key: str
    name: str
    name_en: str


@dataclass(frozen=True)
class Levels:
    """A city's levels top to bottom, the one that shards the keys and the one that dispatches."""

    specs: tuple[LevelSpec, ...]
    shard: str
    dispatch: str
    prefix_codes: bool = False  # a declared rule: every child's code starts with its parent's
    code_digits: tuple[int, ...] = ()  # a declared rule: each level's codes have n digits

    def __post_init__(self) -> None:
        keys = [s.key for s in self.specs]
        if len(keys) < 2:
            raise ValueError("a hierarchy needs at least two levels (the city and its grids)")
        if len(set(keys)) != len(keys):
            raise ValueError(f"level keys must be unique, got {keys}")
        for role, key in (("shard", self.shard), ("dispatch", self.dispatch)):
            if key not in keys:
                raise ValueError(f"the {role} level {key!r} is not one of {', '.join(keys)}")
        if self.shard == keys[0]:
            raise ValueError("the shard level must be below the city")
        if self.code_digits and len(self.code_digits) != len(keys):
            raise ValueError(f"code_digits must give one length per level, got {self.code_digits}")

    @property
    def keys(self) -> tuple[str, ...]:
        """The level keys, top to bottom."""
        return tuple(s.key for s in self.specs)

    @property
    def top(self) -> str:
        """The city's level."""
        return self.specs[0].key

    @property
    def leaf(self) -> str:
        """The base grid's level."""
        return self.specs[-1].key

    def index(self, key: str) -> int:
        """Depth of a level: 0 for the city."""
        return self.keys.index(key)

    def below(self, key: str) -> str | None:
        """The level directly below `key`, or None for the grids."""
        i = self.index(key) + 1
        return self.keys[i] if i < len(self.specs) else None

    def above(self, key: str) -> str | None:
        """The level directly above `key`, or None for the city."""
        i = self.index(key)
        return self.keys[i - 1] if i > 0 else None

    def spec(self, key: str) -> LevelSpec:
        """The declaration of one level."""
        return self.specs[self.index(key)]

    def name(self, key: str, lang: str) -> str:
        """A level's display name in a language (zh or en)."""
        s = self.spec(key)
        return s.name if lang == "zh" else (s.name_en or s.name)


DONGGUAN_LEVELS = Levels(
    (LevelSpec("city", "市", "City"), LevelSpec("town", "镇街", "Town"),
     LevelSpec("village", "村（社区）", "Village"), LevelSpec("grid", "网格", "Grid")),
    shard="town", dispatch="town", prefix_codes=True, code_digits=_DONGGUAN_LENS)


@dataclass(frozen=True)
class Region:
    """One region: its code, names, level key, parent code and label point."""

    code: str
    name: str
    level: str
    parent: str | None
    name_en: str = ""
    centre: tuple[float, float] = (0.0, 0.0)  # (lon, lat) in the hierarchy's datum


@dataclass(frozen=True)
class Hierarchy:
    """All regions of a city, indexed by code, with parent → children links and its levels."""

    city: Region
    datum: str
    regions: dict[str, Region]
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    levels: Levels = DONGGUAN_LEVELS

    @classmethod
    def build(cls, regions: Iterable[Region], datum: str,
              levels: Levels = DONGGUAN_LEVELS) -> Hierarchy:
        """Index regions, check each names a parent one level up, and register the codes."""
        by_code = {r.code: r for r in regions}
        cities = [r for r in by_code.values() if r.level == levels.top]
        if len(cities) != 1:
            raise ValueError(f"a hierarchy needs exactly one city, found {len(cities)}")
        kids: dict[str, list[str]] = {}
        for r in by_code.values():
            _check_link(r, by_code, levels)
            if r.parent is not None:
                kids.setdefault(r.parent, []).append(r.code)
        children = {k: tuple(sorted(v)) for k, v in kids.items()}
        h = cls(city=cities[0], datum=datum, regions=by_code, children=children, levels=levels)
        CODEBOOK.register(h)
        return h

    def __getitem__(self, code: str) -> Region:
        return self.regions[code]

    def __contains__(self, code: object) -> bool:
        return code in self.regions

    def children_of(self, code: str) -> tuple[str, ...]:
        """Codes of the direct children of a region."""
        return self.children.get(code, ())

    @cached_property
    def _by_level(self) -> dict[str, list[Region]]:
        out: dict[str, list[Region]] = {k: [] for k in self.levels.keys}
        for r in sorted(self.regions.values(), key=lambda r: r.code):
            out[r.level].append(r)
        return out

    @cached_property
    def _up(self) -> dict[str, tuple[str, ...]]:
        up: dict[str, tuple[str, ...]] = {}
        for key in self.levels.keys:  # top down: a parent's chain is there before its child's
            for r in self._by_level[key]:
                up[r.code] = (r.code, *up[r.parent]) if r.parent else (r.code,)
        return up

    def at_level(self, level: str) -> list[Region]:
        """Every region of one level, sorted by code."""
        return list(self._by_level.get(level, ()))

    def ancestors(self, code: str) -> tuple[str, ...]:
        """The region and every region above it, the region first."""
        return self._up[code]

    def ancestor_at(self, code: str, level: str) -> str:
        """The region of `level` that region `code` lies in (itself at that level)."""
        chain = self._up[code]
        depth = self.levels.index(self.regions[code].level) - self.levels.index(level)
        if depth < 0:
            raise ValueError(f"{code!r} is above the {level} level")
        return chain[depth]

    @cached_property
    def _shards(self) -> dict[str, str]:
        below = self.levels.keys[self.levels.index(self.levels.shard):]
        return {r.code: self.ancestor_at(r.code, self.levels.shard)
                for key in below for r in self._by_level[key]}

    def shard_of(self, code: str) -> str:
        """The region of the shard level a region at or below it lies in (looked up: the
        worker asks it for every position)."""
        shard = self._shards.get(code)
        return shard if shard is not None else self.ancestor_at(code, self.levels.shard)

    def is_within(self, code: str, scope: str) -> bool:
        """Whether region `code` is `scope` or lies below it."""
        return scope in self._up.get(code, ())

    def above_shard(self, code: str) -> bool:
        """Whether a region lies above the shard level (its data spans several shards)."""
        return self.levels.index(self.regions[code].level) < self.levels.index(self.levels.shard)

    def descendants(self, code: str, level: str) -> Iterator[Region]:
        """Regions of `level` at or below region `code`."""
        for r in self._by_level.get(level, ()):
            if code in self._up[r.code]:
                yield r

    def count(self, code: str, level: str) -> int:
        """How many regions of `level` lie at or below region `code`."""
        return sum(1 for _ in self.descendants(code, level))

    def shards_under(self, code: str) -> list[str]:
        """The shard-level regions a region's data lives in (its own, or all below it)."""
        if not self.above_shard(code):
            return [self.shard_of(code)]
        return [r.code for r in self.descendants(code, self.levels.shard)]


def _check_link(r: Region, by_code: dict[str, Region], levels: Levels) -> None:
    """A region's level is declared and its parent is one level up (a prefix if declared)."""
    if r.level not in levels.keys:
        raise ValueError(f"region {r.code}: level {r.level!r} is not one of "
                         f"{', '.join(levels.keys)}")
    want = levels.above(r.level)
    if want is None:
        if r.parent is not None:
            raise ValueError(f"region {r.code}: the city has no parent, got {r.parent!r}")
        return
    parent = by_code.get(r.parent or "")
    if parent is None:
        raise ValueError(f"region {r.code} names unknown parent {r.parent}")
    if parent.level != want:
        raise ValueError(f"region {r.code} ({r.level}) must have a {want} as parent, "
                         f"{parent.code} is a {parent.level}")
    if levels.prefix_codes and not r.code.startswith(parent.code):
        raise ValueError(f"region {r.code}: its code must start with its parent's {parent.code}")


class Codebook:
    """Which hierarchy holds each region code: the code walks of this process ask it."""

    def __init__(self) -> None:
        self._of: dict[str, Hierarchy] = {}

    def register(self, h: Hierarchy) -> None:
        """Make a hierarchy's codes known (a later one with the same codes replaces it)."""
        self._of.update(dict.fromkeys(h.regions, h))

    def get(self, code: str) -> Hierarchy | None:
        """The hierarchy that holds a code, if any."""
        return self._of.get(code)


CODEBOOK = Codebook()


def _prefix_chain(code: str) -> list[str]:
    lens = [n for n in reversed(_DONGGUAN_LENS) if n <= len(code)]
    if len(code) not in _DONGGUAN_LENS:
        raise ValueError(f"not a region code: {code!r}")
    return [code[:n] for n in lens]


def level_of(code: str) -> str:
    """The level key of a region code."""
    h = CODEBOOK.get(code)
    if h is not None:
        return h.regions[code].level
    return list(Level)[_DONGGUAN_LENS.index(len(_prefix_chain(code)[0]))].value


def ancestors_of(code: str) -> list[str]:
    """Codes of the region and every region above it, the region first."""
    h = CODEBOOK.get(code)
    return list(h.ancestors(code)) if h is not None else _prefix_chain(code)


def town_of(code: str) -> str:
    """The shard-level region (Dongguan's town) a region at or below that level lies in."""
    h = CODEBOOK.get(code)
    if h is not None:
        return h.shard_of(code)
    if len(code) < TOWN_CODE_LEN:
        raise ValueError(f"{code!r} is above town level")
    return code[:TOWN_CODE_LEN]


def village_of(code: str) -> str:
    """The region one level above the grids that a grid (or that region) lies in."""
    h = CODEBOOK.get(code)
    if h is not None:
        return h.ancestor_at(code, h.levels.above(h.levels.leaf) or h.levels.leaf)
    if len(code) < VILLAGE_CODE_LEN:
        raise ValueError(f"{code!r} is above village level")
    return code[:VILLAGE_CODE_LEN]


def above_town(code: str) -> bool:
    """Whether a region lies above the shard level (it spans several towns)."""
    h = CODEBOOK.get(code)
    return h.above_shard(code) if h is not None else len(code) < TOWN_CODE_LEN


def above_village(code: str) -> bool:
    """Whether a region lies above the level directly over the grids."""
    h = CODEBOOK.get(code)
    if h is None:
        return len(code) < VILLAGE_CODE_LEN
    return h.levels.index(h.regions[code].level) < len(h.levels.specs) - 2


def towns_covering(code: str, towns: Iterable[str]) -> list[str]:
    """The shard regions a region's data lives in: those of `towns` below it, else its own."""
    if not above_town(code):
        return [town_of(code)]
    return [t for t in towns if is_within(t, code)]


def is_within(code: str, scope: str) -> bool:
    """Whether region `code` is `scope` or lies below it."""
    h = CODEBOOK.get(code)
    return h.is_within(code, scope) if h is not None else code.startswith(scope)


def chain_to_shard(code: str) -> list[str]:
    """The region and the regions above it up to its shard-level one (counts live there)."""
    chain = ancestors_of(code)
    return chain[:chain.index(town_of(code)) + 1]
