"""The gateway's answer counters: one increment per label and frame, the same totals."""
from __future__ import annotations

from prometheus_client import REGISTRY

from domain.entries import PositionEntry
from feeds.ingest.attachments import Taken
from feeds.ingest.placement import Routed
from feeds.ingest.protocol import Refused
from feeds.ops.metrics import count_answers


def sample(name: str, **labels: str) -> float:
    """A counter's value now (0 before its first increment)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_mixed_frame_is_counted_by_stream_and_by_reason() -> None:
    entry = PositionEntry(msg_id="p", ts=1.0, type="position", officer_id="O1", lat=23.0,
                          lon=113.7, grid="441900101001001")
    names = [("gridwatch_positions_acked_total", {}),
             ("gridwatch_messages_acked_total", {"stream": "pos"}),
             ("gridwatch_messages_acked_total", {"stream": "inc"}),
             ("gridwatch_messages_acked_total", {"stream": "attachment"}),
             ("gridwatch_messages_refused_total", {"reason": "lat/lon"}),
             ("gridwatch_messages_refused_total", {"reason": "frame"})]
    count_answers([])  # makes the counters
    before = [sample(n, **lb) for n, lb in names]
    frame = [Routed(f"p{i}", "pos:{441900101}", f"seen:{{441900101}}:p{i}", entry)
             for i in range(5)]
    frame += [Routed("c", "inc:{441900101}", "seen:{441900101}:c", entry), Taken("t"),
              Refused("x", "lat/lon: outside every grid of the city", {}),
              Refused("y", "lat/lon: outside every grid of the city", {}),
              Refused(None, "frame is not JSON: unexpected character", "")]
    count_answers(frame)
    after = [sample(n, **lb) for n, lb in names]
    assert [b - a for a, b in zip(before, after, strict=True)] == [5, 5, 1, 1, 2, 1]
