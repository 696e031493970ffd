"""View-models: the plain data a page layout is built from (made by the dashboard)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.basemap import Basemap

# A GeoJSON FeatureCollection as plain dicts.
FeatureCollection = dict[str, Any]


@dataclass(frozen=True)
class Kpi:
    """The KPI strip of a view: open cases by level, new today, overdue, officers."""

    open_green: int = 0
    open_yellow: int = 0
    open_red: int = 0
    new_today: int = 0
    overdue: int = 0
    on_duty: int = 0
    officers: int = 0

    def as_dict(self) -> dict[str, int]:
        """The wire form used by the push channel ("kpi" member of a frame)."""
        return {"open": {"green": self.open_green, "yellow": self.open_yellow,
                         "red": self.open_red},
                "new_today": self.new_today, "overdue": self.overdue,
                "on_duty": self.on_duty, "officers": self.officers}


@dataclass(frozen=True)
class IncidentMarker:
    """One open case on the map."""

    incident_id: str
    lon: float
    lat: float
    level: str  # green | yellow | red
    category: str
    title: str  # untrusted field text: render as text only
    status: str
    reported_ts: float
    grid: str
    assignee: str = ""
    due_ts: float | None = None  # the SLA deadline it works against now

    def as_dict(self) -> dict[str, Any]:
        """The wire form used by the push channel."""
        return {"id": self.incident_id, "lon": self.lon, "lat": self.lat, "level": self.level,
                "category": self.category, "title": self.title, "status": self.status,
                "reported_ts": self.reported_ts, "grid": self.grid, "assignee": self.assignee,
                "due_ts": self.due_ts}


@dataclass(frozen=True)
class RegionStat:
    """Open cases by level in one child region, and its worst level (None if none open)."""

    green: int = 0
    yellow: int = 0
    red: int = 0

    @property
    def level(self) -> str | None:
        """The worst level with an open case, or None."""
        if self.red:
            return "red"
        if self.yellow:
            return "yellow"
        if self.green:
            return "green"
        return None

    def as_dict(self) -> dict[str, Any]:
        """The wire form used by the push channel."""
        return {"green": self.green, "yellow": self.yellow, "red": self.red,
                "level": self.level}


@dataclass(frozen=True)
class MapView:
    """A live map page: the region, its children's shapes, live layers and KPIs."""

    region_code: str
    region_name: str
    region_level: str  # a level key of the city (Dongguan: city | town | village | grid)
    children: FeatureCollection  # static geography, sent once
    child_stats: dict[str, RegionStat]
    incidents: list[IncidentMarker]
    kpi: Kpi
    centre: tuple[float, float]  # (lat, lon) for Leaflet
    zoom: int
    live_url: str  # ws://host:port/live?view=...
    as_of: float
    lang: str = "zh"
    basemap: Basemap | None = None
    wall: bool = False
    breadcrumbs: list[tuple[str, str]] = field(default_factory=list)  # (code, name)
    levels: tuple[str, ...] = ("city", "town", "village", "grid")  # the city's, top down
    level_names: dict[str, str] = field(default_factory=dict)  # level key → display name
    dispatch_level: str = "town"  # the level whose page holds the dispatch queue
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None  # ((s, w), (n, e))
    overlays: list[tuple[str, str, FeatureCollection]] = field(default_factory=list)
    cameras: FeatureCollection | None = None  # cameras with their health, when registered
    datum_shift: str = ""  # "gcj02>wgs84": pushed positions are drawn in the basemap's datum
    # business-grid layers (layer id, display name, unit shapes) the map can show
