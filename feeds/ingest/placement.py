"""Pure placement of decoded terminal messages: datum conversion, grid lookup, routing."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domain.model import Officer, Placement
from feeds.ingest.protocol import (
    DutyMsg,
    IncidentMsg,
    IncidentUpdateMsg,
    Message,
    PositionMsg,
    QuickPosition,
    Refused,
)
from feeds.store import keys

RECENT_INCIDENTS = 50_000
Locate = Callable[[float, float], Placement | None]
ToDatum = Callable[[float, float], tuple[float, float]]
ToDatumMany = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
LocateMany = Callable[[np.ndarray, np.ndarray], list[Placement | None]]


@dataclass(frozen=True)
class Routed:
    """An accepted message ready to store: its stream, dedup key and stored fields."""

    msg_id: str
    stream: str
    seen_key: str
    body: dict[str, Any]
    incident_town: tuple[str, str] | None = None  # (incident_id, town) to index


@dataclass
class Placer:
    """Turns validated messages into routed records, or refusals with a reason."""

    locate: Locate
    to_datum: ToDatum
    officers: Mapping[str, Officer]
    categories: frozenset[str]
    incident_town: Callable[[str], str | None]
    reporters: frozenset[str] = frozenset({"open311"})  # non-officer sources of cases
    recent: dict[str, str] = field(default_factory=dict)  # incident → town, routed lately
    to_datum_many: ToDatumMany | None = None  # vectorised to_datum, for batches of positions
    locate_many: LocateMany | None = None  # vectorised locate (same answers)
    _streams: dict[str, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)

    def town_of_incident(self, incident_id: str) -> str | None:
        """The town of a case: routed lately (maybe in this very batch) or in the store."""
        town = self.recent.get(incident_id) or self.incident_town(incident_id)
        if town is not None:
            self._remember(incident_id, town)
        return town

    def _remember(self, incident_id: str, town: str) -> None:
        if len(self.recent) >= RECENT_INCIDENTS:
            self.recent.clear()
        self.recent[incident_id] = town

    def route(self, msg: Message) -> Routed | Refused:
        """Place one message in the hierarchy and pick the stream it belongs to."""
        if isinstance(msg, PositionMsg):
            return self._position(msg)
        if isinstance(msg, IncidentMsg):
            return self._incident(msg)
        if isinstance(msg, IncidentUpdateMsg):
            return self._update(msg)
        return self._duty(msg)

    def _datum_places(self, quick: list[QuickPosition]
                      ) -> tuple[list[float], list[float], list[Placement | None]]:
        """Datum lon, lat and placement of each position, vectorised where the placer can."""
        n = len(quick)
        lons = np.fromiter((q.lon for q in quick), np.float64, n)
        lats = np.fromiter((q.lat for q in quick), np.float64, n)
        if self.to_datum_many is not None:
            lons, lats = self.to_datum_many(lons, lats)
        else:
            pairs = [self.to_datum(x, y) for x, y in zip(lons.tolist(), lats.tolist(),
                                                         strict=True)]
            lons, lats = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
        if self.locate_many is not None:
            places = self.locate_many(lons, lats)
        else:
            places = [self.locate(x, y) for x, y in zip(lons.tolist(), lats.tolist(),
                                                        strict=True)]
        return lons.tolist(), lats.tolist(), places

    def route_quick(self, quick: list[QuickPosition]) -> list[Routed | None]:
        """Route plainly valid positions in one go; None where the full path must decide
        (unknown officer, outside every grid)."""
        lons, lats, places = self._datum_places(quick)
        out: list[Routed | None] = []
        officers, streams = self.officers, self._streams
        for q, lon, lat, where in zip(quick, lons, lats, places, strict=True):
            off = officers.get(q.officer_id)
            if off is None or where is None:
                out.append(None)
                continue
            body = {"msg_id": q.msg_id, "ts": q.ts, "type": "position",
                    "officer_id": q.officer_id, "lat": round(lat, 6), "lon": round(lon, 6)}
            if q.accuracy_m is not None:
                body["accuracy_m"] = q.accuracy_m
            if q.speed_mps is not None:
                body["speed_mps"] = q.speed_mps
            if q.heading_deg is not None:
                body["heading_deg"] = q.heading_deg
            if q.battery is not None:
                body["battery"] = q.battery
            body["grid"] = where.grid
            home = off.grid[:9]
            stream, seen = streams.get(home) or self._stream_keys(home)
            out.append(Routed(q.msg_id, stream, seen + q.msg_id, body))
        return out

    def _stream_keys(self, home: str) -> tuple[str, str]:
        """The position stream of a town and the prefix of its seen keys (cached)."""
        pair = keys.positions(home), keys.seen(home, "")
        self._streams[home] = pair
        return pair

    def _officer(self, msg: PositionMsg | IncidentMsg | DutyMsg) -> Officer | Refused:
        off = self.officers.get(msg.officer_id)
        if off is None:
            return Refused(msg.msg_id, f"officer_id: unknown officer {msg.officer_id!r}",
                           msg.model_dump(mode="json"))
        return off

    def _place(self, msg: PositionMsg | IncidentMsg) -> tuple[float, float, Placement] | Refused:
        lon, lat = self.to_datum(msg.lon, msg.lat)
        where = self.locate(lon, lat)
        if where is None:
            return Refused(msg.msg_id, "lat/lon: outside every grid of the city",
                           msg.model_dump(mode="json"))
        return round(lon, 6), round(lat, 6), where

    def _placed_body(self, msg: PositionMsg | IncidentMsg, body: dict[str, Any]
                     ) -> tuple[Officer, Placement, dict[str, Any]] | Refused:
        """Check the officer, place the point, and put its datum position and grid in body."""
        if isinstance(msg, IncidentMsg) and msg.officer_id in self.reporters:
            off: Officer | Refused = Officer(msg.officer_id, msg.officer_id, "")
        else:
            off = self._officer(msg)
        if isinstance(off, Refused):
            return off
        placed = self._place(msg)
        if isinstance(placed, Refused):
            return placed
        lon, lat, where = placed
        body.update(lon=lon, lat=lat, grid=where.grid)
        return off, where, body

    def _position(self, msg: PositionMsg) -> Routed | Refused:
        r = self._placed_body(msg, msg.model_dump(exclude_none=True))
        if isinstance(r, Refused):
            return r
        off, _, body = r
        home = off.grid[:9]
        return Routed(msg.msg_id, keys.positions(home), keys.seen(home, msg.msg_id), body)

    def _incident(self, msg: IncidentMsg) -> Routed | Refused:
        if msg.category not in self.categories:
            return Refused(msg.msg_id, f"category: unknown category {msg.category!r}",
                           msg.model_dump(mode="json"))
        r = self._placed_body(msg, msg.model_dump())
        if isinstance(r, Refused):
            return r
        _, where, body = r
        self._remember(msg.incident_id, where.town)
        return Routed(msg.msg_id, keys.incidents_in(where.town), keys.seen(where.town, msg.msg_id),
                      body, incident_town=(msg.incident_id, where.town))

    def _update(self, msg: IncidentUpdateMsg) -> Routed | Refused:
        town = self.town_of_incident(msg.incident_id)
        if town is None:
            return Refused(msg.msg_id, f"incident_id: unknown incident {msg.incident_id!r}",
                           msg.model_dump(mode="json"))
        body = msg.model_dump(mode="json")
        return Routed(msg.msg_id, keys.incidents_in(town), keys.seen(town, msg.msg_id), body)

    def _duty(self, msg: DutyMsg) -> Routed | Refused:
        off = self._officer(msg)
        if isinstance(off, Refused):
            return off
        home = off.grid[:9]
        return Routed(msg.msg_id, keys.positions(home), keys.seen(home, msg.msg_id),
                      msg.model_dump())
