"""The placer's typed entries store the bytes the model dumps stored before (no Redis)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.entries import decode_entry, encode
from domain.model import Officer, Placement
from feeds.ingest.placement import Placer, Routed
from feeds.ingest.protocol import (
    DutyMsg,
    IncidentMsg,
    IncidentUpdateMsg,
    PositionMsg,
    decode_one,
    quick_position,
)
from tests.feeds.ingest.strategies import NOW, valid_messages

GRID = "441900101002003"


class AnyOfficer(Mapping[str, Officer]):
    """Every officer id is a known officer of GRID."""

    def __getitem__(self, key: str) -> Officer:
        return Officer(key, key, GRID)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def placer() -> Placer:
    return Placer(locate=lambda lon, lat: Placement(GRID[:9], GRID[:12], GRID),
                  to_datum=lambda lon, lat: (lon * 0.999 + 0.0011, lat * 0.999 - 0.0007),
                  officers=AnyOfficer(), categories=frozenset({"fire", "dispute", "food_drug"}),
                  incident_town=lambda iid: GRID[:9])


def model_body(msg: Any, p: Placer) -> dict[str, Any]:
    """What the placer stored before the entry models: the pydantic dump, placed."""
    if isinstance(msg, IncidentUpdateMsg):
        return msg.model_dump(mode="json")
    if isinstance(msg, DutyMsg):
        return msg.model_dump()
    body = msg.model_dump(exclude_none=True) if isinstance(msg, PositionMsg) else msg.model_dump()
    lon, lat = p.to_datum(msg.lon, msg.lat)
    body.update(lon=round(lon, 6), lat=round(lat, 6), grid=GRID)
    return body


optional = st.fixed_dictionaries({}, optional={
    "accuracy_m": st.floats(0, 100_000) | st.integers(0, 100_000),
    "speed_mps": st.floats(0, 200), "heading_deg": st.floats(0, 360),
    "battery": st.floats(0, 100) | st.integers(0, 100), "description": st.text(max_size=40),
    "note": st.text(max_size=40)})


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(valid_messages, optional)
def test_routed_entries_store_the_model_dumps_bytes(msg, extra):
    kind = msg["type"]
    allowed = {"position": ("accuracy_m", "speed_mps", "heading_deg", "battery"),
               "incident": ("description",), "incident_update": ("note",)}.get(kind, ())
    msg = {**msg, **{k: v for k, v in extra.items() if k in allowed}}
    p = placer()
    decoded = decode_one(msg, NOW)
    assert isinstance(decoded, PositionMsg | IncidentMsg | IncidentUpdateMsg | DutyMsg)
    routed = p.route(decoded)
    assert isinstance(routed, Routed)
    stored = orjson.dumps(model_body(decoded, p))
    assert encode(routed.entry) == stored
    assert encode(decode_entry(stored)) == stored  # and the worker reads it back whole
    quick = quick_position(msg, NOW)
    if quick is not None:
        [fast] = p.route_quick([quick])
        assert fast is not None and encode(fast.entry) == stored
