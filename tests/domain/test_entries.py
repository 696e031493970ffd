"""Typed stream entries read and write the very bytes stored in Redis before them (no Redis)."""
from __future__ import annotations

import msgspec
import orjson
import pytest

from domain.alerts import AlertLevel
from domain.cases import Action
from domain.entries import (
    CaseRecord,
    CommandEntry,
    DutyEntry,
    IncidentEntry,
    LevelEntry,
    LiveFrame,
    Marker,
    PositionEntry,
    UpdateEntry,
    decode_case,
    decode_entry,
    decode_live,
    encode,
    entry_of,
)
from domain.model import Incident, Status

TS = 1790000000.125
GRID = "441900101002003"

# each entry kind as its writer stored it before the models: the dict, in the writer's order
STORED = [
    (PositionEntry, {"msg_id": "m-1", "ts": TS, "type": "position", "officer_id": "O000001",
                     "lat": 23.012345, "lon": 113.765432, "accuracy_m": 5.0, "battery": 80.0,
                     "grid": GRID}),
    (PositionEntry, {"msg_id": "m-2", "ts": TS, "type": "position", "officer_id": "O000001",
                     "lat": 23.0, "lon": 113.7, "accuracy_m": 0.0, "speed_mps": 1.5,
                     "heading_deg": 359.9, "battery": 0.0, "grid": GRID}),
    (DutyEntry, {"msg_id": "d-1", "ts": TS, "type": "duty", "officer_id": "O000001",
                 "on_duty": True}),
    (IncidentEntry, {"msg_id": "i-1", "ts": TS, "type": "incident", "incident_id": "I1",
                     "officer_id": "O000001", "lat": 23.01, "lon": 113.75, "category": "fire",
                     "title": "<b>楼道</b> \"x\"\n", "description": "", "severity": 0,
                     "grid": GRID}),
    (UpdateEntry, {"msg_id": "u-1", "ts": TS, "type": "incident_update", "incident_id": "I1",
                   "status": "dispatched", "note": "已派 \u2028 ok"}),
    (LevelEntry, {"type": "level", "incident_id": "I1", "level": "yellow", "ts": TS}),
    (CommandEntry, {"type": "command", "msg_id": "cmd-1", "incident_id": "I1",
                    "action": "assign", "by": "duty1", "ts": TS, "officer_id": "O000002"}),
    (CommandEntry, {"type": "command", "msg_id": "cmd-2", "incident_id": "I1",
                    "action": "note", "by": "duty1", "ts": TS, "note": "电话已联系"}),
    (CommandEntry, {"type": "command", "msg_id": "cmd-3", "incident_id": "I1",
                    "action": "escalate", "by": "", "ts": TS}),
]


@pytest.mark.parametrize(("kind", "fields"), STORED, ids=[f["msg_id"] if "msg_id" in f
                                                          else f["type"] for _, f in STORED])
def test_each_entry_round_trips_the_stored_bytes(kind, fields):
    stored = orjson.dumps(fields)
    entry = decode_entry(stored)
    assert type(entry) is kind
    assert encode(entry) == stored
    assert entry_of(fields) == entry
    assert msgspec.to_builtins(entry) == fields and list(msgspec.to_builtins(entry)) == list(fields)


def test_entries_carry_domain_enums():
    assert decode_entry(orjson.dumps(STORED[4][1])).status is Status.DISPATCHED
    assert decode_entry(orjson.dumps(STORED[5][1])).level is AlertLevel.YELLOW
    assert decode_entry(orjson.dumps(STORED[6][1])).action is Action.ASSIGN


def test_old_entries_without_the_optional_fields_still_decode():
    old = decode_entry(b'{"type":"incident","incident_id":"I9","ts":1790000000,"lat":23,'
                       b'"lon":113.7,"grid":"441900101002003","category":"fire","title":"t"}')
    assert (old.officer_id, old.description, old.severity, old.ts) == ("", "", 0, TS - 0.125)
    pos = decode_entry(b'{"type":"position","officer_id":"O1","ts":1,"lon":1,"lat":2,"grid":"g"}')
    assert (pos.msg_id, pos.battery, pos.lat) == ("", None, 2.0)


def test_unknown_kinds_are_none_and_malformed_entries_raise_value_errors():
    assert decode_entry(b'{"type":"attachment","msg_id":"a"}') is None
    assert decode_entry(b'{"ts":1}') is None
    for bad in (b'{"type":"position","ts":1}', b'{"type":"level","incident_id":"x",'
                b'"level":"purple","ts":1}', b"not json"):
        with pytest.raises(ValueError):
            decode_entry(bad)


def case_fields() -> dict:
    """A stored case as incident_to_json wrote it before CaseRecord (every field, in order)."""
    return {"incident_id": "I1", "category": "fire", "title": "t", "description": "d",
            "lat": 23.0, "lon": 113.7, "grid": GRID, "reported_ts": TS, "officer_id": "O1",
            "severity": 2, "status": "dispatched", "level": "red", "escalations": 1,
            "updated_ts": TS + 60, "assignee": "O2", "ack_ts": TS + 5,
            "dispatched_ts": TS + 30, "on_scene_ts": None, "resolved_ts": None,
            "closed_ts": None, "events": [{"ts": TS, "kind": "reported", "officer_id": "O1"},
                                          {"ts": TS, "kind": "level", "level": "red"}]}


def test_case_records_round_trip_stored_cases_and_incidents():
    stored = orjson.dumps(case_fields())
    record = decode_case(stored)
    assert encode(record) == stored
    inc = record.incident()
    assert isinstance(inc, Incident) and inc.status is Status.DISPATCHED and inc.town == "441900101"
    assert encode(CaseRecord.of(inc)) == stored
    short = decode_case(b'{"incident_id":"I2","category":"fire","title":"t","lat":1,"lon":2,'
                        b'"grid":"441900101002003","reported_ts":5}')
    assert short.incident().level is AlertLevel.GREEN and short.events == ()


def test_live_frames_round_trip_what_the_worker_published():
    marker = {"id": "I1", "lon": 113.7, "lat": 23.0, "level": "red", "category": "fire",
              "title": "t", "status": "reported", "reported_ts": TS, "grid": GRID,
              "assignee": "", "due_ts": None}
    frames = [
        {"ts": TS, "town": "441900101", "officers": [["O1", 113.7, 23.0, 1],
                                                    ["O2", None, None, 0]],
         "incidents": [marker], "cases": [case_fields()], "closed": ["I0"],
         "counts": {"441900101|red": 1}},
        {"ts": TS, "town": "441900101", "counts": {}},  # counts that became empty
        {"ts": TS, "town": "441900101", "closed": ["I0", "I1"]},
    ]
    for fields in frames:
        stored = orjson.dumps(fields)
        frame = decode_live(stored)
        assert isinstance(frame, LiveFrame) and encode(frame) == stored
    first = decode_live(orjson.dumps(frames[0]))
    assert isinstance(first.incidents[0], Marker) and first.incidents[0].level is AlertLevel.RED
    assert first.cases[0].status is Status.DISPATCHED
    assert decode_live(orjson.dumps(frames[1])).counts == {}
    assert decode_live(orjson.dumps(frames[2])).counts is None
