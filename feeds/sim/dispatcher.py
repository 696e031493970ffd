"""A simulated town dispatcher: what a duty officer at the desk would do with open cases (pure)."""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from domain.alerts import AlertLevel, CategoryRule
from domain.cases import Action, allowed_actions
from domain.model import Incident, Status

DESK_S = (20.0, 90.0)  # how long a new report waits until the desk has read it
ESCALATE_SHARE = 0.9  # a case still not resolved at this share of its deadline is escalated
PARKED_AGE_S = 7 * 86400.0  # older cases wait on other departments: the town centre's, not ours
REPEAT_S = 30.0  # an action sent is not sent again this soon (the worker has not applied it)
ESCALATE_NOTE = "临近超时，提请镇指挥中心督办"  # near its deadline: the town centre to follow up
ASSIGN_NOTE = "就近派单"  # sent to the nearest free officer

Nearest = Callable[[Incident], list[tuple[str, float]]]  # case → [(officer, metres)], nearest first


@dataclass(frozen=True)
class Decision:
    """One action the dispatcher takes on a case."""

    incident_id: str
    action: Action
    officer_id: str = ""
    note: str = ""


def desk_delay_s(incident_id: str) -> float:
    """Seconds until the desk acts on a new case (steady per case, spread over DESK_S)."""
    lo, hi = DESK_S
    return lo + (zlib.crc32(incident_id.encode()) % 1000) / 1000 * (hi - lo)


def busy_officers(cases: Iterable[Incident]) -> set[str]:
    """Officers on their way to a case (dispatched, not yet on scene)."""
    return {c.assignee for c in cases if c.assignee and c.status is Status.DISPATCHED}


def choose(candidates: list[tuple[str, float]], reporter: str, busy: set[str],
           excluded: set[str]) -> str | None:
    """The nearest candidate who is free, simulated, and not the case's own reporter (who
    keeps patrolling: a colleague goes)."""
    for oid, _dist in candidates:
        if oid != reporter and oid not in busy and oid not in excluded:
            return oid
    return None


@dataclass
class Dispatcher:
    """The desk of one town: assigns new cases to the nearest free officer, escalates the
    ones running out of time. `excluded`: officers it never sends (real devices)."""

    town: str
    rules: Mapping[str, CategoryRule]
    sent: dict[tuple[str, Action], float] = field(default_factory=dict)

    @property
    def user_name(self) -> str:
        """The user its actions are audited as."""
        return f"sim-dispatch-{self.town}"

    def decide(self, cases: list[Incident], now: float, nearest: Nearest,
               busy: set[str], excluded: set[str]) -> list[Decision]:
        """What to do now with the town's open cases (oldest first); `busy` gains the officers
        it sends."""
        out = []
        self.sent = {k: ts for k, ts in self.sent.items() if now - ts < REPEAT_S}
        for inc in cases:
            if not inc.status.is_open or now - inc.reported_ts > PARKED_AGE_S:
                continue
            d = self._one(inc, now, nearest, busy, excluded)
            if d is not None and (d.incident_id, d.action) not in self.sent:
                self.sent[(d.incident_id, d.action)] = now
                out.append(d)
                if d.action is Action.ASSIGN:
                    busy.add(d.officer_id)
        return out

    def _one(self, inc: Incident, now: float, nearest: Nearest, busy: set[str],
             excluded: set[str]) -> Decision | None:
        age = now - inc.reported_ts
        if inc.assignee in excluded:
            return None  # a real officer's case: the people at the desk follow it
        if not inc.assignee:
            if age < desk_delay_s(inc.incident_id):
                return None
            oid = choose(nearest(inc), inc.officer_id, busy, excluded)
            if oid is not None:
                return Decision(inc.incident_id, Action.ASSIGN, oid, ASSIGN_NOTE)
        rule = self.rules.get(inc.category)
        if rule is None:
            return None
        deadline = rule.resolve_sla_s if inc.status.is_dispatched else rule.dispatch_sla_s
        if (age >= ESCALATE_SHARE * deadline and inc.level is not AlertLevel.RED
                and inc.escalations == 0 and Action.ESCALATE in allowed_actions(inc)):
            return Decision(inc.incident_id, Action.ESCALATE, note=ESCALATE_NOTE)
        return None
