"""Flagged events and clips in Redis: flag a case, the review queue, reviews, audited views."""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import orjson
import redis

from domain.access import User
from domain.model import Incident
from domain.regions import town_of
from domain.video import FLAG_ROLES, REVIEW_ROLES, Camera, Clip, FlaggedEvent, FlagReason
from feeds.live.commands import NotPermitted, audit
from feeds.store import video_keys as vk

log = logging.getLogger(__name__)

DEFAULT_PRE_S = 10.0
DEFAULT_POST_S = 10.0
FLAGS_MAXLEN = 100_000
SYSTEM_USER = "system"
VIEW_AUDIT_EVERY_S = 300  # one audit entry per user, clip and 5 minutes (players send many ranges)


def new_id(prefix: str) -> str:
    """A fresh record id: two letters and 12 hex digits (ev…, cl…)."""
    return prefix + uuid.uuid4().hex[:12]


def event_for(inc: Incident | dict[str, Any], ts: float, reason: str, by: str,
              pre_s: float = DEFAULT_PRE_S, post_s: float = DEFAULT_POST_S) -> FlaggedEvent:
    """A new flagged event of a case (an Incident or its stored / marker form)."""
    if isinstance(inc, Incident):
        d = {"incident_id": inc.incident_id, "lon": inc.lon, "lat": inc.lat, "grid": inc.grid,
             "category": inc.category, "title": inc.title, "level": inc.level.value}
    else:
        d = dict(inc, incident_id=inc.get("incident_id") or inc["id"])
    return FlaggedEvent(new_id("ev"), d["incident_id"], ts, float(d["lon"]), float(d["lat"]),
                        d["grid"], d["category"], d.get("title", ""), d.get("level", ""),
                        reason, by, pre_s, post_s)


def motion_event(camera: Camera, zone: str, ts: float, category: str,
                 pre_s: float = DEFAULT_PRE_S, post_s: float = DEFAULT_POST_S) -> FlaggedEvent:
    """A new flagged event of sustained motion on a camera: no case (incident_id ""), the
    camera's grid and position, only that camera recorded; T is when the motion began."""
    return FlaggedEvent(new_id("ev"), "", ts, camera.lon, camera.lat, camera.grid, category,
                        f"{camera.name} · {zone}", "", FlagReason.MOTION, SYSTEM_USER, pre_s,
                        post_s, cameras=(camera.camera_id,))


def queue_event(pipe: Any, ev: FlaggedEvent) -> Any:
    """Queue writing an event record (on a sync or async pipeline)."""
    pipe.hset(vk.events(ev.town), ev.event_id, orjson.dumps(ev.to_json()))
    pipe.hset(vk.EVENT_TOWN, ev.event_id, ev.town)
    return pipe


def queue_flag(pipe: Any, ev: FlaggedEvent) -> Any:
    """Queue a new event and its entry on the flag stream the capture worker reads."""
    queue_event(pipe, ev)
    pipe.xadd(vk.FLAGS, {"event": ev.event_id, "town": ev.town}, maxlen=FLAGS_MAXLEN,
              approximate=True)
    target = ev.incident_id or (f"camera:{ev.cameras[0]}" if ev.cameras else ev.event_id)
    audit(pipe, ev.by, "video.flag", target, f"{ev.event_id} {ev.reason} {ev.title}".strip()
          if not ev.incident_id else f"{ev.event_id} {ev.reason}", ev.ts)
    return pipe


def flag_case(client: redis.Redis, incident: Incident, by_user: User,
              pre_s: float = DEFAULT_PRE_S, post_s: float = DEFAULT_POST_S,
              ts: float | None = None) -> FlaggedEvent:
    """Flag a case by hand for video review (audited); raises NotPermitted.

    The caller has already checked the user may see the case (region and category).
    """
    if by_user.role.value not in FLAG_ROLES:
        raise NotPermitted(f"role {by_user.role.value} cannot flag cases for video review")
    if not by_user.may_see_region(incident.grid):
        raise NotPermitted("case outside your scope")
    ev = event_for(incident, time.time() if ts is None else ts, FlagReason.MANUAL, by_user.name,
                   pre_s, post_s)
    queue_flag(client.pipeline(transaction=False), ev).execute()
    log.info("%s flagged %s for video review (%s)", by_user.name, incident.incident_id,
             ev.event_id)
    return ev


