"""Hypothesis strategies for terminal protocol v1: valid messages, near-valid ones, junk."""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NOW = 1_790_000_000.0
IDENT = st.from_regex(r"[A-Za-z0-9_.:\-]{1,40}", fullmatch=True)
STATUSES = ("reported", "acknowledged", "dispatched", "on_scene", "resolved", "closed")
REQUIRED = {
    "position": ("msg_id", "officer_id", "ts", "lat", "lon"),
    "incident": ("msg_id", "incident_id", "officer_id", "ts", "lat", "lon", "category", "title"),
    "incident_update": ("msg_id", "incident_id", "ts", "status"),
    "duty": ("msg_id", "officer_id", "ts", "on_duty"),
}
KNOWN_FIELDS = {"type", "msg_id", "officer_id", "incident_id", "ts", "lat", "lon", "category",
                "title", "description", "severity", "status", "note", "on_duty", "accuracy_m",
                "speed_mps", "heading_deg", "battery"}

json_scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12)

_ts = st.floats(1_000_000_000.0, NOW) | st.floats(1_000_000_000.0, NOW).map(int)
_lat = st.floats(-90, 90)
_lon = st.floats(-180, 180)
_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60)


def _msg(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"type": st.just(kind), "msg_id": IDENT, "ts": _ts, **fields})


valid_messages = st.one_of(
    _msg("position", officer_id=IDENT, lat=_lat, lon=_lon),
    _msg("incident", incident_id=IDENT, officer_id=IDENT, lat=_lat, lon=_lon,
         category=st.sampled_from(["fire", "dispute", "food_drug"]), title=_text,
         severity=st.integers(0, 3)),
    _msg("incident_update", incident_id=IDENT, status=st.sampled_from(STATUSES)),
    _msg("duty", officer_id=IDENT, on_duty=st.booleans()),
)


@st.composite
def broken_messages(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    """A valid message spoilt in one way that makes it invalid, and the field it names."""
    msg = dict(draw(valid_messages))
    kind = msg["type"]
    how = draw(st.sampled_from(["drop", "extra", "lat", "ts", "msg_id", "type", "wrong_type"]))
    if how == "drop":
        field = draw(st.sampled_from([f for f in REQUIRED[kind] if f != "msg_id"]))
        del msg[field]
        return msg, field
    if how == "extra":
        field = draw(st.from_regex(r"[a-z]{2,12}", fullmatch=True).filter(
            lambda k: k not in KNOWN_FIELDS))
        msg[field] = draw(json_values)
        return msg, field
    if how == "lat" and "lat" in msg:
        msg["lat"] = draw(st.floats(90.001, 1e12) | st.floats(-1e12, -90.001))
        return msg, "lat"
    if how == "ts":
        msg["ts"] = draw(st.sampled_from(["yesterday", "2026-09-21T10:00:00", -5, NOW + 86400]))
        return msg, "ts"
    if how == "msg_id":
        msg["msg_id"] = draw(st.sampled_from(["", "a b", "x" * 129, "<script>"]))
        return msg, "msg_id"
    if how == "type":
        msg["type"] = draw(json_values.filter(lambda v: v not in tuple(REQUIRED)))
        return msg, "type"
    field = draw(st.sampled_from([f for f in REQUIRED[kind] if f not in ("msg_id", "ts")]))
    msg[field] = draw(st.sampled_from([None, [], {}, {"x": 1}]))
    return msg, field
