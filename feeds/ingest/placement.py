"""Pure placement of decoded terminal messages: datum conversion, grid lookup, routing."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np

from domain.entries import DutyEntry, Entry, IncidentEntry, PositionEntry, UpdateEntry
from domain.model import Officer, Placement
from domain.regions import town_of
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


class Routed(msgspec.Struct, frozen=True, gc=False):
    """An accepted message ready to store: its stream, dedup key and typed entry (a struct
    without cycles: made in C and left out of the garbage collector's scans)."""

    msg_id: str
    stream: str
    seen_key: str
    entry: Entry
    incident_town: tuple[str, str] | None = None  # (incident_id, town) to index
    audit_grid: str = ""  # a device's command on a case: audited (in this region) once stored

    @property
    def body(self) -> dict[str, Any]:
        """The stored fields as plain values, in their stored order."""
        return msgspec.to_builtins(self.entry)


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
    _streams: dict[str, tuple[str, str]] = field(default_factory=dict, init=False,
                                                 repr=False)  # by home grid

    def town_of_incident(self, incident_id: str) -> str | None:
        """The town of a case: routed lately (maybe in this very batch) or in the store."""
        town = self.recent.get(incident_id) or self.incident_town(incident_id)
        if town is not None:
            self._remember(incident_id, town)
        return town

    def _remember(self, incident_id: str, town: str) -> None:
        if len(self.recent) >= RECENT_INCIDENTS:  # forget the oldest, not the batch's own
            del self.recent[next(iter(self.recent))]
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
            entry = PositionEntry(
                msg_id=q.msg_id, ts=q.ts, type="position", officer_id=q.officer_id,
                lat=round(lat, 6), lon=round(lon, 6), accuracy_m=q.accuracy_m,
                speed_mps=q.speed_mps, heading_deg=q.heading_deg, battery=q.battery,
                grid=where.grid)
            stream, seen = streams.get(off.grid) or self._stream_keys(off.grid)
            out.append(Routed(q.msg_id, stream, seen + q.msg_id, entry))
        return out

    def _stream_keys(self, grid: str) -> tuple[str, str]:
        """The position stream of an officer's home town and the prefix of its seen keys,
        cached by the officer's grid."""
        home = town_of(grid)
        pair = keys.positions(home), keys.seen(home, "")
        self._streams[grid] = pair
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

    def _placed(self, msg: PositionMsg | IncidentMsg
                ) -> tuple[Officer, float, float, Placement] | Refused:
        """Check the officer and place the point: the officer, datum lon, lat and place."""
        if isinstance(msg, IncidentMsg) and msg.officer_id in self.reporters:
            off: Officer | Refused = Officer(msg.officer_id, msg.officer_id, "")
        else:
            off = self._officer(msg)
        if isinstance(off, Refused):
            return off
        placed = self._place(msg)
        if isinstance(placed, Refused):
            return placed
        return off, *placed

    def _position(self, msg: PositionMsg) -> Routed | Refused:
        r = self._placed(msg)
        if isinstance(r, Refused):
            return r
        off, lon, lat, where = r
        entry = PositionEntry(
            msg_id=msg.msg_id, ts=msg.ts, type="position", officer_id=msg.officer_id,
            lat=lat, lon=lon, accuracy_m=msg.accuracy_m, speed_mps=msg.speed_mps,
            heading_deg=msg.heading_deg, battery=msg.battery, grid=where.grid)
        home = town_of(off.grid)
        return Routed(msg.msg_id, keys.positions(home), keys.seen(home, msg.msg_id), entry)

    def _incident(self, msg: IncidentMsg) -> Routed | Refused:
        if msg.category not in self.categories:
            return Refused(msg.msg_id, f"category: unknown category {msg.category!r}",
                           msg.model_dump(mode="json"))
        r = self._placed(msg)
        if isinstance(r, Refused):
            return r
        _, lon, lat, where = r
        entry = IncidentEntry(
            msg_id=msg.msg_id, ts=msg.ts, type="incident", incident_id=msg.incident_id,
            officer_id=msg.officer_id, lat=lat, lon=lon, category=msg.category,
            title=msg.title, description=msg.description, severity=msg.severity,
            grid=where.grid)
        self._remember(msg.incident_id, where.town)
        return Routed(msg.msg_id, keys.incidents_in(where.town), keys.seen(where.town, msg.msg_id),
                      entry, incident_town=(msg.incident_id, where.town))

    def _update(self, msg: IncidentUpdateMsg) -> Routed | Refused:
        town = self.town_of_incident(msg.incident_id)
        if town is None:
            return Refused(msg.msg_id, f"incident_id: unknown incident {msg.incident_id!r}",
                           msg.model_dump(mode="json"))
        entry = UpdateEntry(msg_id=msg.msg_id, ts=msg.ts, type="incident_update",
                            incident_id=msg.incident_id, status=msg.status, note=msg.note)
        return Routed(msg.msg_id, keys.incidents_in(town), keys.seen(town, msg.msg_id), entry)

    def _duty(self, msg: DutyMsg) -> Routed | Refused:
        off = self._officer(msg)
        if isinstance(off, Refused):
            return off
        home = town_of(off.grid)
        entry = DutyEntry(msg_id=msg.msg_id, ts=msg.ts, type="duty", officer_id=msg.officer_id,
                          on_duty=msg.on_duty)
        return Routed(msg.msg_id, keys.positions(home), keys.seen(home, msg.msg_id), entry)
