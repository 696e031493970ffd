"""Log lines: ISO 8601 with the zone first in text, one parseable object a line in JSON."""
from __future__ import annotations

import logging
from datetime import datetime

import orjson

from feeds.ops.logs import JsonFormatter, TextFormatter
from feeds.ops.metrics import refusal_reason


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    r = logging.getLogger("feeds.test").makeRecord("feeds.test", logging.WARNING, __file__, 1,
                                                   msg, args, None, extra=extra)
    return r


def test_text_line_starts_with_an_iso_date_time_and_zone():
    line = TextFormatter("gateway").format(record("lost %d", 3))
    stamp, rest = line.split(" ", 1)
    assert datetime.fromisoformat(stamp).tzinfo is not None
    assert rest == "WARNING [gateway] feeds.test: lost 3"


def test_json_line_has_the_fields_and_the_extras():
    out = orjson.loads(JsonFormatter("worker").format(record("took %s", "x", town="441900003")))
    assert out["level"] == "WARNING" and out["component"] == "worker"
    assert out["logger"] == "feeds.test" and out["message"] == "took x"
    assert out["town"] == "441900003"
    assert datetime.fromisoformat(out["time"]).tzinfo is not None


def test_refusal_reasons_are_a_few_labels_not_free_text():
    assert refusal_reason("officer_id: unknown officer 'X9'") == "officer_id"
    assert refusal_reason("lat/lon: outside every grid of the city") == "lat/lon"
    assert refusal_reason("frame is not JSON: bad") == "frame"
    assert refusal_reason("batch of 600 exceeds 500") == "frame"
    assert refusal_reason("message must be a JSON object") == "message"
