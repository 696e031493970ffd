"""Where simulated terminals learn their tasks (the case state) and acknowledge them on the
officers' downlink streams, as a phone would."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

import redis

from domain.model import Status
from feeds.geo.roster import Officer
from feeds.live import reads
from feeds.live import tasks as downlink
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
    """Tasks read from the open cases' state (assignee, status); reading one delivers and
    acknowledges the officer's downlink tasks of that case (device `sim-<officer>`)."""

    def __init__(self, client: redis.Redis, towns: Iterable[str], officers: dict[str, Officer]):
        self.client = client
        self.towns = list(towns)
        self.officers = officers

    def poll(self) -> list[Task]:
        """Open, dispatched cases assigned to one of our officers."""
        return [Task(c.incident_id, c.assignee, c.lon, c.lat, c.category, c.status,
                     c.reported_ts)
                for c in reads.read_open_incidents(self.client, self.towns)
                if c.assignee in self.officers and c.status in WORKED]

    def ack(self, tasks: list[Task]) -> None:
        """The simulated terminals got and acknowledged these cases' downlink tasks."""
        for t in tasks:
            home = self.officers[t.officer_id].grid
            device = f"sim-{t.officer_id}"
            mine = [p for p in downlink.pending_tasks(self.client, home, t.officer_id)
                    if p.msg.incident_id == t.incident_id]
            if mine:
                downlink.mark_delivered(self.client, mine, t.officer_id, device)
            for p in mine:
                downlink.ack_task(self.client, home, t.officer_id, p.msg.msg_id, device)
        log.debug("%d tasks read", len(tasks))
