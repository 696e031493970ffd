"""Acks that wait for replicas: Redis WAIT at the end of the pipeline that wrote, so it runs
on the connection (on a cluster: on each node's connection) that took the writes.

WAIT counts the replicas that have everything this connection wrote so far. `wanted` is a
number of replicas, or None for auto: 1 on a primary that reports connected replicas, else 0
(re-read every `refresh_s`, so a failover or a new replica is followed). A WAIT that returns
fewer than wanted within `timeout_ms` makes the caller nack: the messages are on the primary
but not yet safe from its loss, and the sender's resend is idempotent (message ids).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from feeds.store.client import is_cluster

log = logging.getLogger(__name__)

PLAIN = ""  # the node name of a plain (or Sentinel) client's one primary
REFRESH_S = 5.0
TIMEOUT_MS = 1000


class NotReplicated(Exception):
    """Writes that reached the primary but not the replicas asked for, in time."""


@dataclass(frozen=True)
class Wait:
    """One WAIT queued at the end of a pipeline: on which node, for how many replicas."""

    node: Any  # a ClusterNode, or None on a plain client
    replicas: int


def replica_counts(info: dict[str, Any], cluster: bool) -> dict[str, int]:
    """Connected replicas per primary from INFO replication (a cluster's: per node name)."""
    if not cluster:
        return {PLAIN: int(info.get("connected_slaves", 0))}
    return {name: int(i.get("connected_slaves", 0)) for name, i in info.items()
            if isinstance(i, dict)}


def shortfall(waits: list[Wait], replies: list[Any]) -> list[str]:
    """The WAITs that came back short (or failed), as `node: got/wanted` texts."""
    short = []
    for w, got in zip(waits, replies, strict=True):
        if isinstance(got, Exception) or int(got) < w.replicas:
            name = getattr(w.node, "name", "primary")
            short.append(f"{name}: {got if isinstance(got, Exception) else int(got)}"
                         f"/{w.replicas}")
    return short


class ReplicaWait:
    """How many replicas an ack waits for, per primary, and the WAITs that ask for it."""

    def __init__(self, client: Any, wanted: int | None = None, timeout_ms: int = TIMEOUT_MS,
                 refresh_s: float = REFRESH_S):
        self.client = client
        self.cluster = is_cluster(client)
        self.wanted, self.timeout_ms, self.refresh_s = wanted, timeout_ms, refresh_s
        self.counts: dict[str, int] = {}
        self.read_at = -1e9

    def stale(self) -> bool:
        """Whether auto mode should read the replica counts again."""
        return self.wanted is None and time.monotonic() - self.read_at > self.refresh_s

    def _target(self) -> dict[str, Any]:
        return {"target_nodes": self.client.PRIMARIES} if self.cluster else {}

    def _took(self, info: Any) -> None:
        self.counts = replica_counts(info, self.cluster)
        self.read_at = time.monotonic()

    async def refresh(self) -> None:
        """Read the connected replicas of every primary (asyncio client); keep the old
        counts when Redis does not answer (the write then fails and is nacked anyway)."""
        try:
            if self.cluster:
                await self.client.initialize()  # the slot map, for get_node_from_key
            if self.stale():
                self._took(await self.client.info("replication", **self._target()))
        except Exception as e:  # noqa: BLE001  (an outage: the write itself will say so)
            log.debug("replica count not read: %s", e)

    def refresh_sync(self) -> None:
        """The same for a synchronous client."""
        if not self.stale():
            return
        try:
            self._took(self.client.info("replication", **self._target()))
        except Exception as e:  # noqa: BLE001
            log.debug("replica count not read: %s", e)

    def split(self, replies: list[Any], waits: list[Wait]) -> tuple[list[Any], list[str]]:
        """A pipeline's replies without the WAITs' at its end, and the WAITs that fell short
        (then auto mode reads the replica counts again before the next write: after a
        failover the new primary may have none)."""
        cut = len(replies) - len(waits)
        short = shortfall(waits, replies[cut:])
        if short:
            self.read_at = -1e9
        return replies[:cut], short

    def replicas_for(self, name: str) -> int:
        """The replicas a write to this primary waits for."""
        if self.wanted is not None:
            return self.wanted
        return 1 if self.counts.get(name, 0) > 0 else 0

    def queue(self, pipe: Any, keys: Iterable[str]) -> list[Wait]:
        """Queue a WAIT at the end of `pipe` for each primary that holds one of `keys` and
        should have replicas; returns them in pipeline order (their replies come last)."""
        waits: list[Wait] = []
        if not self.cluster:
            n = self.replicas_for(PLAIN)
            waits = [Wait(None, n)] if n > 0 else []
        else:
            nodes = {}
            for k in keys:
                node = self.client.get_node_from_key(k)
                nodes[node.name] = node
            waits = [Wait(node, n) for name, node in nodes.items()
                     if (n := self.replicas_for(name)) > 0]
        for w in waits:
            target = {"target_nodes": w.node} if w.node is not None else {}
            pipe.execute_command("WAIT", w.replicas, self.timeout_ms, **target)
        return waits
