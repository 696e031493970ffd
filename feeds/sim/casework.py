"""How the simulated city works a case: the desk's delay, the walk, the visit, the follow-up."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from domain.alerts import CategoryRule
from domain.model import Category

# Typical minutes an officer spends on scene, and the share of cases settled during that visit
# (the others need a follow-up: a landlord to register, a department to clean up, a hearing).
VISIT_MIN: dict[str, float] = {
    Category.DISPUTE: 35, Category.SAFETY_HAZARD: 30, Category.RENTAL_HOUSING: 25,
    Category.FIRE: 25, Category.WORK_SAFETY: 40, Category.FOOD_DRUG: 30,
    Category.PUBLIC_ORDER: 20, Category.MENTAL_HEALTH: 45,
    Category.COMMUNITY_CORRECTION: 25, Category.ENVIRONMENT: 30}
SPOT_SHARE: dict[str, float] = {
    Category.DISPUTE: 0.55, Category.SAFETY_HAZARD: 0.5, Category.RENTAL_HOUSING: 0.35,
    Category.FIRE: 0.85, Category.WORK_SAFETY: 0.45, Category.FOOD_DRUG: 0.45,
    Category.PUBLIC_ORDER: 0.8, Category.MENTAL_HEALTH: 0.5,
    Category.COMMUNITY_CORRECTION: 0.5, Category.ENVIRONMENT: 0.3}
DEFAULT_VISIT_MIN = 30.0
DEFAULT_SPOT_SHARE = 0.5
FOLLOW_UP_SHARE = 0.2  # median follow-up, as a share of the category's resolve deadline
FOLLOW_UP_CAP = 0.75  # an ordinary follow-up ends before this share of the deadline
HARD_P = 0.025  # cases that run to their deadline or past it
HARD_SPAN = (0.8, 1.35)  # when a hard case gets resolved, as shares of its resolve deadline
DESK_S = 45.0  # median seconds until the desk dispatches a new case
LATE_DISPATCH_P = 0.03  # no officer free for a while: dispatched around the deadline
WALK_MPS = 1.3
WALK_MEAN_M = 450.0  # how far the officer sent usually is from the case
CLOSE_MIN = 15.0  # median minutes until the desk checks and closes a resolved case
DAY_S = 86400.0
LOCAL_OFFSET_S = 8 * 3600  # Asia/Shanghai, UTC+8 all year
# Relative case rate by local hour (quiet nights, morning and afternoon peaks), mean 1.
_HOURLY = np.array([0.25, 0.18, 0.14, 0.12, 0.14, 0.25, 0.55, 1.0, 1.45, 1.7, 1.75, 1.6,
                    1.3, 1.35, 1.6, 1.7, 1.6, 1.45, 1.25, 1.2, 1.1, 0.9, 0.65, 0.4])
HOURLY = _HOURLY / _HOURLY.mean()
_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 1.05, 0.85, 0.8])  # Monday first
WEEKDAY = _WEEKDAY / _WEEKDAY.mean()


def rate_factor(ts: float) -> float:
    """How busy the city is at `ts` against its mean (by local hour and weekday)."""
    local = ts + LOCAL_OFFSET_S
    return float(HOURLY[int(local // 3600) % 24] * WEEKDAY[(int(local // DAY_S) + 3) % 7])


def _lognormal(rng: np.random.Generator, median: float, sigma: float) -> float:
    return median * math.exp(sigma * float(rng.standard_normal()))


@dataclass(frozen=True)
class Work:
    """What an officer arriving on scene will do: stay `visit_s`, resolve `resolve_s` after
    arriving (the visit, or later after a follow-up)."""

    visit_s: float
    resolve_s: float


def desk_delay_s(rng: np.random.Generator, rule: CategoryRule, strain: float = 1.0) -> float:
    """Seconds from a report until the desk dispatches it (now and then no one is free;
    `strain` scales how often)."""
    if rng.random() < LATE_DISPATCH_P * strain:
        return rule.dispatch_sla_s * float(rng.uniform(0.6, 1.6))
    return min(_lognormal(rng, DESK_S, 0.6), 0.4 * rule.dispatch_sla_s)


def walk_s(rng: np.random.Generator) -> float:
    """Seconds an officer walks to a case (the history's stand-in for a real walk)."""
    return 30.0 + float(rng.exponential(WALK_MEAN_M)) / WALK_MPS


def work(rng: np.random.Generator, rule: CategoryRule, arrived_age_s: float,
         strain: float = 1.0) -> Work:
    """The visit and resolution of a case whose officer arrives `arrived_age_s` after the
    report: mostly settled on the spot or after a follow-up well within the deadline; a few
    hard ones (`strain` scales how many) run to it or past it."""
    code = rule.code
    visit = max(300.0, _lognormal(rng, 60 * VISIT_MIN.get(code, DEFAULT_VISIT_MIN), 0.4))
    r = rule.resolve_sla_s
    if rng.random() < HARD_P * strain:
        at = r * float(rng.uniform(*HARD_SPAN))
        return Work(visit, max(visit, at - arrived_age_s))
    if rng.random() < SPOT_SHARE.get(code, DEFAULT_SPOT_SHARE):
        return Work(visit, visit)
    follow = min(_lognormal(rng, FOLLOW_UP_SHARE * r, 0.5), FOLLOW_UP_CAP * r - arrived_age_s)
    return Work(visit, max(visit + 60.0, follow))


def close_s(rng: np.random.Generator) -> float:
    """Seconds from resolved until the desk closes the case."""
    return 60.0 + _lognormal(rng, 60 * CLOSE_MIN, 0.7)
