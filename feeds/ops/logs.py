"""Log lines: an ISO 8601 date-time with its zone first, or one JSON object a line."""
from __future__ import annotations

import logging
import sys
from datetime import datetime
from typing import Any

import orjson

# LogRecord's own attributes; anything else on a record is an `extra` field
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def iso_time(record: logging.LogRecord) -> str:
    """The record's time, ISO 8601 in local time with its UTC offset (milliseconds)."""
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """`2026-12-02T15:07:30.123+00:00 INFO    [web] logger: message`."""

    def __init__(self, component: str):
        super().__init__(f"%(asctime)s %(levelname)-7s [{component}] %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """ISO 8601 with the zone."""
        return iso_time(record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, component, logger, message and extra fields."""

    def __init__(self, component: str):
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        out: dict[str, Any] = {"time": iso_time(record), "level": record.levelname,
                               "component": self.component, "logger": record.name,
                               "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items()
                    if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def setup_logging(component: str, fmt: str = "text", level: int = logging.INFO) -> None:
    """Send every log line of this process to stderr in `fmt` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(component) if fmt == "json" else TextFormatter(component))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("websockets").setLevel(logging.WARNING)
