"""Simulated officers working their tasks: read it, walk there, on scene, resolve (pure)."""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from domain.alerts import CategoryRule
from domain.model import Category, Status
from feeds.sim import casework
from feeds.sim.photos import PHOTO_P, scene_photo
from feeds.sim.simulator import M_PER_DEG, Walker

log = logging.getLogger(__name__)

ACK_S = (2.0, 8.0)  # seconds until the officer has read a new task and sets off
ARRIVED_M = 3.0
RESOLVE_NOTES: dict[str, str] = {
    Category.DISPUTE: "双方已调解，达成一致", Category.SAFETY_HAZARD: "隐患已整改",
    Category.FIRE: "明火已扑灭，现场安全", Category.RENTAL_HOUSING: "已登记备案",
    Category.WORK_SAFETY: "已责令整改并复查", Category.FOOD_DRUG: "已移交市场监管处理",
    Category.PUBLIC_ORDER: "现场秩序已恢复", Category.MENTAL_HEALTH: "已联系家属及社区医生",
    Category.COMMUNITY_CORRECTION: "已核实并报司法所", Category.ENVIRONMENT: "已清理完毕"}


@dataclass(frozen=True)
class Task:
    """A case assigned to an officer, as the officer's terminal knows it (city datum)."""

    incident_id: str
    officer_id: str
    lon: float
    lat: float
    category: str
    status: Status
    reported_ts: float
    msg_id: str = ""  # the downlink message that brought it, when there is one


class Phase(StrEnum):
    """Where an officer stands with a task."""

    READING = "reading"
    WALKING = "walking"
    VISITING = "visiting"
    FOLLOW_UP = "follow_up"  # left the scene; the case is resolved later


@dataclass
class Job:
    """One task in an officer's hands."""

    task: Task
    phase: Phase
    due: float  # when the current phase ends (reading, visiting) or resolves (follow-up)
    resolve_at: float = 0.0


@dataclass
class FieldCrew:
    """Every simulated officer's jobs; says which status updates their terminals send."""

    rules: Mapping[str, CategoryRule]
    rng: np.random.Generator
    msg: Callable[..., dict[str, Any]]  # makes a protocol-v1 message (Simulator._msg)
    queues: dict[str, list[Job]] = field(default_factory=dict)  # officer → jobs, head first
    follow_ups: dict[str, Job] = field(default_factory=dict)  # incident → job
    acks: list[Task] = field(default_factory=list)  # tasks read, to ack on the downlink

    def known(self) -> set[str]:
        """Incidents some officer is working."""
        return {j.task.incident_id for q in self.queues.values() for j in q} | set(
            self.follow_ups)

    def sync(self, tasks: list[Task], now: float) -> None:
        """Take up new tasks, drop those that are no longer ours (reassigned, resolved)."""
        current = {t.incident_id: t for t in tasks}
        for oid, q in list(self.queues.items()):
            q[:] = [j for j in q if current.get(j.task.incident_id, None) is not None
                    and current[j.task.incident_id].officer_id == oid]
            if not q:
                del self.queues[oid]
        for iid in [i for i in self.follow_ups if i not in current]:
            del self.follow_ups[iid]
        known = self.known()
        for t in tasks:
            if t.incident_id in known:
                continue
            if t.status is Status.ON_SCENE:  # taken over (a restart): only the follow-up left
                rule = self.rules[t.category]
                w = casework.work(self.rng, rule, now - t.reported_ts)
                at = now + w.resolve_s
                self.follow_ups[t.incident_id] = Job(t, Phase.FOLLOW_UP, at, resolve_at=at)
            else:
                self.queues.setdefault(t.officer_id, []).append(
                    Job(t, Phase.READING, now + float(self.rng.uniform(*ACK_S))))

    def step(self, now: float, walkers: Mapping[str, Walker]) -> list[dict[str, Any]]:
        """Advance every job to `now`; returns the status updates the terminals send."""
        out: list[dict[str, Any]] = []
        for oid, q in list(self.queues.items()):
            w = walkers.get(oid)
            if w is None or not q:
                continue
            msg = self._advance(q[0], w, now)
            if msg is not None:
                out.append(msg)
            if q[0].phase is Phase.FOLLOW_UP:
                job = q.pop(0)
                w.job_target = None
                if job.resolve_at <= now:
                    out += self._resolved(job.task, now)
                else:
                    self.follow_ups[job.task.incident_id] = job
            if not q:
                del self.queues[oid]
        for iid, job in list(self.follow_ups.items()):
            if job.resolve_at <= now or job.due <= now:
                out += self._resolved(job.task, now)
                del self.follow_ups[iid]
        return out

    def _advance(self, job: Job, w: Walker, now: float) -> dict[str, Any] | None:
        t = job.task
        if job.phase is Phase.READING and job.due <= now:
            self.acks.append(t)
            job.phase = Phase.WALKING
            w.job_target = (t.lon, t.lat)
        if job.phase is Phase.WALKING and _distance_m(w, t) <= ARRIVED_M:
            rule = self.rules[t.category]
            work = casework.work(self.rng, rule, now - t.reported_ts)
            job.phase, job.due, job.resolve_at = Phase.VISITING, now + work.visit_s, \
                now + work.resolve_s
            return self.msg("incident_update", now, incident_id=t.incident_id,
                            status=Status.ON_SCENE)
        if job.phase is Phase.VISITING and job.due <= now:
            job.phase = Phase.FOLLOW_UP
            job.due = job.resolve_at
        return None

    def _resolved(self, t: Task, now: float) -> list[dict[str, Any]]:
        """The resolve update, after a photo of the scene now and then (PHOTO_P)."""
        out = [self.msg("incident_update", now, incident_id=t.incident_id,
                        status=Status.RESOLVED, note=RESOLVE_NOTES.get(t.category, "已处置"))]
        if self.rng.random() < PHOTO_P:
            out.insert(0, self.msg("attachment", now, incident_id=t.incident_id,
                                   officer_id=t.officer_id, mime="image/jpeg",
                                   data=scene_photo(self.rng, t.category, now)))
        return out


def _distance_m(w: Walker, t: Task) -> float:
    dx = (t.lon - w.lon) * math.cos(math.radians(w.lat))
    return math.hypot(dx, t.lat - w.lat) * M_PER_DEG
