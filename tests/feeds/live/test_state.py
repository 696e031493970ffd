"""Applying stream events to the city state, with a frozen clock (no Redis)."""
from __future__ import annotations

import orjson

from domain.entries import Entry, decode_entry, entry_of
from domain.model import Officer, Status
from feeds.live.rules import load_rules
from feeds.live.state import Changes, CityState

T0 = 1_790_000_000.0
GRID = "441900101002003"
OTHER = "441900102001001"


def city() -> CityState:
    roster = {"O1": Officer("O1", "张三", GRID), "O2": Officer("O2", "李四", OTHER)}
    return CityState.with_roster(load_rules().rules(), roster)


def incident(iid: str, category: str, ts: float, grid: str = GRID) -> Entry:
    return entry_of({"type": "incident", "incident_id": iid, "officer_id": "O1", "ts": ts,
                     "lat": 23.0, "lon": 113.8, "grid": grid, "category": category,
                     "title": "t"})


def update(iid: str, status: str, ts: float) -> Entry:
    return entry_of({"type": "incident_update", "incident_id": iid, "status": status, "ts": ts})


def test_case_turns_yellow_then_red_as_the_frozen_clock_passes_its_deadline():
    st = city()  # dispute: green base, 30 min to dispatch, yellow at half
    st.apply(incident("I1", "dispute", T0), T0, Changes())
    assert st.incidents["I1"].level == "green"
    assert st.relevel(T0 + 14 * 60) == []
    [msg] = st.relevel(T0 + 15 * 60)
    assert msg.level == "yellow"
    st.apply(msg, T0 + 15 * 60, Changes())
    [msg] = st.relevel(T0 + 30 * 60)
    assert msg.level == "red"
    st.apply(msg, T0 + 30 * 60, Changes())
    counts = st.town_counts("441900101", T0 + 30 * 60, T0 - 3600)
    assert counts[f"{GRID}|red"] == counts["441900101|red"] == 1
    assert counts["441900101|overdue"] == 1 and counts["441900101|new"] == 1


def test_dispatch_switches_to_the_resolve_deadline_and_closing_leaves_the_open_counts():
    st = city()
    st.apply(incident("I1", "dispute", T0), T0, Changes())
    ch = Changes()
    st.apply(update("I1", "dispatched", T0 + 20 * 60), T0 + 20 * 60, ch)
    assert st.incidents["I1"].level == "green"  # 20 min of a 4 h resolve deadline
    assert "I1" in ch.incidents["441900101"]
    ch = Changes()
    st.apply(update("I1", "resolved", T0 + 3600), T0 + 3600, ch)
    assert ch.closed == {"441900101": {"I1"}}
    counts = st.town_counts("441900101", T0 + 3600, T0 - 60)
    assert "441900101|green" not in counts and counts["441900101|new"] == 1


def test_fire_starts_red_and_counts_stay_in_their_town():
    st = city()
    st.apply(incident("F1", "fire", T0, grid=OTHER), T0, Changes())
    assert st.incidents["F1"].level == "red"
    assert st.town_counts("441900101", T0, T0) == {}
    assert st.town_counts("441900102", T0, T0)["441900102|red"] == 1


def test_positions_update_officers_and_older_fixes_are_ignored():
    st = city()
    ch = Changes()
    st.apply(entry_of({"type": "position", "officer_id": "O1", "ts": T0, "lon": 113.8,
                       "lat": 23.0, "grid": GRID}), T0, ch)
    st.apply(entry_of({"type": "position", "officer_id": "O1", "ts": T0 - 10, "lon": 1.0,
                       "lat": 1.0, "grid": GRID}), T0, ch)
    st.apply(entry_of({"type": "duty", "officer_id": "O1", "ts": T0, "on_duty": True}), T0, ch)
    assert st.officers["O1"].row() == ["O1", 113.8, 23.0, 1]
    assert set(ch.officers["441900101"]) == {"O1"}


def test_replaying_an_incident_is_idempotent():
    st = city()
    st.apply(incident("I1", "dispute", T0), T0, Changes())
    ch = Changes()
    st.apply(incident("I1", "fire", T0 + 5), T0 + 5, ch)
    assert st.incidents["I1"].category == "dispute" and not ch.towns


def test_a_late_clock_pass_dates_level_changes_when_they_happened():
    st = city()  # dispute: 30 min to dispatch, yellow at 15 min
    st.apply(incident("I1", "dispute", T0), T0, Changes())
    [msg] = st.relevel(T0 + 3 * 3600)  # the worker was down for hours
    assert msg.level == "red" and msg.ts == T0 + 30 * 60
    [soon] = city_with(("I2", T0)).relevel(T0 + 15 * 60 + 3)
    assert soon.level == "yellow" and soon.ts == T0 + 15 * 60


def city_with(*cases: tuple[str, float]) -> CityState:
    st = city()
    for iid, ts in cases:
        st.apply(incident(iid, "dispute", ts), ts, Changes())
    return st


def test_stored_bytes_decode_once_into_entries_the_state_applies():
    st = city()
    ch = Changes()
    for fields in ({"msg_id": "p1", "ts": T0, "type": "position", "officer_id": "O1",
                    "lat": 23.0, "lon": 113.8, "battery": 55.0, "grid": GRID},
                   {"msg_id": "i1", "ts": T0, "type": "incident", "incident_id": "I1",
                    "officer_id": "O1", "lat": 23.0, "lon": 113.8, "category": "dispute",
                    "title": "t", "description": "", "severity": 0, "grid": GRID},
                   {"type": "command", "msg_id": "c1", "incident_id": "I1", "action": "assign",
                    "by": "duty1", "ts": T0 + 60, "officer_id": "O2"},
                   {"type": "attachment", "msg_id": "a1"}):  # a kind no one applies: skipped
        entry = decode_entry(orjson.dumps(fields))
        assert entry is None or isinstance(entry, Entry)
        if entry is not None:
            st.apply(entry, T0 + 60, ch)
    assert (st.officers["O1"].lon, st.officers["O1"].battery) == (113.8, 55.0)
    inc = st.incidents["I1"]
    assert inc.status is Status.DISPATCHED and inc.assignee == "O2"
    assert any(e["kind"] == "assign" and e["by"] == "duty1" for e in inc.events)
    assert ch.fixes == [("441900101", "O1", T0, 113.8, 23.0, GRID)]


def test_a_photo_joins_the_case_timeline_and_marks_the_case_changed():
    st = city()
    st.apply(incident("I1", "dispute", T0), T0, Changes())
    ch = Changes()
    photo = entry_of({"type": "photo", "msg_id": "a1", "incident_id": "I1", "photo_id": "ab" * 32,
                      "mime": "image/jpeg", "officer_id": "O1", "ts": T0 + 60})
    st.apply(photo, T0 + 60, ch)
    assert "I1" in ch.incidents["441900101"]  # pushed: the case's open pages redraw
    ev = st.incidents["I1"].events[-1]
    assert ev == {"ts": T0 + 60, "kind": "photo", "officer_id": "O1", "photo_id": "ab" * 32}
    st.apply(entry_of(dict(msgspec_fields(photo), incident_id="NOPE")), T0 + 61, Changes())


def msgspec_fields(entry: Entry) -> dict:
    import msgspec

    return msgspec.to_builtins(entry)
