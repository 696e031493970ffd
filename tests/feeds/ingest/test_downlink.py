"""The gateway's downlink core (no I/O): order, once per connection, backlog merged with what
the reader read meanwhile, officers kept apart; ack frames recognised."""
from __future__ import annotations

from feeds.ingest.downlink import Downlink, parse_acks
from feeds.live.tasks import Task, unacked

HOME = "441900101001001"


def task(n: int) -> Task:
    return Task(f"{1000 + n}-0", f'{{"n":{n}}}'.encode(), "441900101")


def ids(tasks: list[Task]) -> list[str]:
    return [t.entry_id for t in tasks]


def test_backlog_then_live_entries_in_order_and_once():
    d = Downlink()
    d.connect(1, "O1", HOME, "p1")
    assert d.cursors() == {}  # not read until its backlog is in
    assert ids(d.backlog(1, [task(1), task(2)], "1002-0")) == ["1001-0", "1002-0"]
    [(link, fresh)] = d.entries("tasks:{441900101}:O1", [task(2), task(3)])
    assert link.conn == 1 and ids(fresh) == ["1003-0"]
    assert d.cursors() == {"tasks:{441900101}:O1": "1003-0"}


def test_what_the_reader_reads_during_a_backlog_read_is_merged_in_order():
    d = Downlink()
    d.connect(1, "O1", HOME, "p1")
    d.backlog(1, [], None)
    d.connect(2, "O1", HOME, "p2")  # a second phone: its backlog is being read
    out = d.entries("tasks:{441900101}:O1", [task(3)])
    assert [(link.conn, ids(f)) for link, f in out] == [(1, ["1003-0"])]
    assert ids(d.backlog(2, [task(1), task(3)], "1002-0")) == ["1001-0", "1003-0"]
    assert d.cursors()["tasks:{441900101}:O1"] == "1003-0"  # not moved back


def test_other_officers_and_closed_connections_get_nothing():
    d = Downlink()
    d.connect(1, "O1", HOME, "p1")
    d.backlog(1, [], "1000-0")
    d.connect(2, "O2", HOME, "p2")
    d.backlog(2, [], None)
    out = d.entries("tasks:{441900101}:O1", [task(1)])
    assert [link.conn for link, _ in out] == [1]
    d.disconnect(1)
    assert d.entries("tasks:{441900101}:O1", [task(2)]) == []
    assert list(d.cursors()) == ["tasks:{441900101}:O2"]


def test_unacked_skips_the_acked_prefix_and_out_of_order_acks():
    tasks = [task(1), task(2), task(3), task(4)]
    assert ids(unacked(tasks, {b"pos": b"1001-0", b"1003-0": b"1"})) == ["1002-0", "1004-0"]
    assert ids(unacked(tasks, {})) == ids(tasks)


def test_ack_frames():
    assert parse_acks({"ack": "t1"}) == ["t1"]
    assert parse_acks([{"ack": "t1"}, {"ack": 5}]) == ["t1", None]
    assert parse_acks({"type": "position", "ack": "x"}) is None
    assert parse_acks([{"ack": "t1"}, {"type": "duty"}]) is None
