"""The simulated town desk: nearest free officer for a new case, escalation near the deadline."""
from __future__ import annotations

from domain.cases import Action
from domain.model import Incident, Status
from feeds.live.rules import load_rules
from feeds.sim.dispatcher import Dispatcher, desk_delay_s

RULES = load_rules().rules()
NOW = 1_800_000_000.0


def case(iid: str, age_s: float, **kw) -> Incident:
    return Incident(incident_id=iid, category="dispute", title="t", lat=23.0, lon=113.7,
                    grid="441900101001001", reported_ts=NOW - age_s, officer_id="REP", **kw)


def near(_inc: Incident) -> list[tuple[str, float]]:
    return [("REP", 0.0), ("BUSY", 50.0), ("REAL", 80.0), ("FREE", 120.0), ("FAR", 900.0)]


def test_a_new_case_goes_to_the_nearest_free_simulated_officer_not_its_reporter():
    desk = Dispatcher("441900101", RULES)
    busy = {"BUSY"}
    [d] = desk.decide([case("A", 120)], NOW, near, busy, {"REAL"})
    assert (d.action, d.officer_id) == (Action.ASSIGN, "FREE")
    assert "FREE" in busy  # the next case gets someone else
    [d2] = desk.decide([case("B", 120)], NOW, near, busy, {"REAL"})
    assert d2.officer_id == "FAR"
    assert desk.decide([case("B", 121)], NOW + 1, near, busy, set()) == []  # not sent twice


def test_the_desk_reads_a_report_before_acting_and_leaves_parked_cases():
    desk = Dispatcher("441900101", RULES)
    assert 20 <= desk_delay_s("C") <= 90
    assert desk.decide([case("C", 5)], NOW, near, set(), set()) == []
    assert desk.decide([case("D", 8 * 86400)], NOW, near, set(), set()) == []


def test_a_dispatched_case_near_its_deadline_is_escalated_once():
    desk = Dispatcher("441900101", RULES)
    late = case("E", 0.92 * RULES["dispute"].resolve_sla_s, status=Status.ON_SCENE,
                assignee="FREE")
    [d] = desk.decide([late], NOW, near, set(), set())
    assert d.action is Action.ESCALATE and d.note
    early = case("F", 0.3 * RULES["dispute"].resolve_sla_s, status=Status.ON_SCENE,
                 assignee="FREE")
    assert desk.decide([early], NOW, near, set(), set()) == []
