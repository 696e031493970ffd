"""Business grids: department layers (e.g. police beats) of whole base grids, and their rules."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class BusinessUnit:
    """One business grid (e.g. a police beat): a code, names and the whole base grids it holds."""

    code: str
    name: str
    grids: tuple[str, ...]
    name_en: str = ""


@dataclass(frozen=True)
class Overlay:
    """A department's layer of business grids over the base grids of one region."""

    layer_id: str
    name: str
    name_en: str
    department: str
    region: str
    units: tuple[BusinessUnit, ...]

    def unit(self, code: str) -> BusinessUnit:
        """The unit with this code (KeyError if none)."""
        for u in self.units:
            if u.code == code:
                return u
        raise KeyError(code)

    @property
    def grid_count(self) -> int:
        """How many base grids the units hold together (a grid in two units counts twice)."""
        return sum(len(u.grids) for u in self.units)


def units_by_grid(overlay: Overlay) -> dict[str, str]:
    """Base grid code → code of the unit holding it (the first one, if a grid is split)."""
    out: dict[str, str] = {}
    for u in overlay.units:
        for g in u.grids:
            out.setdefault(g, u.code)
    return out


def _who(unit: BusinessUnit) -> str:
    """A unit as named in messages: its code and, if any, its name."""
    return f"unit {unit.code} ({unit.name})" if unit.name.strip() else f"unit {unit.code}"


def _and(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _unit_problems(units: Iterable[BusinessUnit]) -> list[str]:
    """Blank codes or names, duplicate codes, empty units, a grid listed twice in one unit."""
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, u in enumerate(units):
        if not u.code.strip():
            problems.append(f"unit #{i + 1} ({u.name or 'no name'}) has an empty code")
        elif u.code in seen:
            problems.append(f"duplicate unit code {u.code} (units #{seen[u.code] + 1} "
                            f"and #{i + 1})")
        else:
            seen[u.code] = i
        if not u.name.strip():
            problems.append(f"unit {u.code or '#' + str(i + 1)} has an empty name")
        if not u.grids:
            problems.append(f"{_who(u)} is empty: it holds no base grid")
        counted: set[str] = set()
        for g in u.grids:
            if g in counted:
                problems.append(f"{_who(u)} lists base grid {g} twice")
            counted.add(g)
    return problems


def _grid_problems(overlay: Overlay, base_grids: set[str]) -> list[str]:
    """Unknown grids, grids split between units, base grids of the region in no unit."""
    problems: list[str] = []
    holders: dict[str, list[BusinessUnit]] = {}
    for u in overlay.units:
        for g in dict.fromkeys(u.grids):
            if g not in base_grids:
                problems.append(f"{_who(u)} names {g}, which is not a base grid of region "
                                f"{overlay.region}")
                continue
            holders.setdefault(g, []).append(u)
    for g in sorted(holders):
        if len(holders[g]) > 1:
            names = _and([_who(u).removeprefix("unit ") for u in holders[g]])
            problems.append(f"splits base grid {g} between units {names}")
    problems += [f"misses base grid {g}: it is in no unit"
                 for g in sorted(base_grids - holders.keys())]
    return problems


def overlay_problems(overlay: Overlay, base_grids_of_region: set[str]) -> list[str]:
    """Every way the layer breaks "whole base grids, each exactly once"; [] when it is sound.

    A layer must hold every base grid of its region in exactly one unit: no grid split
    between units, none missed, none unknown; unit codes unique; no unit empty.
    """
    problems: list[str] = []
    if not overlay.units:
        problems.append(f"layer {overlay.layer_id} has no units")
    problems += _unit_problems(overlay.units)
    problems += _grid_problems(overlay, set(base_grids_of_region))
    return problems
