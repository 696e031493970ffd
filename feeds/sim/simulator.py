"""The demo simulator: officers walking their grids and reporting cases, as phones would."""
from __future__ import annotations

import heapq
import itertools
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domain.alerts import CategoryRule
from domain.model import Category, Officer, Status
from feeds.sim.casework import rate_factor

M_PER_DEG = 111_320.0

TITLES = {
    Category.DISPUTE: ["邻里噪音纠纷", "租金纠纷", "停车位纠纷", "劳资纠纷"],
    Category.SAFETY_HAZARD: ["电动车楼道充电", "井盖缺失", "广告牌松动", "围墙开裂"],
    Category.RENTAL_HOUSING: ["出租屋未登记", "群租房核查", "出租屋消防通道堵塞"],
    Category.FIRE: ["商铺冒烟", "垃圾堆起火", "厨房油烟起火"],
    Category.WORK_SAFETY: ["工地未戴安全帽", "厂房违规动火", "危化品存放不规范"],
    Category.FOOD_DRUG: ["无证摊贩", "过期食品销售", "药店处方药违规"],
    Category.PUBLIC_ORDER: ["聚众斗殴", "可疑人员徘徊", "醉酒滋事"],
    Category.MENTAL_HEALTH: ["精神障碍患者走失", "患者情绪异常"],
    Category.COMMUNITY_CORRECTION: ["矫正对象未按时报到", "矫正对象越界"],
    Category.ENVIRONMENT: ["垃圾堆积", "污水外溢", "违规焚烧"],
}
WEIGHTS = dict(zip(Category, (18, 16, 14, 3, 8, 8, 12, 3, 3, 15), strict=True))  # share of cases
LIFECYCLE = tuple(s for s in Status if s is not Status.REPORTED)


@dataclass(frozen=True)
class SimConfig:
    """How the simulated city behaves."""

    position_interval_s: float = 10.0
    incidents_per_hour: float = 300.0
    duty_share: float = 0.85
    duty_changes_per_hour: float = 0.05
    speed_mps: float = 1.3
    progress: bool = True  # move cases through their life cycle by itself (no dispatcher)
    rhythm: bool = False  # new cases follow the day (quiet nights), incidents_per_hour the mean


@dataclass
class Walker:
    """One simulated officer walking between random points of their grid."""

    officer: Officer
    lon: float
    lat: float
    target: tuple[float, float]
    on_duty: bool
    due: float
    job_target: tuple[float, float] | None = None  # a case it walks to (and stays at)


