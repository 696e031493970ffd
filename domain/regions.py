"""Regions of the grid hierarchy (city → town → village → grid) and code rules."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

CITY_CODE_LEN = 6
TOWN_CODE_LEN = 9
VILLAGE_CODE_LEN = 12
GRID_CODE_LEN = 15


class Level(StrEnum):
    """A level of the hierarchy, from the whole city down to a base grid."""

    CITY = "city"
    TOWN = "town"
    VILLAGE = "village"
    GRID = "grid"

    @property
    def child(self) -> Level | None:
        """The level directly below this one, or None for a grid."""
        order = list(Level)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


_LEN_TO_LEVEL = {
    CITY_CODE_LEN: Level.CITY,
    TOWN_CODE_LEN: Level.TOWN,
    VILLAGE_CODE_LEN: Level.VILLAGE,
    GRID_CODE_LEN: Level.GRID,
}


def level_of(code: str) -> Level:
    """The level a region code belongs to, from its length."""
    try:
        return _LEN_TO_LEVEL[len(code)]
    except KeyError:
        raise ValueError(f"not a region code: {code!r}") from None


def town_of(code: str) -> str:
    """The town code a town, village or grid code belongs to."""
    if len(code) < TOWN_CODE_LEN:
        raise ValueError(f"{code!r} is above town level")
    return code[:TOWN_CODE_LEN]


def village_of(code: str) -> str:
    """The village code a village or grid code belongs to."""
    if len(code) < VILLAGE_CODE_LEN:
        raise ValueError(f"{code!r} is above village level")
    return code[:VILLAGE_CODE_LEN]


def above_town(code: str) -> bool:
    """Whether a region code is above town level (the city: it spans every town)."""
    return len(code) < TOWN_CODE_LEN


def above_village(code: str) -> bool:
    """Whether a region code is above village level (the city or a town)."""
    return len(code) < VILLAGE_CODE_LEN


def towns_covering(code: str, towns: Iterable[str]) -> list[str]:
    """The towns a region lies in: every one of `towns` for the city, else its own town."""
    return list(towns) if above_town(code) else [town_of(code)]


def ancestors_of(code: str) -> list[str]:
    """Codes of the region and every region above it, the region first."""
    lens = [n for n in (GRID_CODE_LEN, VILLAGE_CODE_LEN, TOWN_CODE_LEN, CITY_CODE_LEN)
            if n <= len(code)]
    return [code[:n] for n in lens]


def is_within(code: str, scope: str) -> bool:
    """Whether region `code` is `scope` or lies below it."""
    return code.startswith(scope)


@dataclass(frozen=True)
class Region:
    """One region: its code, names, level, parent code and label point."""

    code: str
    name: str
    level: Level
    parent: str | None
    name_en: str = ""
    centre: tuple[float, float] = (0.0, 0.0)  # (lon, lat) in the hierarchy's datum


@dataclass(frozen=True)
class Hierarchy:
    """All regions of a city, indexed by code, with parent → children links."""

    city: Region
    datum: str
    regions: dict[str, Region]
    children: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, regions: Iterable[Region], datum: str) -> Hierarchy:
        """Index regions and derive the children lists; exactly one city."""
        by_code = {r.code: r for r in regions}
        cities = [r for r in by_code.values() if r.level is Level.CITY]
        if len(cities) != 1:
            raise ValueError(f"a hierarchy needs exactly one city, found {len(cities)}")
        kids: dict[str, list[str]] = {}
        for r in by_code.values():
            if r.parent is not None:
                if r.parent not in by_code:
                    raise ValueError(f"region {r.code} names unknown parent {r.parent}")
                kids.setdefault(r.parent, []).append(r.code)
        children = {k: tuple(sorted(v)) for k, v in kids.items()}
        return cls(city=cities[0], datum=datum, regions=by_code, children=children)

    def __getitem__(self, code: str) -> Region:
        return self.regions[code]

    def __contains__(self, code: object) -> bool:
        return code in self.regions

    def children_of(self, code: str) -> tuple[str, ...]:
        """Codes of the direct children of a region."""
        return self.children.get(code, ())

    def at_level(self, level: Level) -> list[Region]:
        """Every region of one level, sorted by code."""
        return sorted((r for r in self.regions.values() if r.level is level),
                      key=lambda r: r.code)

    def descendants(self, code: str, level: Level) -> Iterator[Region]:
        """Regions of `level` at or below region `code`."""
        for r in self.at_level(level):
            if r.code.startswith(code):
                yield r

    def count(self, code: str, level: Level) -> int:
        """How many regions of `level` lie at or below region `code`."""
        return sum(1 for _ in self.descendants(code, level))
