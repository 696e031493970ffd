"""Video review reads: the queue of flagged events in a user's scope, and one event's clips."""
from __future__ import annotations

import redis

from dashboard.media_routes import attachment_rows
from dashboard.refusals import Forbidden, NotFound
from dashboard.video_routes import camera_urls, clip_urls
from domain.access import User
from domain.regions import towns_covering
from domain.video import REVIEW_ROLES, FlaggedEvent, review_order
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.video.store import read_clips, read_event, read_events
from layouts.video_view import ClipTile, EventView, QueueRow, QueueView

QUEUE_LIMIT = 300


def towns_in(ctx: CityContext, code: str) -> list[str]:
    """The towns a region's data lives in."""
    return towns_covering(code, ctx.towns)


def event_visible(ctx: CityContext, user: User, ev: FlaggedEvent) -> bool:
    """Whether a user may see an event (its case's region and category)."""
    return user.may_see_region(ev.grid) and user.may_see_category(ctx.rules.get(ev.category))


def visible_event(ctx: CityContext, client: redis.Redis, user: User, event_id: str
                  ) -> FlaggedEvent:
    """A flagged event the user may see; NotFound / Forbidden if not."""
    ev = read_event(client, event_id) if event_id else None
    if ev is None:
        raise NotFound("msg.no_event")
    if not event_visible(ctx, user, ev):
        raise Forbidden("msg.out_of_scope")
    return ev


def queue_view(ctx: CityContext, client: redis.Redis, user: User, lang: str) -> QueueView:
    """The review queue of the user's scope."""
    evs = [e for e in read_events(client, towns_in(ctx, user.scope))
           if event_visible(ctx, user, e)]
    rows = [QueueRow(e.event_id, e.incident_id, e.title, e.category, e.level, e.reason, e.by,
                     e.ts, e.status.value, len(e.clips), e.reviewed_by, e.reviewed_ts)
            for e in review_order(evs)[:QUEUE_LIMIT]]
    region = ctx.hierarchy[user.scope] if user.scope in ctx.hierarchy else None
    name = "" if region is None else (region.name if lang == "zh" else
                                      region.name_en or region.name)
    return QueueView(rows, name, lang)


def event_view(client: redis.Redis, user: User, ev: FlaggedEvent, lang: str) -> EventView:
    """One event's clips on a shared timeline, its case and its review state."""
    clips = read_clips(client, ev.clips)
    start = min((c.start_ts for c in clips), default=ev.ts - ev.pre_s)
    end = max((c.end_ts + 1 / c.fps for c in clips), default=ev.ts + ev.post_s)
    tiles = [ClipTile(c.clip_id, c.camera_id, c.camera_name, c.dist_m,
                      **clip_urls(c.clip_id, c.container),
                      offset_s=c.start_ts - start, duration_s=c.frames / c.fps,
                      live_url=camera_urls(c.camera_id)["stream_url"]
                      if user.may_see_region(c.grid) else "")
             for c in clips]
    have = {c.camera_id for c in clips}
    inc = reads.read_incident(client, ev.incident_id)
    return EventView(ev.to_json(), incident_to_json(inc) if inc else None, tiles,
                     [c for c in ev.cameras if c not in have] if ev.status.value == "ready"
                     else [], start, max(0.1, end - start), user.role.value in REVIEW_ROLES,
                     lang, photos=attachment_rows(client, inc) if inc else [])
