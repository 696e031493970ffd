"""Simulated officers working their tasks (pure, no Redis)."""
from __future__ import annotations

import numpy as np

from domain.model import Status
from feeds.live.rules import load_rules
from feeds.sim.field import FieldCrew, Task

RULES = load_rules().rules()
NOW = 1_800_000_000.0


def msg(kind: str, ts: float, **fields):  # noqa: ANN003, ANN201
    return {"type": kind, "ts": ts, **fields}


def test_a_case_taken_over_on_scene_is_resolved_after_its_follow_up_not_at_once():
    """A case already on scene (the history's, after a restart) gets the rest of its work:
    nothing in the first five minutes, resolved once, later."""
    crew = FieldCrew(RULES, np.random.default_rng(1), msg)
    task = Task("C-1", "O1", 113.7, 22.9, "dispute", Status.ON_SCENE, NOW - 1800)
    crew.sync([task], NOW)
    assert crew.step(NOW + 1, {}) == []
    assert crew.step(NOW + 300, {}) == []
    resolved = [m for t in range(0, 3 * 86400, 60) for m in crew.step(NOW + t, {})]
    assert [(m["incident_id"], m["status"]) for m in resolved] == [("C-1", Status.RESOLVED)]
