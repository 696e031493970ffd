"""Properties of terminal protocol v1 decoding over generated input (hypothesis), no Redis."""
from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeds.ingest.protocol import MAX_BATCH, Message, Refused, decode, decode_one
from tests.feeds.ingest.strategies import NOW, broken_messages, json_values, valid_messages

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_REASON = 1000


def check_refusal(r: Any) -> None:
    """A refusal carries a short non-empty reason and a msg_id that is a string or None."""
    assert isinstance(r, Refused)
    assert isinstance(r.reason, str) and r.reason.strip()
    assert len(r.reason) <= MAX_REASON, r.reason[:200]
    assert r.msg_id is None or (isinstance(r.msg_id, str) and r.msg_id)


def check_items(items: list[Message | Refused]) -> None:
    assert items
    for it in items:
        if isinstance(it, Refused):
            check_refusal(it)
        else:
            assert isinstance(it, Message.__args__)  # type: ignore[attr-defined]


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(frame: bytes):
    items, _ = decode(frame, NOW)
    check_items(items)


@FAST
@given(json_values)
def test_arbitrary_json_values_never_raise(value: Any):
    items, is_batch = decode(orjson.dumps(value), NOW)
    check_items(items)
    assert is_batch == isinstance(value, list)
    if isinstance(value, list) and 0 < len(value) <= MAX_BATCH:
        assert len(items) == len(value)


@FAST
@given(json_values | st.integers() | st.floats() | st.dictionaries(
    st.sampled_from(["type", "msg_id", "ts", "lat", "lon", "officer_id"]),
    json_values | st.integers(min_value=2**70)))
def test_decode_one_of_any_python_value_never_raises(value: Any):
    """Also values orjson never produces: huge ints, NaN, infinities."""
    out = decode_one(value, NOW)
    if isinstance(out, Refused):
        check_refusal(out)


@FAST
@given(broken_messages())
def test_near_valid_messages_are_refused_naming_the_field(case: tuple[dict[str, Any], str]):
    obj, field = case
    [r], _ = decode(orjson.dumps(obj), NOW)
    check_refusal(r)
    assert field in r.reason, (field, r.reason)
    want = obj.get("msg_id")
    assert r.msg_id == (want if isinstance(want, str) and want else None)


@FAST
@given(st.lists(valid_messages, min_size=1, max_size=20))
def test_valid_messages_round_trip(msgs: list[dict[str, Any]]):
    items, is_batch = decode(orjson.dumps(msgs), NOW)
    assert is_batch and len(items) == len(msgs)
    for want, got in zip(msgs, items, strict=True):
        assert not isinstance(got, Refused), got.reason
        dumped = got.model_dump(mode="json")
        for k, v in want.items():
            if isinstance(v, float):
                assert math.isclose(dumped[k], v, rel_tol=0, abs_tol=1e-9), k
            else:
                assert dumped[k] == v, k
        again, _ = decode(orjson.dumps(dumped), NOW)
        assert again == [got]


@settings(max_examples=20, deadline=None)
@given(st.integers(MAX_BATCH + 1, MAX_BATCH + 50))
def test_oversized_batch_is_one_refusal(n: int):
    [r], is_batch = decode(orjson.dumps([{}] * n), NOW)
    check_refusal(r)
    assert is_batch and str(MAX_BATCH) in r.reason


def test_huge_unknown_type_gives_a_short_reason():
    [r], _ = decode(orjson.dumps({"type": "x" * 1_000_000, "msg_id": "m"}), NOW)
    check_refusal(r)
    assert "unknown message type" in r.reason


def test_huge_integer_time_is_refused_not_raised():
    r = decode_one({"type": "duty", "msg_id": "m", "officer_id": "o", "ts": 10**400,
                    "on_duty": True}, NOW)
    check_refusal(r)
    assert "ts" in r.reason
