"""The gateway's downlink core (sans I/O): which terminal connection gets which task of its
officer's stream, in stream order and once per connection; the adapter reads and sends."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from feeds.live.tasks import Task, entry_key, task_keys


@dataclass
class Link:
    """One connected terminal (a device token of one officer)."""

    conn: int
    officer: str
    device: str
    ready: bool = False  # its backlog has been read and queued
    sent: set[str] = field(default_factory=set)  # entry ids queued to it
    held: list[Task] = field(default_factory=list)  # read while its backlog was being read


@dataclass
class Feed:
    """An officer's task stream as this gateway reads it, and the officer's connections."""

    home: str  # the officer's home grid
    stream: str
    cursor: str | None = None  # last entry id read (None: no backlog read yet)
    links: dict[int, Link] = field(default_factory=dict)


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if entry_key(a) >= entry_key(b) else b


@dataclass
class Downlink:
    """Connections by officer and what each has been sent. The adapter calls connect() when a
    terminal connects, backlog() with its officer's unacknowledged tasks, entries() with what
    the reader read; each returns the tasks to queue to each connection, in order."""

    feeds: dict[str, Feed] = field(default_factory=dict)  # by officer
    links: dict[int, Link] = field(default_factory=dict)
    _by_stream: dict[str, str] = field(default_factory=dict)  # stream → officer

    def connect(self, conn: int, officer: str, home: str, device: str) -> Link:
        """A terminal of `officer` (home grid `home`) connected; its backlog is to be read."""
        feed = self.feeds.get(officer)
        if feed is None:
            stream, _ = task_keys(home, officer)
            feed = self.feeds[officer] = Feed(home, stream)
            self._by_stream[stream] = officer
        link = Link(conn, officer, device)
        feed.links[conn] = link
        self.links[conn] = link
        return link

    def backlog(self, conn: int, pending: Iterable[Task], last_id: str | None) -> list[Task]:
        """The connection's unacknowledged tasks (read after connect()) and the stream's last
        entry id then: what to queue to it now, merged in order with what the reader read
        meanwhile. The reader goes on from the later of its cursor and `last_id`."""
        link = self.links.get(conn)
        if link is None:
            return []
        feed = self.feeds[link.officer]
        feed.cursor = _later(feed.cursor, last_id) or "0-0"
        merged = {t.entry_id: t for t in (*pending, *link.held)}
        link.held.clear()
        link.ready = True
        return self._fresh(link, sorted(merged.values(), key=lambda t: entry_key(t.entry_id)))

    def entries(self, stream: str, tasks: list[Task]) -> list[tuple[Link, list[Task]]]:
        """New entries the reader read from a stream: what to queue to which connection."""
        officer = self._by_stream.get(stream)
        if officer is None or not tasks:
            return []
        feed = self.feeds[officer]
        feed.cursor = _later(feed.cursor, tasks[-1].entry_id)
        out = []
        for link in feed.links.values():
            if not link.ready:
                link.held.extend(tasks)
                continue
            fresh = self._fresh(link, tasks)
            if fresh:
                out.append((link, fresh))
        return out

    @staticmethod
    def _fresh(link: Link, tasks: Iterable[Task]) -> list[Task]:
        out = [t for t in tasks if t.entry_id not in link.sent]
        link.sent.update(t.entry_id for t in out)
        return out

    def disconnect(self, conn: int) -> None:
        """A connection closed; an officer without connections is no longer read."""
        link = self.links.pop(conn, None)
        if link is None:
            return
        feed = self.feeds[link.officer]
        feed.links.pop(conn, None)
        if not feed.links:
            del self.feeds[link.officer]
            self._by_stream.pop(feed.stream, None)

    def cursors(self) -> dict[str, str]:
        """The streams to read and where from (officers whose backlog is in)."""
        return {f.stream: f.cursor for f in self.feeds.values() if f.cursor is not None}


def parse_acks(value: Any) -> list[str | None] | None:
    """The msg_ids of an ack frame's JSON value (`{"ack": id}` or an array of them), None
    for a frame that is no ack frame; an ack whose msg_id is not a string gives None."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, dict) and "ack" in v and "type" not in v
                            for v in items):
        return None
    return [v["ack"] if isinstance(v["ack"], str) and 0 < len(v["ack"]) <= 200 else None
            for v in items]
