"""Terminal protocol v1 decoding, without Redis."""
from __future__ import annotations

import orjson

from feeds.ingest.protocol import IncidentMsg, PositionMsg, Refused, decode

NOW = 1_790_000_000.0


def pos(**kw) -> dict:
    return {"type": "position", "msg_id": "m1", "officer_id": "O1", "ts": NOW, "lat": 23.0,
            "lon": 113.7, **kw}


def test_single_object_and_iso_time():
    [msg], batch = decode(orjson.dumps(pos(ts="2026-09-21T10:00:00+08:00")), NOW)
    assert isinstance(msg, PositionMsg) and not batch
    assert msg.ts == 1789956000.0  # date -u -d 2026-09-21T02:00:00Z +%s


def test_every_refusal_names_the_field_and_reason():
    cases = {
        "lat": pos(lat=91), "lon": pos(lon="east"), "ts": pos(ts="yesterday"),
        "msg_id": pos(msg_id=""), "battery": pos(battery=101),
        "officer_id": {k: v for k, v in pos().items() if k != "officer_id"},
        "colour": pos(colour="red"),
    }
    for field, obj in cases.items():
        [r], _ = decode(orjson.dumps(obj), NOW)
        assert isinstance(r, Refused), field
        assert field in r.reason, (field, r.reason)


def test_future_time_naive_iso_and_unknown_type_are_refused():
    [r1], _ = decode(orjson.dumps(pos(ts=NOW + 3600)), NOW)
    [r2], _ = decode(orjson.dumps(pos(ts="2026-09-21T10:00:00")), NOW)
    [r3], _ = decode(orjson.dumps({"type": "selfie", "msg_id": "x"}), NOW)
    assert "future" in r1.reason and "zone" in r2.reason and "unknown message type" in r3.reason
    assert r3.msg_id == "x"


def test_batch_keeps_order_and_isolates_bad_items():
    inc = {"type": "incident", "msg_id": "i", "incident_id": "I1", "officer_id": "O1", "ts": NOW,
           "lat": 23, "lon": 113.7, "category": "fire", "title": "<script>x</script>"}
    items, batch = decode(orjson.dumps([pos(), "nope", inc]), NOW)
    assert batch
    assert isinstance(items[0], PositionMsg)
    assert isinstance(items[1], Refused) and "JSON object" in items[1].reason
    assert isinstance(items[2], IncidentMsg) and items[2].title == "<script>x</script>"


def test_not_json_and_empty_batch():
    [r], batch = decode(b"\xff\xfe", NOW)
    assert isinstance(r, Refused) and r.msg_id is None and "not JSON" in r.reason
    [r], batch = decode(b"[]", NOW)
    assert "empty batch" in r.reason
