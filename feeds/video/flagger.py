"""Automatic flags: a case that turns red is flagged for video review (runs in the capture
worker; reads the towns' live streams like the push channel, one reader)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
import redis.asyncio as aredis

from domain.video import FlagReason, red_since, red_transitions
from feeds.live.follow import follow_live, live_ends
from feeds.store import keys
from feeds.store import video_keys as vk
from feeds.video.store import DEFAULT_POST_S, DEFAULT_PRE_S, event_for, queue_flag

log = logging.getLogger(__name__)

SYSTEM_USER = "system"


def cases_of(frame: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cases a live-stream frame carries: whole cases, then markers of the rest."""
    whole = list(frame.get("cases", ()))
    ids = {c.get("incident_id") for c in whole}
    return whole + [m for m in frame.get("incidents", ()) if m.get("id") not in ids]


class RedFlagger:
    """Follows the live streams and flags each case once, when its level becomes red."""

    def __init__(self, client: aredis.Redis, towns: Iterable[str], pre_s: float = DEFAULT_PRE_S,
                 post_s: float = DEFAULT_POST_S, max_late_s: float = 120.0):
        self.client = client
        self.towns = sorted(towns)
        self.pre_s, self.post_s = pre_s, post_s
        self.max_late_s = max_late_s  # a case that turned red earlier than this is not flagged
        self.levels: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.flagged = 0

    async def bootstrap(self) -> None:
        """Start at the streams' ends, knowing the level of every open case (so only later
        changes to red count)."""
        self.ids = await live_ends(self.client, self.towns)
        for t in self.towns:
            open_ids = await self.client.zrange(keys.open_incidents(t), 0, -1)
            if open_ids:
                for raw in await self.client.hmget(keys.incidents(t), open_ids):
                    if raw:
                        c = orjson.loads(raw)
                        self.levels[c["incident_id"]] = c.get("level", "")

    async def apply(self, frame: Mapping[str, Any]) -> int:
        """Flag the cases of one frame that became red; returns how many were flagged."""
        turned, self.levels = red_transitions(self.levels, cases_of(frame))
        n = 0
        now = time.time()
        for case in turned:
            iid = case.get("incident_id") or case.get("id")
            since = red_since(case)
            if since is not None and now - since > self.max_late_s:
                continue  # it turned red long ago (history, a backlog): no footage is left
            ev = event_for(dict(case), float(frame.get("ts", time.time())), FlagReason.RED,
                           SYSTEM_USER, self.pre_s, self.post_s)
            if not await self.client.hsetnx(vk.auto_flagged(ev.town), iid, ev.event_id):
                continue  # flagged before (e.g. before a restart)
            await queue_flag(self.client.pipeline(transaction=False), ev).execute()
            log.info("case %s turned red: flagged as %s", iid, ev.event_id)
            n += 1
        self.flagged += n
        return n

    async def run(self, stop: asyncio.Event) -> None:
        """XREAD the live streams until `stop`."""
        await self.bootstrap()
        await follow_live(self.client, self.ids, self.apply, stop, block_ms=500, who="flagger")
