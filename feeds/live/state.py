"""Live state of a city and the pure rules that apply stream events to it (sans I/O)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from domain.alerts import AlertLevel, CategoryRule, alert_level, is_overdue
from domain.cases import ActionRefused, apply_action, deadline, set_status, with_event
from domain.entries import (
    CaseRecord,
    CommandEntry,
    DutyEntry,
    Entry,
    IncidentEntry,
    LevelEntry,
    Marker,
    PhotoEntry,
    PositionEntry,
    TaskEventEntry,
    UpdateEntry,
)
from domain.model import Incident, Officer
from domain.regions import chain_to_shard, town_of
from domain.tasks import TaskAction, tasks_for, with_task_event

SENSITIVE_MARK = "!"  # prefix of the counts of sensitive cases alone ("!<region>|<kind>")
RECENT_S = 36 * 3600  # closed cases stay in memory this long (for "new today")


@dataclass
class OfficerState:
    """An officer's last known position and duty state."""

    officer_id: str
    home: str  # home grid
    lon: float | None = None
    lat: float | None = None
    ts: float = 0.0
    grid: str = ""  # grid of the last position
    on_duty: bool = False
    battery: float | None = None

    def row(self) -> list[Any]:
        """The compact wire row [id, lon, lat, on_duty] of the push channel."""
        return [self.officer_id, self.lon, self.lat, 1 if self.on_duty else 0]

    def to_json(self) -> dict[str, Any]:
        """The stored form (Redis hash value)."""
        return {"home": self.home, "lon": self.lon, "lat": self.lat, "ts": self.ts,
                "grid": self.grid, "on_duty": self.on_duty, "battery": self.battery}

    @classmethod
    def from_json(cls, officer_id: str, d: Mapping[str, Any]) -> OfficerState:
        """Rebuild from the stored form."""
        return cls(officer_id, d["home"], d.get("lon"), d.get("lat"), d.get("ts", 0.0),
                   d.get("grid", ""), bool(d.get("on_duty")), d.get("battery"))


def incident_to_json(inc: Incident) -> dict[str, Any]:
    """The stored form of a case as plain values (pages and layouts read it)."""
    return msgspec.to_builtins(CaseRecord.of(inc))


def incident_from_json(d: Mapping[str, Any]) -> Incident:
    """Rebuild a case from its stored form given as plain values."""
    return msgspec.convert(d, CaseRecord).incident()


@dataclass
class Changes:
    """What one batch of events changed, per town."""

    officers: dict[str, dict[str, OfficerState]] = field(default_factory=dict)
    incidents: dict[str, dict[str, Incident]] = field(default_factory=dict)
    closed: dict[str, set[str]] = field(default_factory=dict)
    fixes: list[tuple[str, str, float, float, float, str]] = field(default_factory=list)
    # every accepted fix: (home town, officer, ts, lon, lat, grid), for the track streams
    tasks: list[tuple[str, TaskAction, Incident, CommandEntry]] = field(default_factory=list)
    # tasks to send down: (officer, why, the case after the command, the command)

    def touch_officer(self, town: str, st: OfficerState) -> None:
        """Record an officer change."""
        self.officers.setdefault(town, {})[st.officer_id] = st

    def touch_incident(self, inc: Incident) -> None:
        """Record a case change (or its closing)."""
        if inc.status.is_open:
            self.incidents.setdefault(inc.town, {})[inc.incident_id] = inc
        else:
            self.incidents.get(inc.town, {}).pop(inc.incident_id, None)
            self.closed.setdefault(inc.town, set()).add(inc.incident_id)

    @property
    def towns(self) -> set[str]:
        """Towns with any change."""
        return set(self.officers) | set(self.incidents) | set(self.closed)