def read_event(client: redis.Redis, event_id: str) -> FlaggedEvent | None:
    """One flagged event, or None."""
    town = client.hget(vk.EVENT_TOWN, event_id)
    raw = town and client.hget(vk.events(town.decode()), event_id)
    return FlaggedEvent.from_json(orjson.loads(raw)) if raw else None


def read_events(client: redis.Redis, towns: Iterable[str]) -> list[FlaggedEvent]:
    """Every flagged event of some towns (unordered)."""
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hvals(vk.events(t))
    return [FlaggedEvent.from_json(orjson.loads(r)) for res in pipe.execute() for r in res]


def events_of_case(client: redis.Redis, incident: Incident) -> list[FlaggedEvent]:
    """The flagged events of one case, newest first."""
    evs = [e for e in read_events(client, [incident.town])
           if e.incident_id == incident.incident_id]
    return sorted(evs, key=lambda e: -e.ts)


def mark_reviewed(client: redis.Redis, event_id: str, user: User, note: str = "",
                  now: float | None = None) -> FlaggedEvent:
    """Record that a reviewer watched an event's clips, with a note (audited)."""
    if user.role.value not in REVIEW_ROLES:
        raise NotPermitted(f"role {user.role.value} cannot review video")
    ev = read_event(client, event_id)
    if ev is None:
        raise KeyError(event_id)
    if not user.may_see_region(ev.grid):
        raise NotPermitted("event outside your scope")
    now = time.time() if now is None else now
    ev = replace(ev, reviewed_ts=now, reviewed_by=user.name, note=note.strip()[:2000])
    pipe = client.pipeline(transaction=False)
    queue_event(pipe, ev)
    audit(pipe, user.name, "video.review", ev.event_id, f"{ev.incident_id} {ev.note[:200]}", now)
    pipe.execute()
    return ev


def queue_clip(pipe: Any, clip: Clip) -> Any:
    """Queue writing a clip record (on a sync or async pipeline)."""
    town = town_of(clip.grid)
    pipe.hset(vk.clips(town), clip.clip_id, orjson.dumps(clip.to_json()))
    pipe.hset(vk.CLIP_TOWN, clip.clip_id, town)
    return pipe


def read_clip(client: redis.Redis, clip_id: str) -> Clip | None:
    """One clip record, or None."""
    town = client.hget(vk.CLIP_TOWN, clip_id)
    raw = town and client.hget(vk.clips(town.decode()), clip_id)
    return Clip.from_json(orjson.loads(raw)) if raw else None


def read_clips(client: redis.Redis, clip_ids: Iterable[str]) -> list[Clip]:
    """Clip records by id (missing ones, e.g. expired, are left out), in the given order."""
    ids = list(clip_ids)
    pipe = client.pipeline(transaction=False)
    for cid in ids:
        pipe.hget(vk.CLIP_TOWN, cid)
    towns = pipe.execute()
    pipe = client.pipeline(transaction=False)
    for cid, town in zip(ids, towns, strict=True):
        pipe.hget(vk.clips(town.decode() if town else "none"), cid)
    return [Clip.from_json(orjson.loads(r)) for r in pipe.execute() if r]


def record_view(client: redis.Redis, user: User, target: str, action: str = "video.view",
                detail: str = "") -> bool:
    """Audit a user's view of a clip or stream (once per VIEW_AUDIT_EVERY_S); True if new."""
    if not client.set(vk.viewed(user.name, target), 1, nx=True, ex=VIEW_AUDIT_EVERY_S):
        return False
    audit(client, user.name, action, target, detail)
    return True
