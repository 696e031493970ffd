"""What every process loads once at start-up: the city, its officers and the alert rules."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from domain.alerts import CategoryRule
from domain.model import Officer
from domain.overlays import Overlay
from domain.regions import Hierarchy
from feeds.geo.hierarchy import CityGeo, load_hierarchy
from feeds.geo.overlays import load_overlays
from feeds.geo.roster import load_officers
from feeds.live.rules import RulesConfig, load_rules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CityContext:
    """The static world of a running Gridwatch."""

    city: CityGeo
    roster: dict[str, Officer]
    rules_config: RulesConfig
    overlays: tuple[Overlay, ...] = ()
    time_scale: float = 1.0  # live.time_scale: the SLA deadlines run this many times faster

    @property
    def hierarchy(self) -> Hierarchy:
        """The region hierarchy."""
        return self.city.hierarchy

    @cached_property
    def rules(self) -> dict[str, CategoryRule]:
        """Alert rules by category code."""
        return self.rules_config.rules(self.time_scale)

    @property
    def towns(self) -> list[str]:
        """Codes of the towns, sorted."""
        return [r.code for r in self.hierarchy.at_level(self.hierarchy.levels.shard)]

    @classmethod
    def load(cls, city_file: Path, officers_file: Path, rules_file: Path | None,
             data_dir: Path | None = None, time_scale: float = 1.0) -> CityContext:
        """Load and validate the city files, the rules file and the data dir's overlays."""
        city = load_hierarchy(city_file)
        roster = {o.officer_id: o for o in load_officers(officers_file)}
        unknown = [o.officer_id for o in roster.values() if o.grid not in city.hierarchy]
        if unknown:
            raise ValueError(f"{officers_file}: officers in unknown grids: {unknown[:5]}")
        rules = load_rules(rules_file)
        overlays = tuple(load_overlays(data_dir, city)) if data_dir else ()
        log.info("city %s: %d regions, %d officers, %d categories, %d overlays",
                 city.hierarchy.city.name, len(city.hierarchy.regions), len(roster),
                 len(rules.categories), len(overlays))
        return cls(city, roster, rules, overlays, time_scale)
