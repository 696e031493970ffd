"""The case page shows whether the assignee's phone has the dispatch, and the phone's events."""
from __future__ import annotations

from domain.cases import Action, apply_action
from domain.model import Incident
from domain.tasks import with_task_event
from feeds.live.state import incident_to_json
from layouts.case_view import case_details, timeline
from tests.layouts.test_map_view import text_of

T0 = 1_790_000_000.0
NAMES = {"O1": "张三"}


def assigned() -> Incident:
    inc = Incident("I1", "dispute", "t", 23.0, 113.7, "441900101001001", T0)
    return apply_action(inc, Action.ASSIGN, T0 + 60, "duty1", officer_id="O1")


def test_assignee_phone_not_yet_delivered_then_delivered_then_acked():
    inc = assigned()
    zh = text_of(case_details(incident_to_json(inc), "纠纷", None, NAMES, T0, "zh"))
    en = text_of(case_details(incident_to_json(inc), "Dispute", None, NAMES, T0, "en"))
    assert "张三 未送达" in zh and "not yet delivered" in en
    inc = with_task_event(inc, "task_delivered", "O1", "assign", "phone-7", T0 + 61)
    zh = text_of(case_details(incident_to_json(inc), "纠纷", None, NAMES, T0, "zh"))
    assert "已送达，待确认" in zh and "未送达" not in zh
    inc = with_task_event(inc, "task_acked", "O1", "assign", "phone-7", T0 + 70)
    zh = text_of(case_details(incident_to_json(inc), "纠纷", None, NAMES, T0, "zh"))
    assert "终端已确认" in zh
    lines = [text_of(li) for li in timeline(incident_to_json(inc), NAMES, "en").children]
    assert any("Delivered to phone" in s and "phone-7" in s and "张三" in s for s in lines)
    assert any("Acknowledged on phone" in s and "phone-7" in s for s in lines)
