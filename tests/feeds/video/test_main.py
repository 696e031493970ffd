"""The capture worker's health rounds: idle cameras are written only on a full round or when
a probe changed them; cameras being read every round, and once more when they stop."""
from __future__ import annotations

from types import SimpleNamespace

from feeds.video.main import report_ids


def feed(read: bool = False, error: str = "", answered: float | None = 100.0):
    return SimpleNamespace(task=object() if read else None, error=error, answered=answered)


def test_idle_cameras_wait_for_a_full_round_unless_a_probe_or_a_reader_changed_them():
    feeds = {"a": feed(), "b": feed(), "c": feed(read=True)}
    written: dict = {}
    assert report_ids(feeds, written, full=True) == ["a", "b", "c"]
    assert report_ids(feeds, written, full=False) == ["c"]  # only the one being read
    feeds["b"].answered = 130.0  # its probe answered again
    feeds["c"].task = None  # nobody watches it any more: its report must say so
    assert report_ids(feeds, written, full=False) == ["b", "c"]
    assert report_ids(feeds, written, full=False) == []  # 2,958 idle cameras: nothing to write
    feeds["a"].error = "ConnectionRefusedError"
    assert report_ids(feeds, written, full=False) == ["a"]
    assert report_ids(feeds, written, full=True) == ["a", "b", "c"]
