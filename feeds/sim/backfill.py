"""Demo history: weeks of past cases as terminal-protocol-v1 messages, so trends have data."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.alerts import CategoryRule
from domain.entries import IncidentEntry, UpdateEntry
from domain.model import Incident, Officer, Status
from feeds.live.state import Changes, CityState
from feeds.sim.simulator import TITLES, WEIGHTS

RandomPoint = Callable[[str, np.random.Generator], tuple[float, float]]
ToWgs84 = Callable[[float, float], tuple[float, float]]

DAY_S = 86400.0
LOCAL_OFFSET_S = 8 * 3600  # Asia/Shanghai, UTC+8 all year
# Relative case rate by local hour (quiet nights, morning and afternoon peaks), mean 1.
_HOURLY = np.array([0.25, 0.18, 0.14, 0.12, 0.14, 0.25, 0.55, 1.0, 1.45, 1.7, 1.75, 1.6,
                    1.3, 1.35, 1.6, 1.7, 1.6, 1.45, 1.25, 1.2, 1.1, 0.9, 0.65, 0.4])
HOURLY = _HOURLY / _HOURLY.mean()
_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.8])  # Monday first
WEEKDAY = _WEEKDAY / _WEEKDAY.mean()
HOTSPOTS = 8  # grids that keep reporting (a market, a dormitory block, a night-food street)
HOTSPOT_SHARE = 0.025  # of all cases, when every hotspot is active (top grid ≈ 15× a usual one)
SEVERITY_P = (0.85, 0.08, 0.05, 0.02)  # severity 0..3
LATE_DISPATCH_P = 0.10
LATE_RESOLVE_P = 0.12
STUCK_P = (0.02, 0.02)  # never dispatched; dispatched but never resolved
STUCK_WITHIN_S = 2 * 86400  # only recent cases are still stuck: a centre clears old ones


@dataclass(frozen=True)
class Hotspot:
    """A grid with many repeat cases at one spot, active from some time on."""

    grid: str
    point: tuple[float, float]  # (lon, lat) in the city datum
    weight: float
    category: str  # its usual kind of case
    title: str  # its usual complaint
    active: tuple[float, float]  # epoch seconds (from, until)


@dataclass(frozen=True)
class PlannedCase:
    """One past case: where, what, when reported, and its later status changes."""

    incident_id: str
    officer_id: str
    grid: str
    lon: float  # city datum
    lat: float
    category: str
    title: str
    description: str
    severity: int
    reported_ts: float
    steps: tuple[tuple[Status, float], ...]  # (status, ts), in order, all before now


def report_times(rng: np.random.Generator, start: float, now: float,
                 per_hour: float) -> np.ndarray:
    """Sorted report times in [start, now): Poisson per hour, by local hour and weekday."""
    out = []
    hour = np.floor(start / 3600) * 3600
    while hour < now:
        lo, hi = max(hour, start), min(hour + 3600, now)
        local = hour + LOCAL_OFFSET_S
        weekday = (int(local // DAY_S) + 3) % 7  # 1970-01-01 was a Thursday
        rate = per_hour * HOURLY[int(local // 3600) % 24] * WEEKDAY[weekday]
        n = int(rng.poisson(rate * (hi - lo) / 3600))
        out.append(rng.uniform(lo, hi, size=n))
        hour += 3600
    return np.sort(np.concatenate(out)) if out else np.zeros(0)


def pick_hotspots(rng: np.random.Generator, grids: Sequence[str], random_point: RandomPoint,
                  cats: Sequence[str], start: float, now: float) -> list[Hotspot]:
    """Some repeat-location grids: most active all along, two only lately, one earlier on."""
    k = min(HOTSPOTS, len(grids))
    chosen = rng.choice(len(grids), size=k, replace=False)
    span = now - start
    out = []
    for i, gi in enumerate(chosen):
        grid = grids[int(gi)]
        cat = cats[int(rng.integers(len(cats)))]
        titles = TITLES.get(cat, ["现场问题"])
        if i in (1, 4):  # emerging: only the last few days
            active = (now - min(span, 6 * DAY_S), now)
        elif i == 2:  # fading: quiet for the last ten days
            active = (start, now - min(span / 2, 10 * DAY_S))
        else:
            active = (start, now)
        out.append(Hotspot(grid, random_point(grid, rng), 1.0 / math.sqrt(i + 1), cat,
                           titles[int(rng.integers(len(titles)))], active))
    return out


def lifecycle(rng: np.random.Generator, rule: CategoryRule, reported: float,
              now: float, strain: float = 1.0) -> tuple[tuple[Status, float], ...]:
    """Status changes of a case: mostly within the SLA, some late, a few stuck open.

    `strain` scales how often the category runs late (some kinds are harder than others).
    """
    d, r = rule.dispatch_sla_s, rule.resolve_sla_s
    late_d = rng.random() < LATE_DISPATCH_P * strain
    dispatch = d * (1 + rng.exponential(0.8)) if late_d else d * rng.beta(2, 3.5)
    dispatch = max(dispatch, 60.0)
    ack = max(5.0, dispatch * rng.uniform(0.1, 0.6))
    on_scene = dispatch + 60 + min(0.1 * r, 1800) * rng.beta(2, 4)
    late_r = rng.random() < LATE_RESOLVE_P * strain
    resolve = r * (1 + rng.exponential(0.5)) if late_r else r * rng.beta(3, 3)
    resolve = max(resolve, on_scene + 300)
    close = resolve + 60 + rng.exponential(1800)
    steps = [(Status.ACKNOWLEDGED, ack), (Status.DISPATCHED, dispatch),
             (Status.ON_SCENE, on_scene), (Status.RESOLVED, resolve), (Status.CLOSED, close)]
    fate = rng.random() if now - reported < STUCK_WITHIN_S else 1.0  # old cases got closed
    if fate < STUCK_P[0]:
        steps = steps[:1]
    elif fate < STUCK_P[0] + STUCK_P[1]:
        steps = steps[:3]
    return tuple((s, round(reported + dt, 3)) for s, dt in steps if reported + dt < now)


@dataclass
class _Picker:
    """Chooses who reports a case where, with what category and title."""

    rng: np.random.Generator
    officers: Sequence[Officer]
    by_grid: dict[str, list[Officer]]
    cats: list[str]
    p: np.ndarray
    hotspots: list[Hotspot]
    random_point: RandomPoint

    def case(self, ts: float) -> tuple[Officer, str, tuple[float, float], str, str]:
        """(officer, grid, point, category, title) of a case reported at `ts`."""
        rng = self.rng
        live = [h for h in self.hotspots if h.active[0] <= ts < h.active[1]]
        weight = sum(h.weight for h in live)
        total = sum(h.weight for h in self.hotspots) or 1.0
        if live and rng.random() < HOTSPOT_SHARE * weight / total:
            h = live[int(rng.choice(len(live), p=np.array([x.weight for x in live]) / weight))]
            crew = self.by_grid[h.grid]
            cat = h.category if rng.random() < 0.6 else self._category()
            title = h.title if cat == h.category and rng.random() < 0.7 else self._title(cat)
            return crew[int(rng.integers(len(crew)))], h.grid, h.point, cat, title
        off = self.officers[int(rng.integers(len(self.officers)))]
        cat = self._category()
        return off, off.grid, self.random_point(off.grid, rng), cat, self._title(cat)

    def _category(self) -> str:
        return self.cats[int(self.rng.choice(len(self.cats), p=self.p))]

    def _title(self, cat: str) -> str:
        titles = TITLES.get(cat, ["现场问题"])
        return titles[int(self.rng.integers(len(titles)))]


def history_cases(officers: Sequence[Officer], random_point: RandomPoint,
                  rules: Mapping[str, CategoryRule], days: float = 30, per_hour: float = 40.0,
                  now: float | None = None, seed: int = 7) -> list[PlannedCase]:
    """The past cases of the last `days` before `now`, in report order (deterministic)."""
    now = time.time() if now is None else float(now)
    cats = [c for c in rules if c in WEIGHTS] or list(rules)
    if not officers or not cats:
        return []
    rng = np.random.default_rng(seed)
    start = now - days * DAY_S
    by_grid: dict[str, list[Officer]] = {}
    for o in officers:
        by_grid.setdefault(o.grid, []).append(o)
    weights = np.array([WEIGHTS.get(c, 5) for c in cats], dtype=float)
    picker = _Picker(rng, officers, by_grid, cats, weights / weights.sum(),
                     pick_hotspots(rng, sorted(by_grid), random_point, cats, start, now),
                     random_point)
    strain = {c: float(rng.uniform(0.4, 1.8)) for c in cats}
    run = f"H{seed}-{int(now)}"
    out = []
    for i, ts in enumerate(report_times(rng, start, now, per_hour)):
        ts = round(float(ts), 3)
        off, grid, (lon, lat), cat, title = picker.case(ts)
        out.append(PlannedCase(
            incident_id=f"{run}-{i:06d}", officer_id=off.officer_id, grid=grid, lon=lon,
            lat=lat, category=cat, title=title, description=f"网格员{off.name}现场上报",
            severity=int(rng.choice(4, p=SEVERITY_P)), reported_ts=ts,
            steps=lifecycle(rng, rules[cat], ts, now, strain[cat])))
    return out


def case_messages(case: PlannedCase, to_wgs84: ToWgs84) -> list[dict[str, Any]]:
    """The protocol-v1 messages of one planned case: its report, then its status updates."""
    lon, lat = to_wgs84(case.lon, case.lat)
    out: list[dict[str, Any]] = [{
        "type": "incident", "msg_id": f"{case.incident_id}-0", "incident_id": case.incident_id,
        "officer_id": case.officer_id, "ts": case.reported_ts, "lat": round(lat, 6),
        "lon": round(lon, 6), "category": case.category, "title": case.title,
        "description": case.description, "severity": case.severity}]
    for k, (status, ts) in enumerate(case.steps, start=1):
        out.append({"type": "incident_update", "msg_id": f"{case.incident_id}-{k}",
                    "incident_id": case.incident_id, "ts": ts, "status": status})
    return out


def history_messages(officers: Sequence[Officer], random_point: RandomPoint,
                     to_wgs84: ToWgs84, rules: Mapping[str, CategoryRule], days: float = 30,
                     per_hour: float = 40.0, now: float | None = None,
                     seed: int = 7) -> list[dict[str, Any]]:
    """Past cases as terminal-protocol-v1 messages (WGS-84), ordered by ts, all before `now`.

    Each case is an "incident" then "incident_update"s (acknowledged, dispatched, on_scene,
    resolved, closed) at plausible times: mostly within the category's SLA, some late, a
    few still open. Ids start with "H" and carry the seed and `now`, so runs do not collide.
    """
    cases = history_cases(officers, random_point, rules, days, per_hour, now, seed)
    msgs = [m for c in cases for m in case_messages(c, to_wgs84)]
    msgs.sort(key=lambda m: (m["ts"], m["type"] != "incident"))
    return msgs


def history_incidents(cases: Sequence[PlannedCase], rules: Mapping[str, CategoryRule],
                      now: float) -> list[Incident]:
    """The state each planned case reaches at `now`, applied as the state worker applies it.

    For writing history straight into a store (benchmarks, tests) without the gateway.
    """
    state = CityState(rules=rules)
    changes = Changes()
    for c in cases:
        state.apply(IncidentEntry(
            type="incident", incident_id=c.incident_id, ts=c.reported_ts,
            officer_id=c.officer_id, lat=c.lat, lon=c.lon, grid=c.grid, category=c.category,
            title=c.title, description=c.description, severity=c.severity), now, changes)
        for status, ts in c.steps:
            state.apply(UpdateEntry(type="incident_update", incident_id=c.incident_id, ts=ts,
                                    status=status), now, changes)
    for m in state.relevel(now):  # the worker's periodic pass over the cases still open
        state.apply(m, now, changes)
    return list(state.incidents.values())
