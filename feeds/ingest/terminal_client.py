"""A terminal-protocol client: sends message batches, waits for acks, retries on failure."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

log = logging.getLogger(__name__)


@dataclass
class TerminalClient:
    """One WebSocket terminal connection (a phone, or a forwarder for many officers)."""

    url: str
    token: str
    ws: ClientConnection | None = None
    acked: int = 0
    nacked: int = 0
    errors: list[str] = field(default_factory=list)
    reply_timeout_s: float = 30.0
    acked_ids: set[str] | None = None  # when a set: every acked msg_id is added to it
    resent: int = 0  # messages sent again after a failure
    given_up: int = 0  # messages never acked after every attempt

    async def open(self) -> None:
        """Connect (Bearer token in the Authorization header)."""
        self.ws = await connect(self.url, additional_headers={
            "Authorization": f"Bearer {self.token}"}, max_size=8 * 1024 * 1024,
            compression=None, open_timeout=10)

    async def close(self) -> None:
        """Close the connection."""
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def send(self, messages: Sequence[dict[str, Any]] | dict[str, Any]) -> Any:
        """Send one frame (an object or an array) and return the decoded reply."""
        if self.ws is None:
            await self.open()
        assert self.ws is not None
        await self.ws.send(orjson.dumps(messages).decode())
        return orjson.loads(await asyncio.wait_for(self.ws.recv(), self.reply_timeout_s))

    async def _drop(self) -> None:
        """Forget a failed connection (closing it without waiting for the peer)."""
        ws, self.ws = self.ws, None
        if ws is not None:
            ws.transport.abort()

    async def deliver(self, batch: Sequence[dict[str, Any]], attempts: int = 30,
                      stop: asyncio.Event | None = None) -> None:
        """Send a batch until every message is acked or refused: on a lost connection or a
        'retry later' answer, reconnect with back-off and resend the unacked ones (same
        msg_id, the gateway stores each once)."""
        todo = list(batch)
        delay = 0.5
        for attempt in range(attempts):
            if stop is not None and stop.is_set():
                break
            if attempt:
                self.resent += len(todo)
            try:
                replies = await self.send(todo)
            except (TimeoutError, OSError, ConnectionClosed, InvalidStatus) as e:
                log.warning("terminal connection failed (%s); retrying in %.1f s", e, delay)
                await self._drop()
                await pause(delay, stop)
                delay = min(delay * 2, 10.0)
                continue
            todo = self._tally(todo, replies)
            if not todo:
                return
            await pause(delay, stop)
            delay = min(delay * 2, 10.0)
        self.given_up += len(todo)
        if todo:
            log.error("gave up on %d messages", len(todo))

    def _tally(self, todo: list[dict[str, Any]], replies: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:
        """Count the answers to one frame; returns the messages to send again."""
        retry = []
        for msg, rep in zip(todo, replies, strict=True):
            if "ack" in rep:
                self.acked += 1
                if self.acked_ids is not None:
                    self.acked_ids.add(rep["ack"])
            elif "retry" in rep.get("error", ""):
                retry.append(msg)
            else:
                self.nacked += 1
                if len(self.errors) < 20:
                    self.errors.append(rep.get("error", "?"))
        return retry


async def pause(seconds: float, stop: asyncio.Event | None) -> None:
    """Sleep, but wake at once when `stop` is set."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Split a sequence into pieces of at most `size`."""
    return [items[i:i + size] for i in range(0, len(items), size)]


