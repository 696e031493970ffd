"""Where simulated terminals learn their tasks: the case state now, the downlink later."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

import redis

from domain.model import Status
from feeds.live import reads
from feeds.sim.field import Task

log = logging.getLogger(__name__)

WORKED = frozenset({Status.DISPATCHED, Status.ON_SCENE})


class TaskSource(Protocol):
    """The tasks of the simulated officers, and their acknowledgement."""

    def poll(self) -> list[Task]:
        """Every open task of the officers, now."""
        ...

    def ack(self, tasks: list[Task]) -> None:
        """The terminals have read these tasks."""
        ...


class StateTasks:
    """Tasks read from the open cases' state (assignee, status): until the per-officer task
    stream of the downlink exists, an assignment is a task. Acks have nowhere to go yet."""

    def __init__(self, client: redis.Redis, towns: Iterable[str], officers: Iterable[str]):
        self.client = client
        self.towns = list(towns)
        self.officers = frozenset(officers)

    def poll(self) -> list[Task]:
        """Open, dispatched cases assigned to one of our officers."""
        return [Task(c.incident_id, c.assignee, c.lon, c.lat, c.category, c.status,
                     c.reported_ts)
                for c in reads.read_open_incidents(self.client, self.towns)
                if c.assignee in self.officers and c.status in WORKED]

    def ack(self, tasks: list[Task]) -> None:
        """Nothing to acknowledge to: the state has no deliveries."""
        if tasks:
            log.debug("%d tasks read", len(tasks))
