"""The downlink's pure rules: tasks an action sends, field updates, delivery on the case."""
from __future__ import annotations

import pytest

from domain.cases import Action, ActionRefused, apply_action
from domain.model import Incident, Status
from domain.tasks import Delivery, TaskAction, delivery, field_action, tasks_for, with_task_event

T0 = 1_790_000_000.0


def case(**kw) -> Incident:
    return Incident("I1", "dispute", "t", 23.0, 113.7, "441900101001001", T0,
                    officer_id="O9", **kw)


def test_assign_reassign_escalate_note_send_tasks_to_the_right_officers():
    a = apply_action(case(), Action.ASSIGN, T0 + 1, "d", officer_id="O1")
    assert tasks_for(case(), a, Action.ASSIGN) == [("O1", TaskAction.ASSIGN)]
    b = apply_action(a, Action.ASSIGN, T0 + 2, "d", officer_id="O2")
    assert tasks_for(a, b, Action.ASSIGN) == [("O2", TaskAction.ASSIGN),
                                              ("O1", TaskAction.UNASSIGN)]
    e = apply_action(b, Action.ESCALATE, T0 + 3, "d")
    assert tasks_for(b, e, Action.ESCALATE) == [("O2", TaskAction.ESCALATE)]
    n = apply_action(e, Action.NOTE, T0 + 4, "d", note="快")
    assert tasks_for(e, n, Action.NOTE) == [("O2", TaskAction.NOTE)]
    assert tasks_for(case(), apply_action(case(), Action.NOTE, T0, "d", note="x"),
                     Action.NOTE) == []  # nobody to tell


def test_field_updates_map_to_the_desk_actions_and_their_rules():
    dispatched = apply_action(case(), Action.ASSIGN, T0 + 1, "d", officer_id="O1")
    assert field_action(dispatched, Status.ACKNOWLEDGED, "O1") is Action.ACCEPT
    assert field_action(case(), Status.ACKNOWLEDGED, "O9") is Action.ACKNOWLEDGE  # reporter
    assert field_action(dispatched, Status.ON_SCENE, "O1") is Action.ON_SCENE
    assert field_action(dispatched, Status.RESOLVED, "O1") is Action.RESOLVE
    with pytest.raises(ActionRefused, match="neither assigned"):
        field_action(dispatched, Status.ON_SCENE, "O2")
    with pytest.raises(ActionRefused, match="may report"):
        field_action(dispatched, Status.CLOSED, "O1")
    on_scene = apply_action(dispatched, Action.ON_SCENE, T0 + 5, "device:p1")
    assert on_scene.status is Status.ON_SCENE and on_scene.on_scene_ts == T0 + 5
    with pytest.raises(ActionRefused, match="cannot on_scene a case that is on_scene"):
        apply_action(on_scene, Action.ON_SCENE, T0 + 6, "device:p1")


def test_delivery_follows_the_latest_assignment():
    a = apply_action(case(), Action.ASSIGN, T0 + 1, "d", officer_id="O1")
    assert delivery(case()) is None and delivery(a) is Delivery.PENDING
    a = with_task_event(a, "task_delivered", "O1", "assign", "p1", T0 + 2)
    assert delivery(a) is Delivery.DELIVERED
    a = with_task_event(a, "task_acked", "O1", "assign", "p1", T0 + 3)
    assert delivery(a) is Delivery.ACKED
    b = apply_action(a, Action.ASSIGN, T0 + 4, "d", officer_id="O2")
    assert delivery(b) is Delivery.PENDING  # the new assignee's phone has nothing yet
    b = with_task_event(b, "task_delivered", "O1", "unassign", "p1", T0 + 5)
    assert delivery(b) is Delivery.PENDING
