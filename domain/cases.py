"""The life of a case: which actions are allowed when, and what each one changes (pure)."""
from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any

from domain.alerts import AlertLevel, CategoryRule
from domain.model import Incident, Status

MAX_ESCALATIONS = 2


class Action(StrEnum):
    """What a duty officer can do to a case from the browser."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    ESCALATE = "escalate"
    NOTE = "note"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    ON_SCENE = "on_scene"  # from the field only: the officer has arrived
    ACCEPT = "accept"  # from the field only: the assignee has taken the dispatch


DESK_ACTIONS: tuple[Action, ...] = tuple(a for a in Action
                                         if a not in (Action.ON_SCENE, Action.ACCEPT))
FIELD_ACTIONS: tuple[Action, ...] = (Action.ACKNOWLEDGE, Action.ACCEPT, Action.ON_SCENE,
                                     Action.RESOLVE)


_ALLOWED: dict[Action, frozenset[Status]] = {
    Action.ACKNOWLEDGE: frozenset({Status.REPORTED}),
    Action.ASSIGN: frozenset({Status.REPORTED, Status.ACKNOWLEDGED, Status.DISPATCHED,
                              Status.ON_SCENE}),
    Action.ESCALATE: frozenset({Status.REPORTED, Status.ACKNOWLEDGED, Status.DISPATCHED,
                                Status.ON_SCENE}),
    Action.NOTE: frozenset(Status),
    Action.RESOLVE: frozenset({Status.REPORTED, Status.ACKNOWLEDGED, Status.DISPATCHED,
                               Status.ON_SCENE}),
    Action.CLOSE: frozenset({Status.RESOLVED}),
    Action.REOPEN: frozenset({Status.RESOLVED, Status.CLOSED}),
    Action.ON_SCENE: frozenset({Status.REPORTED, Status.ACKNOWLEDGED, Status.DISPATCHED}),
    Action.ACCEPT: frozenset({Status.DISPATCHED, Status.ON_SCENE}),
}
_TS_FIELD = {Status.ACKNOWLEDGED: "ack_ts", Status.DISPATCHED: "dispatched_ts",
             Status.ON_SCENE: "on_scene_ts", Status.RESOLVED: "resolved_ts",
             Status.CLOSED: "closed_ts"}


class ActionRefused(ValueError):
    """An action that the case's current state does not allow; the message says why."""


def allowed_actions(inc: Incident, among: tuple[Action, ...] = DESK_ACTIONS) -> list[Action]:
    """The actions (of `among`: a duty desk's by default) a case allows now, in display order."""
    acts = [a for a in among if inc.status in _ALLOWED[a]]
    if inc.escalations >= MAX_ESCALATIONS or inc.level is AlertLevel.RED:
        acts = [a for a in acts if a is not Action.ESCALATE]
    return acts


def check(inc: Incident, action: Action, officer_id: str = "", note: str = "") -> None:
    """Raise ActionRefused if `action` is not allowed on the case now."""
    if action not in allowed_actions(inc, tuple(Action)):
        raise ActionRefused(f"cannot {action.value} a case that is {inc.status.value}"
                            + (" and already red" if action is Action.ESCALATE else ""))
    if action is Action.ASSIGN and not officer_id:
        raise ActionRefused("assign needs an officer")
    if action is Action.NOTE and not note.strip():
        raise ActionRefused("a note needs text")


def deadline(rule: CategoryRule, inc: Incident) -> float:
    """Epoch seconds of the SLA deadline the case is working against now."""
    if inc.status.is_dispatched:
        return inc.reported_ts + rule.resolve_sla_s
    return inc.reported_ts + rule.dispatch_sla_s


def with_event(inc: Incident, event: dict[str, Any]) -> Incident:
    """The case with one more timeline event."""
    return replace(inc, events=(*inc.events, event))


def set_status(inc: Incident, status: Status, ts: float, by: str = "",
               note: str = "") -> Incident:
    """The case moved to `status` at `ts` (timestamps kept; reopening clears the end ones)."""
    changes: dict[str, Any] = {"status": status, "updated_ts": ts}
    field = _TS_FIELD.get(status)
    if field and getattr(inc, field) is None:
        changes[field] = ts
    if status is Status.DISPATCHED and inc.ack_ts is None:
        changes["ack_ts"] = ts
    event = {"ts": ts, "kind": "status", "status": status.value}
    if by:
        event["by"] = by
    if note:
        event["note"] = note
    return with_event(replace(inc, **changes), event)


def apply_action(inc: Incident, action: Action, ts: float, by: str, officer_id: str = "",
                 note: str = "") -> Incident:
    """The case after a checked action by user `by`; raises ActionRefused if not allowed."""
    check(inc, action, officer_id, note)
    if action is Action.ACKNOWLEDGE:
        return set_status(inc, Status.ACKNOWLEDGED, ts, by, note)
    if action is Action.ASSIGN:
        moved = inc if inc.status.is_dispatched else set_status(inc, Status.DISPATCHED, ts, by)
        return with_event(replace(moved, assignee=officer_id, updated_ts=ts),
                          {"ts": ts, "kind": "assign", "officer_id": officer_id, "by": by})
    if action is Action.ESCALATE:
        return with_event(replace(inc, escalations=inc.escalations + 1, updated_ts=ts),
                          {"ts": ts, "kind": "escalate", "by": by, "note": note})
    if action is Action.NOTE:
        return with_event(replace(inc, updated_ts=ts),
                          {"ts": ts, "kind": "note", "by": by, "note": note})
    if action is Action.ACCEPT:
        return with_event(replace(inc, updated_ts=ts),
                          {"ts": ts, "kind": "accepted", "by": by, "note": note})
    if action is Action.ON_SCENE:
        return set_status(inc, Status.ON_SCENE, ts, by, note)
    if action is Action.REOPEN:
        reopened = replace(inc, resolved_ts=None, closed_ts=None)
        return set_status(reopened, Status.ACKNOWLEDGED, ts, by, note or "reopened")
    status = Status.RESOLVED if action is Action.RESOLVE else Status.CLOSED
    return set_status(inc, status, ts, by, note)
