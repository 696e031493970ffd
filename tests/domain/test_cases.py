"""The life of a case with a frozen clock: allowed actions, timestamps, SLA deadlines."""
from __future__ import annotations

import pytest

from domain.alerts import AlertLevel, CategoryRule, alert_level
from domain.cases import Action, ActionRefused, allowed_actions, apply_action, deadline
from domain.model import Incident, Status

T0 = 1_790_000_000.0
RULE = CategoryRule("dispute", "矛盾纠纷", "Dispute", AlertLevel.GREEN, 1800, 14400, 0.5)


def case(**kw) -> Incident:
    return Incident("I1", "dispute", "t", 23.0, 113.7, "441900101001001", T0, **kw)


def level_at(inc: Incident, now: float) -> AlertLevel:
    return alert_level(RULE, now - inc.reported_ts, inc.status.is_dispatched, inc.severity,
                       inc.escalations)


def test_a_case_from_report_to_close_with_its_timestamps_and_timeline():
    inc = apply_action(case(), Action.ACKNOWLEDGE, T0 + 60, "duty1")
    assert inc.status is Status.ACKNOWLEDGED and inc.ack_ts == T0 + 60
    inc = apply_action(inc, Action.ASSIGN, T0 + 120, "duty1", officer_id="O000001")
    assert inc.status is Status.DISPATCHED and inc.dispatched_ts == T0 + 120
    assert inc.assignee == "O000001"
    inc = apply_action(inc, Action.RESOLVE, T0 + 3600, "duty1")
    inc = apply_action(inc, Action.CLOSE, T0 + 3700, "duty2")
    assert (inc.status, inc.resolved_ts, inc.closed_ts) == (Status.CLOSED, T0 + 3600, T0 + 3700)
    kinds = [(e["kind"], e.get("status") or e.get("officer_id"), e.get("by")) for e in inc.events]
    assert kinds == [("status", "acknowledged", "duty1"), ("status", "dispatched", "duty1"),
                     ("assign", "O000001", "duty1"), ("status", "resolved", "duty1"),
                     ("status", "closed", "duty2")]


def test_actions_refused_with_a_reason():
    with pytest.raises(ActionRefused, match="cannot close a case that is reported"):
        apply_action(case(), Action.CLOSE, T0, "d")
    with pytest.raises(ActionRefused, match="needs an officer"):
        apply_action(case(), Action.ASSIGN, T0, "d")
    with pytest.raises(ActionRefused, match="needs text"):
        apply_action(case(), Action.NOTE, T0, "d", note="   ")
    red = case(level=AlertLevel.RED)
    assert Action.ESCALATE not in allowed_actions(red)
    closed = case(status=Status.CLOSED)
    assert allowed_actions(closed) == [Action.NOTE, Action.REOPEN]


def test_sla_deadline_and_levels_over_frozen_time():
    inc = case()
    assert deadline(RULE, inc) == T0 + 1800
    assert level_at(inc, T0 + 899) is AlertLevel.GREEN
    assert level_at(inc, T0 + 900) is AlertLevel.YELLOW
    assert level_at(inc, T0 + 1800) is AlertLevel.RED
    dispatched = apply_action(inc, Action.ASSIGN, T0 + 600, "d", officer_id="O1")
    assert deadline(RULE, dispatched) == T0 + 14400
    assert level_at(dispatched, T0 + 1800) is AlertLevel.GREEN
    assert level_at(dispatched, T0 + 7200) is AlertLevel.YELLOW
    escalated = apply_action(dispatched, Action.ESCALATE, T0 + 1900, "d")
    assert level_at(escalated, T0 + 1900) is AlertLevel.YELLOW
    assert level_at(escalated, T0 + 7200) is AlertLevel.RED


def test_reopen_starts_the_case_again_and_keeps_its_history():
    inc = apply_action(case(), Action.RESOLVE, T0 + 60, "d")
    inc = apply_action(inc, Action.REOPEN, T0 + 120, "d2")
    assert inc.status is Status.ACKNOWLEDGED and inc.resolved_ts is None
    assert [e.get("status") for e in inc.events] == ["resolved", "acknowledged"]
    assert inc.events[-1]["note"] == "reopened"
