"""The video events API for reviewers' tools: /api/v1/video/events and /api/v1/video/events/<id>,
scoped like the rest of /api/v1 (region and sensitive categories)."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import flask
import orjson
import redis

from dashboard.api_models import REGION, Error, Operation, Param, VideoClip, VideoEvent, VideoEvents
from dashboard.readmodel.video import event_visible, towns_in
from dashboard.video_routes import clip_urls
from domain.access import User
from domain.regions import is_within
from domain.video import (
    Clip,
    EventStatus,
    FlaggedEvent,
    FlagReason,
    Recorder,
    clip_state,
    distance_m,
)
from feeds.live.context import CityContext
from feeds.video.registry import read_camera
from feeds.video.store import read_clips, read_event, read_events

log = logging.getLogger(__name__)

EVENTS_LIMIT = 500  # newest events of a list answer
STATES = tuple(s.value for s in EventStatus)


def _answer(data: VideoEvent | VideoEvents | Error, status: int = 200) -> flask.Response:
    return flask.Response(orjson.dumps(data.wire()), status, {"Content-Type": "application/json"})


def _error(status: int, message: str) -> flask.Response:
    return _answer(Error(error=message), status)


def clip_rows(client: redis.Redis, ev: FlaggedEvent, clips: Iterable[Clip]) -> list[VideoClip]:
    """An event's clips, one per camera it records (nearest first): written ones with their
    URLs, the others still recording or failed (distance from the registry)."""
    written = {c.camera_id: c for c in clips}
    rows = []
    for cid in dict.fromkeys((*ev.cameras, *written)):
        c = written.get(cid)
        state = clip_state(ev.status, c is not None)
        if c is not None:
            urls = clip_urls(c.clip_id, c.container)
            rows.append(VideoClip(clip_id=c.clip_id, camera_id=cid, distance_m=c.dist_m,
                                  state=state, url=urls["src"], poster_url=urls["poster"],
                                  media_type=c.mime, recorded_by=Recorder(c.source)))
            continue
        cam = read_camera(client, cid)
        dist = None if cam is None else round(distance_m(ev.lon, ev.lat, cam.lon, cam.lat), 1)
        rows.append(VideoClip(clip_id=None, camera_id=cid, distance_m=dist, state=state,
                              url=None, poster_url=None))
    return rows


def event_answer(client: redis.Redis, ev: FlaggedEvent, clips: Iterable[Clip]) -> VideoEvent:
    """The answer for one event, given its written clips."""
    return VideoEvent(event_id=ev.event_id, incident_id=ev.incident_id, flagged_ts=ev.ts,
                      source=FlagReason(ev.reason), by=ev.by, grid=ev.grid, state=ev.status,
                      clips=clip_rows(client, ev, clips))


class VideoApi:
    """The events routes of one city and store."""

    def __init__(self, ctx: CityContext, client: redis.Redis):
        self.ctx, self.client = ctx, client

    def events(self) -> flask.Response:
        """GET /api/v1/video/events?region=&state=."""
        user: User = flask.g.user
        code = flask.request.args.get("region") or user.scope
        state = flask.request.args.get("state") or ""
        if code not in self.ctx.hierarchy:
            return _error(404, f"unknown region {code}")
        if not user.may_see_region(code):
            return _error(403, "region outside your scope")
        if state and state not in STATES:
            return _error(400, f"state must be one of {', '.join(STATES)}")
        evs = [e for e in read_events(self.client, towns_in(self.ctx, code))
               if is_within(e.grid, code) and event_visible(self.ctx, user, e)
               and (not state or e.status == state)]
        evs = sorted(evs, key=lambda e: -e.ts)[:EVENTS_LIMIT]
        written: dict[str, list[Clip]] = {}
        for c in read_clips(self.client, [cid for e in evs for cid in e.clips]):
            written.setdefault(c.event_id, []).append(c)
        return _answer(VideoEvents(region=code, as_of=time.time(), events=[
            event_answer(self.client, e, written.get(e.event_id, ())) for e in evs]))

    def event(self, event_id: str) -> flask.Response:
        """GET /api/v1/video/events/<id>."""
        user: User = flask.g.user
        ev = read_event(self.client, event_id) if event_id.isalnum() else None
        if ev is None:
            return _error(404, "no such event")
        if not event_visible(self.ctx, user, ev):
            return _error(403, "event outside your scope")
        return _answer(event_answer(self.client, ev, read_clips(self.client, ev.clips)))


def blueprint(ctx: CityContext, client: redis.Redis) -> flask.Blueprint:
    """The video events routes (the login hook in dashboard.auth sets flask.g.user first)."""
    bp = flask.Blueprint("video_api", __name__)
    api = VideoApi(ctx, client)
    bp.get("/api/v1/video/events")(api.events)
    bp.get("/api/v1/video/events/<event_id>")(api.event)
    return bp


OPERATIONS = (
    Operation("/api/v1/video/events", "Events flagged for video review in a region, newest "
              f"first (at most {EVENTS_LIMIT}), with their clips", VideoEvents,
              (REGION, Param("state", description="the event's state", enum=STATES))),
    Operation("/api/v1/video/events/{event_id}", "One flagged event and its clips", VideoEvent,
              (Param("event_id", "path"),), (401, 403, 404, 429)),
)
