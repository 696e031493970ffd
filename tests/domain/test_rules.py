"""Pure rules: alert levels by age and SLA, escalation, region codes, access."""
from __future__ import annotations

import pytest

from domain.access import Role, User
from domain.alerts import AlertLevel, CategoryRule, alert_level, is_overdue, worst
from domain.regions import Level, ancestors_of, is_within, level_of, town_of

DISPUTE = CategoryRule("dispute", "矛盾纠纷", "Dispute", AlertLevel.GREEN,
                       dispatch_sla_s=1800, resolve_sla_s=14400, yellow_share=0.5)
SECRET = CategoryRule("mental_health", "精神障碍", "Mental health", AlertLevel.YELLOW,
                      900, 10800, sensitive=True)


@pytest.mark.parametrize(("age", "dispatched", "level"), [
    (0, False, AlertLevel.GREEN),
    (899, False, AlertLevel.GREEN),
    (900, False, AlertLevel.YELLOW),  # half of the 30 min dispatch deadline
    (1799, False, AlertLevel.YELLOW),
    (1800, False, AlertLevel.RED),  # overdue for dispatch
    (1800, True, AlertLevel.GREEN),  # dispatched: the 4 h resolve deadline applies
    (7200, True, AlertLevel.YELLOW),
    (14400, True, AlertLevel.RED),
])
def test_level_follows_the_age_against_the_current_deadline(age, dispatched, level):
    assert alert_level(DISPUTE, age, dispatched) is level
    assert is_overdue(DISPUTE, age, dispatched) is (level is AlertLevel.RED)


def test_base_level_severity_and_escalation_raise_the_level():
    assert alert_level(SECRET, 0, False) is AlertLevel.YELLOW
    assert alert_level(DISPUTE, 0, False, severity=3) is AlertLevel.RED
    assert alert_level(DISPUTE, 0, False, escalations=1) is AlertLevel.YELLOW
    assert alert_level(DISPUTE, 0, False, escalations=5) is AlertLevel.RED


def test_worst_level_orders_red_over_yellow_over_green():
    assert worst([AlertLevel.GREEN, AlertLevel.RED, AlertLevel.YELLOW]) is AlertLevel.RED
    assert worst([]) is None


def test_region_codes_name_their_level_and_ancestors():
    assert level_of("441900") == Level.CITY
    assert level_of("441900101") == Level.TOWN
    assert level_of("441900101002") == Level.VILLAGE
    assert level_of("441900101002003") == Level.GRID
    assert ancestors_of("441900101002003") == ["441900101002003", "441900101002", "441900101",
                                              "441900"]
    assert town_of("441900101002003") == "441900101"
    with pytest.raises(ValueError):
        level_of("4419")


def test_scope_and_clearance():
    town_viewer = User("v", Role.VIEWER, "441900101")
    assert town_viewer.may_see_region("441900101002003")
    assert not town_viewer.may_see_region("441900102001001")
    assert not is_within("441900", "441900101")
    assert not town_viewer.may_see_category(SECRET)
    assert town_viewer.may_see_category(DISPUTE)
    assert User("d", Role.DUTY, "441900").may_see_category(SECRET)
    assert not User("a", Role.ADMIN, "441900").may_see_category(None)
