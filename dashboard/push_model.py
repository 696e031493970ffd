"""What the push channel keeps per browser subscription and gathers between flushes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection

from domain.access import User
from domain.entries import CaseRecord, Marker
from feeds.live.clusters import View


@dataclass(eq=False)
class Client:
    """One browser subscription: who, which region."""

    ws: ServerConnection
    user: User
    region: str
    case: str | None = None  # a case page also follows one whole case
    token: str | None = None  # the session: checked again while the client stays
    watch: str | None = None  # a wall also gets "alerts" (new red cases) of this region
    by_view: bool = False  # officers clustered per viewport here, not sent row by row
    view: View | None = None
    view_sent: float = 0.0
    view_stale: bool = False
    view_last: list[Any] | None = None  # the clusters last sent: unchanged ones are not resent
    regions_last: dict[str, Any] = field(default_factory=dict)  # child counts last sent
    # A map without a case list (a wall) gets the cases its zoom draws (the red ones at city
    # zoom) and any it holds; `case_zoom` is its zoom until it tells its view. None: every case.
    case_zoom: float | None = None
    cases_sent: set[str] = field(default_factory=set)


@dataclass
class Pending:
    """Changes gathered since the last flush."""

    officers: set[str] = field(default_factory=set)
    incidents: dict[str, Marker] = field(default_factory=dict)
    closed: dict[str, Marker] = field(default_factory=dict)  # id → last marker
    cases: dict[str, CaseRecord] = field(default_factory=dict)  # id → whole case
    alerts: dict[str, Marker] = field(default_factory=dict)  # id → newly red marker
    counts: bool = False

    def __bool__(self) -> bool:
        return bool(self.officers or self.incidents or self.closed or self.counts or self.cases
                    or self.alerts)
