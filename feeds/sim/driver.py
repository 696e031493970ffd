"""Drives the demo simulator in real time through the gateway over terminal connections."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from feeds.ingest.terminal_client import TerminalClient, chunks, pause
from feeds.sim.simulator import Simulator

log = logging.getLogger(__name__)


Refresh = Callable[[float], Awaitable[None]]


async def run_simulator(sim: Simulator, url: str, token: str, stop: asyncio.Event,
                        connections: int = 8, tick_s: float = 1.0, batch: int = 500,
                        refresh: Refresh | None = None, refresh_s: float = 2.0) -> None:
    """Drive a simulator in real time over `connections` terminal connections; `refresh`
    (every `refresh_s`) tells it the officers' tasks and which officers real devices hold."""
    clients = [TerminalClient(url, token) for _ in range(connections)]
    last = time.time()
    refreshed = 0.0
    sent = 0
    while not stop.is_set():
        now = time.time()
        if refresh is not None and now - refreshed >= refresh_s:
            refreshed = now
            await refresh(now)
        msgs = sim.tick(now, now - last)
        last = now
        parts = chunks(msgs, batch)
        jobs = [clients[i % connections].deliver(p, stop=stop) for i, p in enumerate(parts)]
        await _gather_by_client(jobs, connections)
        sent += len(msgs)
        if sent and sent % 50_000 < len(msgs):
            log.info("simulator: %d messages sent, %d acked, %d refused %s", sent,
                     sum(c.acked for c in clients), sum(c.nacked for c in clients),
                     clients[0].errors[-1:] if clients[0].errors else "")
        await pause(max(0.0, tick_s - (time.time() - now)), stop)
    for c in clients:
        await c.close()


async def _gather_by_client(jobs: list[Any], connections: int) -> None:
    """Run deliveries so that each connection has one frame in flight at a time."""
    lanes = [jobs[i::connections] for i in range(connections)]

    async def lane(js: list[Any]) -> None:
        for j in js:
            await j

    await asyncio.gather(*(lane(js) for js in lanes))
