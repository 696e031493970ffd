"""Demo history: weeks of past cases as terminal-protocol-v1 messages, so trends have data."""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from domain.alerts import CategoryRule
from domain.entries import IncidentEntry, UpdateEntry
from domain.model import Incident, Officer, Status
from feeds.live.state import Changes, CityState
from feeds.sim import casework
from feeds.sim.casework import DAY_S, HOURLY, LOCAL_OFFSET_S, WEEKDAY
from feeds.sim.simulator import TITLES, WEIGHTS

RandomPoint = Callable[[str, np.random.Generator], tuple[float, float]]
ToWgs84 = Callable[[float, float], tuple[float, float]]

HOTSPOTS = 8  # grids that keep reporting (a market, a dormitory block, a night-food street)
HOTSPOT_SHARE = 0.025  # of all cases, when every hotspot is active (top grid ≈ 15× a usual one)
SEVERITY_P = (0.85, 0.08, 0.05, 0.02)  # severity 0..3
HANDFUL_SHARE = 0.004  # old cases left open on purpose, as a share of the cases open now
PARKED_AGE_S = (9 * DAY_S, 24 * DAY_S)  # how old they are
PARKED_NOTE = "已转职能部门处理，等待答复"  # handed to a department, waiting for its answer


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
    note: str = ""  # said with the last status change


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
    """Status changes of a case as the simulated city works it (feeds/sim/casework.py): the
    desk acknowledges and dispatches, the officer walks there, settles it on the spot or after
    a follow-up, the desk closes it. Only the changes before `now` are kept.

    `strain` scales how often the category runs late (some kinds are harder than others).
    """
    dispatch = max(10.0, casework.desk_delay_s(rng, rule, strain))
    ack = max(5.0, dispatch * float(rng.uniform(0.3, 0.8)))
    on_scene = dispatch + casework.walk_s(rng)
    resolve = on_scene + casework.work(rng, rule, on_scene, strain).resolve_s
    close = resolve + casework.close_s(rng)
    steps = [(Status.ACKNOWLEDGED, ack), (Status.DISPATCHED, dispatch),
             (Status.ON_SCENE, on_scene), (Status.RESOLVED, resolve), (Status.CLOSED, close)]
    return tuple((s, round(reported + dt, 3)) for s, dt in steps if reported + dt < now)


def park_a_handful(cases: list[PlannedCase], now: float, rng: np.random.Generator
                   ) -> list[PlannedCase]:
    """Leave a deliberate handful of old cases open (waiting on another department), at most
    HANDFUL_SHARE of the cases open at `now`; the others of their age were long closed."""
    still_open = sum(1 for c in cases if not any(s is Status.RESOLVED for s, _ in c.steps))
    k = int(HANDFUL_SHARE * still_open)
    old = [i for i, c in enumerate(cases)
           if PARKED_AGE_S[0] <= now - c.reported_ts <= PARKED_AGE_S[1] and len(c.steps) == 5]
    if not k or not old:
        return cases
    out = list(cases)
    for i in rng.choice(len(old), size=min(k, len(old)), replace=False):
        c = out[old[int(i)]]
        out[old[int(i)]] = replace(c, steps=c.steps[:3], note=PARKED_NOTE)
    return out


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
    return park_a_handful(out, now, rng)


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
    if case.note and len(out) > 1:
        out[-1]["note"] = case.note
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
            last = (status, ts) == c.steps[-1]
            state.apply(UpdateEntry(type="incident_update", incident_id=c.incident_id, ts=ts,
                                    status=status, note=c.note if last else ""), now, changes)
    for m in state.relevel(now):  # the worker's periodic pass over the cases still open
        state.apply(m, now, changes)
    return list(state.incidents.values())
