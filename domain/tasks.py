"""The downlink's rules: which dispatch tasks an action sends to whom, what a field update
means, and whether the assignee's phone has the case yet (pure)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from domain.cases import Action, ActionRefused, with_event
from domain.model import Incident, Status


class TaskAction(StrEnum):
    """Why a task reaches an officer's terminals."""

    ASSIGN = "assign"
    UNASSIGN = "unassign"
    ESCALATE = "escalate"
    NOTE = "note"


class Delivery(StrEnum):
    """How far the latest dispatch to the assignee has come (the case page shows it)."""

    PENDING = "pending"  # not yet delivered to any of the assignee's terminals
    DELIVERED = "delivered"  # on a terminal, not yet acknowledged
    ACKED = "acked"  # the officer's terminal acknowledged it


TASK_DELIVERED, TASK_ACKED = "task_delivered", "task_acked"  # case event kinds
FIELD_STATUSES = (Status.ACKNOWLEDGED, Status.ON_SCENE, Status.RESOLVED)


def tasks_for(before: Incident, after: Incident, action: Action
              ) -> list[tuple[str, TaskAction]]:
    """(officer, task action) pairs an applied desk action sends down: the new assignee gets
    `assign` and the one replaced `unassign`; the assignee hears of escalations and notes."""
    if action is Action.ASSIGN:
        out = [(after.assignee, TaskAction.ASSIGN)]
        if before.assignee and before.assignee != after.assignee:
            out.append((before.assignee, TaskAction.UNASSIGN))
        return out
    if action is Action.ESCALATE and after.assignee:
        return [(after.assignee, TaskAction.ESCALATE)]
    if action is Action.NOTE and after.assignee:
        return [(after.assignee, TaskAction.NOTE)]
    return []


def field_action(inc: Incident, status: Status, officer_id: str) -> Action:
    """The action an officer's terminal asks for by reporting `status` on a case; raises
    ActionRefused (with the reason the terminal is told) when it may not."""
    if status not in FIELD_STATUSES:
        raise ActionRefused("status: a terminal may report "
                            + ", ".join(s.value for s in FIELD_STATUSES))
    if officer_id not in (inc.assignee, inc.officer_id):
        raise ActionRefused("incident_id: this case is neither assigned to nor reported by "
                            f"{officer_id}")
    if status is Status.ON_SCENE:
        return Action.ON_SCENE
    if status is Status.RESOLVED:
        return Action.RESOLVE
    return Action.ACCEPT if inc.status.is_dispatched else Action.ACKNOWLEDGE


def delivery(inc: Incident) -> Delivery | None:
    """Whether the assignee's terminal has the latest assignment (None: not assigned)."""
    return delivery_of(inc.assignee, inc.status.is_open, inc.events)


def delivery_of(assignee: str, is_open: bool, events: Iterable[Mapping[str, Any]]
                ) -> Delivery | None:
    """delivery() of a case given as its assignee, whether it is open, and its events."""
    if not assignee or not is_open:
        return None
    state = None
    for e in events:
        kind, oid = e.get("kind"), e.get("officer_id")
        if oid != assignee or (kind != "assign" and e.get("action") != "assign"):
            continue
        if kind == "assign":
            state = Delivery.PENDING
        elif kind == TASK_DELIVERED and state is Delivery.PENDING:
            state = Delivery.DELIVERED
        elif kind == TASK_ACKED and state is not None:
            state = Delivery.ACKED
    return state


def with_task_event(inc: Incident, kind: str, officer_id: str, action: str, device: str,
                    ts: float, task: str = "") -> Incident:
    """The case with a task_delivered / task_acked event on its timeline."""
    return with_event(inc, {"ts": ts, "kind": kind, "officer_id": officer_id, "device": device,
                            "task": task, "action": action})
