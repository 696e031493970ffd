"""The gateway's downlink adapter: one reader task per gateway process reads the task streams
of the officers connected here (one XREAD for all), a writer task per connection sends."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
from redis.exceptions import RedisError

from domain.model import Officer
from feeds.ingest.downlink import Downlink, Link, parse_acks
from feeds.live import tasks as task_store
from feeds.live.tasks import Task, parse_entries
from feeds.store import slotread

log = logging.getLogger(__name__)

READ_BLOCK_MS = 500  # a newly connected officer's stream joins the read within this
READ_COUNT = 200


class DownlinkHub:
    """Connections of device tokens, their outboxes and the stream reader."""

    def __init__(self, client: Any, officers: Mapping[str, Officer],
                 block_ms: int = READ_BLOCK_MS):
        self.client = client
        self.officers = officers
        self.block_ms = block_ms
        self.core = Downlink()
        self.outboxes: dict[int, asyncio.Queue[Task]] = {}
        self.writers: dict[int, asyncio.Task[None]] = {}
        self._ids = itertools.count(1)
        self._watch = asyncio.Event()  # set when a stream joins the read
        self.stats = {"sent": 0, "acked": 0, "nacked": 0}

    async def attach(self, ws: Any, officer: str, device: str) -> int | None:
        """Start the downlink of a connection of `officer`'s device: queue its backlog."""
        rec = self.officers.get(officer)
        if rec is None:
            return None
        conn = next(self._ids)
        link = self.core.connect(conn, officer, rec.grid, device)
        self.outboxes[conn] = asyncio.Queue()
        self.writers[conn] = asyncio.create_task(self._writer(ws, link, self.outboxes[conn]))
        try:
            pending, last = await task_store.aread_backlog(self.client, rec.grid, officer)
        except RedisError as e:  # the terminal still reports; its tasks come on reconnect
            log.warning("task backlog of %s unreadable: %s", officer, e)
            pending, last = [], None
        self._queue(link, self.core.backlog(conn, pending, last))
        self._watch.set()
        return conn

    async def detach(self, conn: int | None) -> None:
        """The connection closed: stop its writer, forget it."""
        if conn is None:
            return
        self.core.disconnect(conn)
        self.outboxes.pop(conn, None)
        writer = self.writers.pop(conn, None)
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def _queue(self, link: Link, tasks: list[Task]) -> None:
        box = self.outboxes.get(link.conn)
        if box is not None:
            for t in tasks:
                box.put_nowait(t)

    async def _writer(self, ws: Any, link: Link, box: asyncio.Queue[Task]) -> None:
        """Send queued tasks in order; record their delivery on the cases."""
        while True:
            batch = [await box.get()]
            while not box.empty():
                batch.append(box.get_nowait())
            for t in batch:
                await ws.send(t.raw.decode())
            self.stats["sent"] += len(batch)
            try:
                await task_store.amark_delivered(self.client, batch, link.officer, link.device)
            except RedisError as e:
                log.warning("delivery of %d tasks to %s not recorded: %s", len(batch),
                            link.device, e)

    async def acks(self, conn: int | None, frame: str | bytes, value: Any) -> list[dict[str, Any]]:
        """Apply an ack frame's acks; the nacks to answer (a good ack gets no answer)."""
        ids = parse_acks(value) or []
        link = self.core.links.get(conn) if conn is not None else None
        if link is None:
            return self._nacks([(i, "ack: this connection has no device token; it gets no "
                                    "tasks") for i in ids])
        rec = self.officers[link.officer]
        bad = []
        for msg_id in ids:
            if msg_id is None:
                bad.append((None, "ack: must be the msg_id (a string) of a task"))
                continue
            try:
                res = await task_store.aack_task(self.client, rec.grid, link.officer, msg_id,
                                                 link.device, time.time())
            except RedisError as e:
                log.warning("ack %s of %s failed: %s", msg_id, link.device, e)
                bad.append((msg_id, "store unavailable, retry later"))
                continue
            if res.state == "unknown":
                bad.append((msg_id, f"ack: no task {msg_id!r} for {link.officer}"))
            else:
                self.stats["acked"] += 1
        return self._nacks(bad)

    def _nacks(self, bad: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
        self.stats["nacked"] += len(bad)
        return [{"nack": i, "error": reason} for i, reason in bad]

    async def run(self, stop: asyncio.Event) -> None:
        """Read the connected officers' task streams and queue what arrives, until `stop`."""
        while not stop.is_set():
            cursors = self.core.cursors()
            if not cursors:
                self._watch.clear()
                await _wait_any(stop, self._watch, 1.0)
                continue
            try:
                resp = await slotread.xread(self.client, cursors, READ_COUNT, self.block_ms)
            except RedisError as e:
                log.warning("task streams unreadable (%s); again in 1 s", e)
                await _wait_any(stop, stop, 1.0)
                continue
            self.deliver(resp)

    def deliver(self, resp: list[Any]) -> None:
        """Queue what one XREAD returned to the connections it is for."""
        for stream, entries in resp or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            for link, fresh in self.core.entries(name, parse_entries(entries)):
                self._queue(link, fresh)


async def _wait_any(stop: asyncio.Event, other: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(other.wait())]
    await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()


def is_ack_frame(frame: str | bytes) -> Any:
    """The JSON value of a frame of acks, or None (a cheap look first: most frames are not)."""
    head = frame[:200]
    if (b'"ack"' not in head) if isinstance(head, bytes) else ('"ack"' not in head):
        return None
    try:
        value = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    return value if parse_acks(value) is not None else None
