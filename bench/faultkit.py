"""Parts of the fault benchmark: restartable component processes, a load driver that records
every msg_id sent and acked, and the final count of what Redis holds."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis

from feeds.ingest.terminal_client import TerminalClient, chunks, pause
from feeds.sim.simulator import Simulator
from feeds.store import keys
from feeds.store.embedded import wait_port

log = logging.getLogger(__name__)


@dataclass
class Child:
    """One component process (`python -m gridwatch.cli run NAME`), restartable."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_dir: Path
    port: int | None = None
    proc: subprocess.Popen | None = None
    starts: int = 0

    def start(self, timeout: float = 90.0) -> None:
        """Start the process (output appended to its log) and wait for its port."""
        self.starts += 1
        with open(self.log_dir / f"{self.name}.log", "ab") as out:
            self.proc = subprocess.Popen(self.args, env=self.env, stdout=out,
                                         stderr=subprocess.STDOUT)
        if self.port:
            wait_port(self.port, timeout)

    def kill(self) -> None:
        """SIGKILL the process by its PID, as a crash would, and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """SIGTERM by PID; SIGKILL if it does not stop in 20 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()

    def with_env(self, **env: str) -> None:
        """Change the environment of the next start."""
        self.env = dict(self.env, **env)


@dataclass
class Tally:
    """Counters of the driver at one moment."""

    sent: int = 0
    acked: int = 0
    resent: int = 0
    given_up: int = 0

    def minus(self, other: Tally) -> Tally:
        """The difference of two tallies."""
        return Tally(self.sent - other.sent, self.acked - other.acked,
                     self.resent - other.resent, self.given_up - other.given_up)


@dataclass
class Driver:
    """Drives a simulator over terminal connections, remembering every message sent and
    every msg_id acked (the clients resend unacked messages themselves)."""

    sim: Simulator
    url: str
    token: str
    connections: int = 8
    batch: int = 500
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # msg_id → message
    phase_of: dict[str, str] = field(default_factory=dict)
    acked_ids: set[str] = field(default_factory=set)
    phase: str = "start"

    def __post_init__(self) -> None:
        self.clients = [TerminalClient(self.url, self.token, acked_ids=self.acked_ids)
                        for _ in range(self.connections)]

    def tally(self) -> Tally:
        """The counters now."""
        return Tally(len(self.sent), len(self.acked_ids), sum(c.resent for c in self.clients),
                     sum(c.given_up for c in self.clients))

    async def run(self, stop: asyncio.Event, tick_s: float = 1.0) -> None:
        """Send what the simulator makes each tick until `stop`; one frame in flight per
        connection; a tick that waits for a recovering gateway delays the next."""
        last = time.time()
        while not stop.is_set():
            now = time.time()
            msgs = self.sim.tick(now, now - last)
            last = now
            for m in msgs:
                self.sent[m["msg_id"]] = m
                self.phase_of[m["msg_id"]] = self.phase
            parts = chunks(msgs, self.batch)
            lanes = [parts[i::self.connections] for i in range(self.connections)]
            await asyncio.gather(*(self._lane(c, ps) for c, ps in zip(self.clients, lanes,
                                                                      strict=True)))
            await pause(max(0.0, tick_s - (time.time() - now)), stop)
        for c in self.clients:
            await c.close()

    @staticmethod
    async def _lane(client: TerminalClient, parts: list[Any]) -> None:
        for p in parts:
            await client.deliver(p, attempts=60)


def input_streams(towns: list[str]) -> list[str]:
    """The gateway's input streams of the towns."""
    return [keys.positions(t) for t in towns] + [keys.incidents_in(t) for t in towns]


def stored_ids(client: redis.Redis, streams: list[str], page: int = 10_000) -> Counter[str]:
    """How many times each msg_id occurs in the input streams."""
    seen: Counter[str] = Counter()
    for s in streams:
        start = "-"
        while True:
            items = client.xrange(s, min=start, count=page)
            for _eid, f in items:
                msg_id = orjson.loads(f[b"m"]).get("msg_id")
                if msg_id:
                    seen[msg_id] += 1
            if len(items) < page:
                break
            start = "(" + items[-1][0].decode()
    return seen


def caught_up(client: redis.Redis, streams: list[str]) -> bool:
    """Whether the worker group has read and acked every entry of every stream."""
    pipe = client.pipeline(transaction=False)
    for s in streams:
        pipe.xinfo_stream(s)
        pipe.xinfo_groups(s)
    res = pipe.execute()
    for info, groups in zip(res[::2], res[1::2], strict=True):
        group = next((g for g in groups if g["name"] == keys.WORKER_GROUP.encode()), None)
        if info["length"] and (group is None or group["pending"]
                               or group["last-delivered-id"] != info["last-generated-id"]):
            return False
    return True


def consumer_pending(client: redis.Redis, streams: list[str]) -> dict[str, int]:
    """Pending entries per consumer of the worker group, over all streams."""
    out: Counter[str] = Counter()
    pipe = client.pipeline(transaction=False)
    for s in streams:
        pipe.xinfo_consumers(s, keys.WORKER_GROUP)
    for consumers in pipe.execute():
        for c in consumers:
            out[c["name"].decode()] += c["pending"]
    return dict(out)


def state_missing(client: redis.Redis, towns: list[str], acked: dict[str, dict[str, Any]],
                  roster_home: dict[str, str]) -> int:
    """Acked messages the worker's state does not reflect: a reported case that is not in
    its town's case hash, or an officer whose stored fix is older than their last acked one."""
    newest: dict[str, float] = {}
    cases: set[str] = set()
    for m in acked.values():
        if m["type"] == "position":
            newest[m["officer_id"]] = max(newest.get(m["officer_id"], 0.0), m["ts"])
        elif m["type"] == "incident":
            cases.add(m["incident_id"])
    known: set[str] = set()
    officers: dict[str, float] = {}
    for t in towns:
        known.update(k.decode() for k in client.hkeys(keys.incidents(t)))
        for oid, raw in client.hgetall(keys.officers(t)).items():
            officers[oid.decode()] = orjson.loads(raw).get("ts", 0.0)
    missing = len(cases - known)
    missing += sum(1 for oid, ts in newest.items()
                   if oid in roster_home and officers.get(oid, 0.0) + 1e-3 < ts)
    return missing
