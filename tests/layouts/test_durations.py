"""Durations as people read them, in both languages, from the one catalogue."""
from __future__ import annotations

from layouts.case_list import case_row, labels
from layouts.format import countdown, duration, minutes_text
from layouts.viewmodels import IncidentMarker


def test_duration_in_both_languages():
    assert duration(3 * 86400 + 4 * 3600 + 59, "zh") == "3天4小时"
    assert duration(3 * 86400 + 4 * 3600, "en") == "3 d 4 h"
    assert duration(2 * 3600 + 15 * 60, "zh") == "2小时15分"
    assert duration(2 * 3600 + 15 * 60, "en") == "2 h 15 min"
    assert duration(5 * 3600, "zh") == "5小时" and duration(5 * 3600, "en") == "5 h"
    assert duration(2 * 86400, "zh") == "2天" and duration(45, "en") == "45 s"


def test_overdue_and_countdown():
    assert minutes_text(-300, "zh") == "超期 5小时"
    assert minutes_text(-300, "en") == "overdue 5 h"
    assert minutes_text(41739, "zh") == "28天23小时"
    assert minutes_text(None, "en") == "—"
    assert countdown(1000.0, 1000.0 + 8 * 86400 + 17 * 3600, "zh") == "超期 8天17小时"


def test_case_row_shows_durations_and_keeps_minutes():
    now = 1_800_000_000.0
    m = IncidentMarker(incident_id="i1", lon=113.7, lat=23.0, level="red", category="road",
                       title="t", status="new", reported_ts=now - 41739 * 60,
                       due_ts=now - 300 * 60, assignee="", grid="g")
    row = case_row(m, labels("zh"), now, "zh")
    assert (row["age"], row["due"]) == ("28天23小时", "超期 5小时")
    assert (row["age_min"], row["due_min"]) == (41739, -300)