@dataclass
class CityState:
    """Officers and cases of a city, updated by stream events."""

    rules: Mapping[str, CategoryRule]
    officers: dict[str, OfficerState] = field(default_factory=dict)
    incidents: dict[str, Incident] = field(default_factory=dict)
    by_town: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def with_roster(cls, rules: Mapping[str, CategoryRule],
                    roster: Mapping[str, Officer]) -> CityState:
        """A state holding every rostered officer, none located yet."""
        offs = {o.officer_id: OfficerState(o.officer_id, o.grid) for o in roster.values()}
        return cls(rules=rules, officers=offs)

    def level_of(self, inc: Incident, now: float) -> AlertLevel:
        """The level a case should have now by the rules."""
        rule = self.rules[inc.category]
        return alert_level(rule, now - inc.reported_ts, inc.status.is_dispatched,
                           inc.severity, inc.escalations)

    def apply(self, entry: Entry, now: float, changes: Changes) -> None:
        """Apply one typed stream entry to the state, recording what changed."""
        if isinstance(entry, PositionEntry):
            self._position(entry, changes)
        elif isinstance(entry, DutyEntry):
            self._duty(entry, changes)
        elif isinstance(entry, IncidentEntry):
            self._incident(entry, now, changes)
        elif isinstance(entry, UpdateEntry):
            self._update(entry, now, changes)
        elif isinstance(entry, LevelEntry):
            self._level(entry, changes)
        elif isinstance(entry, CommandEntry):
            self._command(entry, now, changes)
        elif isinstance(entry, TaskEventEntry):
            self._task_event(entry, changes)
        elif isinstance(entry, PhotoEntry):
            self._photo(entry, changes)

    def _position(self, m: PositionEntry, changes: Changes) -> None:
        st = self.officers.get(m.officer_id)
        if st is None:
            return
        home = town_of(st.home)
        changes.fixes.append((home, st.officer_id, m.ts, m.lon, m.lat, m.grid))
        if m.ts < st.ts:
            return  # a late fix: it joins the track, not the current position
        st.lon, st.lat, st.ts, st.grid = m.lon, m.lat, m.ts, m.grid
        if m.battery is not None:
            st.battery = m.battery
        changes.touch_officer(home, st)

    def _duty(self, m: DutyEntry, changes: Changes) -> None:
        st = self.officers.get(m.officer_id)
        if st is None:
            return
        st.on_duty = m.on_duty
        changes.touch_officer(town_of(st.home), st)

    def _incident(self, m: IncidentEntry, now: float, changes: Changes) -> None:
        if m.incident_id in self.incidents or m.category not in self.rules:
            return
        inc = Incident(incident_id=m.incident_id, category=m.category, title=m.title,
                       description=m.description, lat=m.lat, lon=m.lon, grid=m.grid,
                       reported_ts=m.ts, officer_id=m.officer_id, severity=m.severity,
                       updated_ts=m.ts, events=({"ts": m.ts, "kind": "reported",
                                                 "officer_id": m.officer_id},))
        level = self.level_of(inc, min(now, m.ts))  # its level when reported
        inc = with_event(replace(inc, level=level),
                         {"ts": m.ts, "kind": "level", "level": level.value})
        self.add(inc)
        changes.touch_incident(inc)

    def add(self, inc: Incident) -> None:
        """Hold a case (new, or loaded from the store)."""
        self.incidents[inc.incident_id] = inc
        self.by_town.setdefault(inc.town, set()).add(inc.incident_id)

    def _update(self, m: UpdateEntry, now: float, changes: Changes) -> None:
        inc = self.incidents.get(m.incident_id)
        if inc is None:
            return
        inc = set_status(inc, m.status, m.ts, "", m.note)
        self._store(self._relevelled(inc, min(now, m.ts)), changes)

    def _relevelled(self, inc: Incident, now: float) -> Incident:
        """The case with the level the rules give it now (an event if it changed)."""
        if not inc.status.is_open:
            return inc
        level = self.level_of(inc, now)
        if level is inc.level:
            return inc
        return with_event(replace(inc, level=level),
                          {"ts": now, "kind": "level", "level": level.value})

    def _store(self, inc: Incident, changes: Changes) -> None:
        self.incidents[inc.incident_id] = inc
        changes.touch_incident(inc)

    def _command(self, m: CommandEntry, now: float, changes: Changes) -> None:
        inc = self.incidents.get(m.incident_id)
        if inc is None:
            return
        before = inc
        try:
            inc = apply_action(inc, m.action, m.ts, m.by, m.officer_id, m.note)
        except (ActionRefused, ValueError) as e:  # raced with another change
            inc = with_event(inc, {"ts": m.ts, "kind": "refused", "by": m.by,
                                   "action": m.action.value, "note": str(e)})
        else:
            inc = self._relevelled(inc, min(now, m.ts))
            changes.tasks += [(oid, why, inc, m) for oid, why in tasks_for(before, inc, m.action)
                              if oid in self.officers]
        self._store(self._relevelled(inc, min(now, m.ts)), changes)

    def _task_event(self, m: TaskEventEntry, changes: Changes) -> None:
        """A task reached an officer's terminal, or the terminal acknowledged it."""
        inc = self.incidents.get(m.incident_id)
        if inc is None:
            return
        self._store(with_task_event(inc, m.kind, m.officer_id, m.action.value, m.device, m.ts,
                                    m.task), changes)

    def _photo(self, m: PhotoEntry, changes: Changes) -> None:
        """A photo of the case arrived from the field: on its timeline (the file is listed by
        the case's attachments)."""
        inc = self.incidents.get(m.incident_id)
        if inc is None:
            return
        self._store(with_event(inc, {"ts": m.ts, "kind": "photo", "officer_id": m.officer_id,
                                     "photo_id": m.photo_id}), changes)

    def _level(self, m: LevelEntry, changes: Changes) -> None:
        inc = self.incidents.get(m.incident_id)
        if inc is None or not inc.status.is_open or inc.level is m.level:
            return
        inc = with_event(replace(inc, level=m.level),
                         {"ts": m.ts, "kind": "level", "level": m.level.value})
        self._store(inc, changes)

    def relevel(self, now: float) -> list[LevelEntry]:
        """Level entries for open cases whose level the clock has changed."""
        out = []
        for inc in self.incidents.values():
            if inc.status.is_open:
                level = self.level_of(inc, now)
                if level is not inc.level:
                    out.append(LevelEntry(type="level", incident_id=inc.incident_id,
                                          level=level, ts=self.changed_at(inc, level, now)))
        return out

    def changed_at(self, inc: Incident, level: AlertLevel, now: float) -> float:
        """When the clock moved a case to `level`: its threshold time, never in the future
        nor before the case's last change (a pass after a pause still dates it right)."""
        rule = self.rules[inc.category]
        deadline = rule.resolve_sla_s if inc.status.is_dispatched else rule.dispatch_sla_s
        share = {AlertLevel.RED: 1.0, AlertLevel.YELLOW: rule.yellow_share}.get(level, 0.0)
        return min(now, max(inc.reported_ts + share * deadline, inc.updated_ts))

    def prune(self, now: float, recent_s: float = RECENT_S) -> None:
        """Forget closed cases older than `recent_s` (they stay in Redis)."""
        old = [k for k, v in self.incidents.items()
               if not v.status.is_open and v.updated_ts < now - recent_s]
        for k in old:
            self.by_town[self.incidents.pop(k).town].discard(k)

    def town_counts(self, town: str, now: float, day_start: float) -> dict[str, int]:
        """Counts '<region>|<level|overdue|new>' for a town and every region below it."""
        c: Counter[str] = Counter()
        for iid in self.by_town.get(town, ()):
            inc = self.incidents[iid]
            regions = chain_to_shard(inc.grid)  # grid, village, town
            # sensitive cases are counted twice: also under "!<region>|…" (see summary.py)
            marks = ("", SENSITIVE_MARK) if self.rules[inc.category].sensitive else ("",)
            if inc.status.is_open:
                overdue = is_overdue(self.rules[inc.category], now - inc.reported_ts,
                                     inc.status.is_dispatched)
                for r in regions:
                    for m in marks:
                        c[f"{m}{r}|{inc.level.value}"] += 1
                        if overdue:
                            c[f"{m}{r}|overdue"] += 1
            if inc.reported_ts >= day_start:
                for r in regions:
                    for m in marks:
                        c[f"{m}{r}|new"] += 1
        return dict(c)


def marker_of(inc: Incident, rules: Mapping[str, CategoryRule]) -> Marker:
    """An open case as maps and lists show it (push channel and snapshots)."""
    rule = rules.get(inc.category)
    return Marker(id=inc.incident_id, lon=inc.lon, lat=inc.lat, level=inc.level,
                  category=inc.category, title=inc.title, status=inc.status,
                  reported_ts=inc.reported_ts, grid=inc.grid, assignee=inc.assignee,
                  due_ts=deadline(rule, inc) if rule else None)


def marker(inc: Incident, rules: Mapping[str, CategoryRule]) -> dict[str, Any]:
    """The wire form of an open case as plain values (pages' snapshots)."""
    return msgspec.to_builtins(marker_of(inc, rules))
