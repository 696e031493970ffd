"""Officers, positions and incidents: the things that move and happen."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.alerts import AlertLevel
from domain.regions import town_of


class Status(StrEnum):
    """Where a case stands in its life."""

    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Open cases still need work (resolved and closed do not)."""
        return self not in (Status.RESOLVED, Status.CLOSED)

    @property
    def is_dispatched(self) -> bool:
        """Whether someone has been sent (the resolve deadline applies)."""
        return self in (Status.DISPATCHED, Status.ON_SCENE, Status.RESOLVED, Status.CLOSED)


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)  # wire values, in life order
DONE_STATUSES: tuple[str, ...] = tuple(s.value for s in Status if not s.is_open)


class Category(StrEnum):
    """The standard case categories (a city's rules may configure more codes)."""

    DISPUTE = "dispute"
    SAFETY_HAZARD = "safety_hazard"
    RENTAL_HOUSING = "rental_housing"
    FIRE = "fire"
    WORK_SAFETY = "work_safety"
    FOOD_DRUG = "food_drug"
    PUBLIC_ORDER = "public_order"
    MENTAL_HEALTH = "mental_health"
    COMMUNITY_CORRECTION = "community_correction"
    ENVIRONMENT = "environment"


CATEGORIES: tuple[str, ...] = tuple(c.value for c in Category)


@dataclass(frozen=True)
class Officer:
    """A grid officer and the base grid they belong to."""

    officer_id: str
    name: str
    grid: str


@dataclass(frozen=True)
class Placement:
    """Where a point falls in the hierarchy."""

    town: str
    village: str
    grid: str


@dataclass(frozen=True)
class Incident:
    """The current state of a case."""

    incident_id: str
    category: str
    title: str
    lat: float
    lon: float
    grid: str
    reported_ts: float
    officer_id: str = ""
    description: str = ""
    severity: int = 0
    status: Status = Status.REPORTED
    level: AlertLevel = AlertLevel.GREEN
    escalations: int = 0
    updated_ts: float = 0.0
    assignee: str = ""
    ack_ts: float | None = None
    dispatched_ts: float | None = None
    on_scene_ts: float | None = None
    resolved_ts: float | None = None
    closed_ts: float | None = None
    events: tuple[dict[str, Any], ...] = ()  # the timeline, oldest first

    @property
    def town(self) -> str:
        """The town code of the case's grid."""
        return town_of(self.grid)
