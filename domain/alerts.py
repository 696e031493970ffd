"""Three-colour warning (三色预警): alert levels and the rules that set them."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class AlertLevel(StrEnum):
    """Green, yellow or red; ordered so that max() gives the worst."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        """0 for green, 1 for yellow, 2 for red."""
        return _RANK[self]

    def raised(self, steps: int = 1) -> AlertLevel:
        """This level raised by `steps`, capped at red."""
        return _BY_RANK[min(2, self.rank + steps)]

    def __lt__(self, other: object) -> bool:
        return self.rank < _rank_of(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= _rank_of(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > _rank_of(other)

    def __ge__(self, other: object) -> bool:
        return self.rank >= _rank_of(other)

    __hash__ = StrEnum.__hash__


def _rank_of(other: object) -> int:
    if not isinstance(other, AlertLevel):
        raise TypeError(f"cannot order an alert level against {other!r}")
    return other.rank


LEVELS: tuple[str, ...] = tuple(level.value for level in AlertLevel)  # wire values, mildest first
_RANK = {AlertLevel.GREEN: 0, AlertLevel.YELLOW: 1, AlertLevel.RED: 2}
_BY_RANK = {v: k for k, v in _RANK.items()}


@dataclass(frozen=True)
class CategoryRule:
    """How a category of case is levelled: base level, SLA deadlines, sensitivity."""

    code: str
    name: str
    name_en: str
    base_level: AlertLevel
    dispatch_sla_s: float
    resolve_sla_s: float
    yellow_share: float = 0.5
    sensitive: bool = False


def level_for_age(rule: CategoryRule, age_s: float, dispatched: bool) -> AlertLevel:
    """The level a case reaches by age alone against its current SLA deadline."""
    deadline = rule.resolve_sla_s if dispatched else rule.dispatch_sla_s
    if age_s >= deadline:
        return AlertLevel.RED
    if age_s >= rule.yellow_share * deadline:
        return AlertLevel.YELLOW
    return AlertLevel.GREEN


def alert_level(rule: CategoryRule, age_s: float, dispatched: bool,
                severity: int = 0, escalations: int = 0) -> AlertLevel:
    """A case's level: worst of base, severity and age, raised by manual escalations."""
    level = max(rule.base_level, level_for_age(rule, age_s, dispatched))
    if severity >= 3:
        level = max(level, AlertLevel.RED)
    elif severity == 2:
        level = max(level, AlertLevel.YELLOW)
    return level.raised(escalations) if escalations else level


def is_overdue(rule: CategoryRule, age_s: float, dispatched: bool) -> bool:
    """Whether a case is past its current SLA deadline."""
    return age_s >= (rule.resolve_sla_s if dispatched else rule.dispatch_sla_s)


def worst(levels: Iterable[AlertLevel]) -> AlertLevel | None:
    """The worst of some levels, or None if there are none."""
    return max(levels, default=None)


# Maps below this zoom (a full-HD screen's; 4K reads one less) draw only red cases as markers:
# the region labels count the others (layouts/map_view.py, assets/citymap.js, the push channel).
CASE_ZOOM = 12


def drawn_at_zoom(level: str, zoom: float) -> bool:
    """Whether a map at `zoom` draws a case of this level as its own marker."""
    return zoom >= CASE_ZOOM or level == AlertLevel.RED