@dataclass
class Simulator:
    """Produces protocol-v1 messages (WGS-84, as phones send them) as simulated time passes."""

    officers: Sequence[Officer]
    random_point: Callable[[str, np.random.Generator], tuple[float, float]]
    to_wgs84: Callable[[float, float], tuple[float, float]]
    rules: Mapping[str, CategoryRule]
    config: SimConfig = field(default_factory=SimConfig)
    seed: int = 1
    walkers: list[Walker] = field(default_factory=list)
    to_wgs84_many: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.run_id = secrets.token_hex(3)
        self.seq = itertools.count(1)
        self.events: list[tuple[float, int, dict[str, Any]]] = []  # scheduled case updates
        self.started = False
        self.real: frozenset[str] = frozenset()  # officers whose own device reports: left alone
        self.by_officer: dict[str, Walker] = {}
        self.field_step: Callable[[float, dict[str, Walker]], list[dict[str, Any]]] | None = None

    def start(self, now: float) -> list[dict[str, Any]]:
        """Place every officer in their grid; returns their first duty messages."""
        cfg = self.config
        out = []
        for o in self.officers:
            lon, lat = self.random_point(o.grid, self.rng)
            w = Walker(o, lon, lat, self.random_point(o.grid, self.rng),
                       bool(self.rng.random() < cfg.duty_share),
                       now + float(self.rng.random()) * cfg.position_interval_s)
            self.walkers.append(w)
            if o.officer_id not in self.real:
                out.append(self.msg("duty", now, officer_id=o.officer_id, on_duty=w.on_duty))
        self.by_officer = {w.officer.officer_id: w for w in self.walkers}
        self.started = True
        return out

    def msg(self, kind: str, ts: float, **fields: Any) -> dict[str, Any]:
        """A protocol-v1 message of this run (a fresh msg_id)."""
        return {"type": kind, "msg_id": f"sim-{self.run_id}-{next(self.seq)}",
                "ts": round(ts, 3), **fields}

    def tick(self, now: float, dt: float) -> list[dict[str, Any]]:
        """Messages due in the `dt` seconds up to `now`."""
        out = [] if self.started else self.start(now)
        out += self._positions(now)
        out += self._duty_changes(now, dt)
        out += self._new_incidents(now, dt)
        if self.field_step is not None:  # officers working their tasks (feeds/sim/field.py)
            out += self.field_step(now, self.by_officer)
        while self.events and self.events[0][0] <= now:
            _, _, msg = heapq.heappop(self.events)
            msg = dict(msg, ts=round(now, 3), msg_id=f"sim-{self.run_id}-{next(self.seq)}")
            out.append(msg)
        return out

    def _positions(self, now: float) -> list[dict[str, Any]]:
        cfg = self.config
        due = [w for w in self.walkers if w.due <= now]
        if self.real:
            due = [w for w in due if w.officer.officer_id not in self.real]
        if not due:
            return []
        for w in due:
            self._walk(w, cfg.position_interval_s)
            w.due += cfg.position_interval_s
            if w.due < now:
                w.due = now + cfg.position_interval_s
        lons, lats = self._wgs84([w.lon for w in due], [w.lat for w in due])
        acc, bat = self.rng.random(len(due)).tolist(), self.rng.random(len(due)).tolist()
        return [self.msg(
            "position", now, officer_id=w.officer.officer_id, lat=round(lat, 6),
            lon=round(lon, 6), accuracy_m=round(3 + 10 * a, 1),
            speed_mps=cfg.speed_mps if w.on_duty else 0.0, battery=round(100 - 60 * b, 0))
            for w, lon, lat, a, b in zip(due, lons, lats, acc, bat, strict=True)]

    def _wgs84(self, lons: list[float], lats: list[float]) -> tuple[list[float], list[float]]:
        """Convert many points to WGS-84, vectorised when the simulator can."""
        if self.to_wgs84_many is not None:
            x, y = self.to_wgs84_many(np.array(lons), np.array(lats))
            return x.tolist(), y.tolist()
        pairs = [self.to_wgs84(x, y) for x, y in zip(lons, lats, strict=True)]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def _walk(self, w: Walker, seconds: float) -> None:
        step = self.config.speed_mps * seconds / M_PER_DEG
        target = w.job_target or w.target
        dx = (target[0] - w.lon) * math.cos(math.radians(w.lat))
        dy = target[1] - w.lat
        dist = math.hypot(dx, dy)
        if dist <= step:
            w.lon, w.lat = target
            if w.job_target is None:
                w.target = self.random_point(w.officer.grid, self.rng)
            return
        f = step / dist
        w.lon += (target[0] - w.lon) * f
        w.lat += dy * f

    def _duty_changes(self, now: float, dt: float) -> list[dict[str, Any]]:
        p = self.config.duty_changes_per_hour * dt / 3600
        n = int(self.rng.binomial(len(self.walkers), min(1.0, p))) if self.walkers else 0
        out = []
        for i in self.rng.choice(len(self.walkers), size=n, replace=False) if n else ():
            w = self.walkers[int(i)]
            if w.job_target is not None or w.officer.officer_id in self.real:
                continue  # busy with a case, or a real device speaks for the officer
            w.on_duty = not w.on_duty
            out.append(self.msg("duty", now, officer_id=w.officer.officer_id,
                                 on_duty=w.on_duty))
        return out

    def _new_incidents(self, now: float, dt: float) -> list[dict[str, Any]]:
        rate = self.config.incidents_per_hour * (rate_factor(now) if self.config.rhythm else 1)
        n = int(self.rng.poisson(rate * dt / 3600))
        cats = [c for c in WEIGHTS if c in self.rules]
        if not cats or not self.walkers:
            return []
        weights = np.array([WEIGHTS[c] for c in cats], dtype=float)
        out = []
        for _ in range(n):
            w = self.walkers[int(self.rng.integers(len(self.walkers)))]
            if w.officer.officer_id in self.real:
                continue
            cat = cats[int(self.rng.choice(len(cats), p=weights / weights.sum()))]
            out.append(self.incident(now, w, cat))
        return out

    def incident(self, now: float, w: Walker, category: str) -> dict[str, Any]:
        """A new case reported by walker `w` where they stand; schedules its life cycle."""
        iid = f"I{self.run_id}{next(self.seq):07d}"
        lon, lat = self.to_wgs84(w.lon, w.lat)
        title = TITLES.get(category, ["现场问题"])
        msg = self.msg("incident", now, incident_id=iid, officer_id=w.officer.officer_id,
                        lat=round(lat, 6), lon=round(lon, 6), category=category,
                        title=str(self.rng.choice(title)),
                        description=f"网格员{w.officer.name}现场上报", severity=0)
        if self.config.progress:
            self._schedule(now, iid, self.rules[category])
        return msg

    def _schedule(self, now: float, iid: str, rule: CategoryRule) -> None:
        t = now
        means = (0.15 * rule.dispatch_sla_s, 0.5 * rule.dispatch_sla_s,
                 0.2 * rule.resolve_sla_s, 0.5 * rule.resolve_sla_s, 600.0)
        for status, mean in zip(LIFECYCLE, means, strict=True):
            t += float(self.rng.exponential(mean))
            heapq.heappush(self.events, (t, next(self.seq), {
                "type": "incident_update", "incident_id": iid, "status": status}))
