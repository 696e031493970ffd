"""Simulated officers working their tasks (pure, no Redis)."""
from __future__ import annotations

import numpy as np

from domain.model import Status
from feeds.ingest.photos import Photo, prepare
from feeds.live.rules import load_rules
from feeds.sim.field import FieldCrew, Task
from feeds.sim.photos import PHOTO_P

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
    resolved = [m for t in range(0, 3 * 86400, 60) for m in crew.step(NOW + t, {})
                if m["type"] == "incident_update"]
    assert [(m["incident_id"], m["status"]) for m in resolved] == [("C-1", Status.RESOLVED)]


def test_now_and_then_a_resolve_comes_with_a_photo_the_gateway_accepts():
    """About PHOTO_P of resolved cases send a real JPEG first (checked as the gateway does)."""
    crew = FieldCrew(RULES, np.random.default_rng(7), msg)
    tasks = [Task(f"C-{i}", f"O{i}", 113.7, 22.9, "dispute", Status.ON_SCENE, NOW - 1800)
             for i in range(200)]
    crew.sync(tasks, NOW)
    sent = [m for t in range(0, 3 * 86400, 600) for m in crew.step(NOW + t, {})]
    photos = [m for m in sent if m["type"] == "attachment"]
    assert len([m for m in sent if m["type"] == "incident_update"]) == 200
    assert 0.5 * PHOTO_P * 200 < len(photos) < 1.5 * PHOTO_P * 200
    for p in photos[:5]:
        before = sent.index(p)
        assert sent[before + 1]["incident_id"] == p["incident_id"]  # the photo, then the resolve
        assert p["officer_id"] == "O" + p["incident_id"].removeprefix("C-")
        checked = prepare(p["mime"], p["data"])
        assert isinstance(checked, Photo), checked
