"""The read model of the pages: scoped reads that return typed view-models or refuse."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from dashboard import lang as lang_switch
from dashboard import wall as wall_mod
from dashboard.config import DashboardConfig
from dashboard.readmodel import cases, records, video
from dashboard.readmodel.records import DeadLetters
from dashboard.readmodel.stats import CaseFrames, stats_view_model
from dashboard.refusals import Forbidden, NotFound, Refusal
from dashboard.views import Snapshots
from domain.access import User
from domain.basemap import Basemap
from domain.model import Incident
from domain.video import FlaggedEvent
from feeds.live.context import CityContext
from layouts.audit_view import AuditView
from layouts.case_view import CaseView
from layouts.stats_view import StatsView
from layouts.track_view import TrackView
from layouts.video_view import EventView, QueueView
from layouts.viewmodels import MapView
from layouts.wall_view import WallView

__all__ = ["DeadLetters", "ReadModel"]


class ReadModel:
    """Every read a page or a page's callback makes, scoped by the user asking.

    Methods return the view-models of layouts/ (frozen dataclasses) and raise NotFound or
    Forbidden (dashboard.refusals) instead of answering outside the user's scope. It holds the
    Redis client so that pages never do.
    """

    def __init__(self, ctx: CityContext, client: redis.Redis, snaps: Snapshots | None = None):
        self.ctx = ctx
        self._client = client
        self.snaps = snaps or Snapshots(ctx, client)
        self._frames = CaseFrames()  # statistics need not be live: shared for a minute

    def page_lang(self, url_lang: str | None, default: str) -> str:
        """The language of this request's page (?lang=, the user's choice, cookie, default)."""
        return lang_switch.page_lang(self._client, url_lang, default)

    # ---- regions -----------------------------------------------------------------------
    def region_at(self, code: str, level: str | None) -> str:
        """`code` if it names a region (of that level, if given); NotFound if not."""
        h = self.ctx.hierarchy
        if code not in h or (level is not None and h[code].level != level):
            raise NotFound("msg.no_page")
        return code

    def map_view(self, code: str, user: User, live_url: str, lang: str, wall: bool,
                 basemap: Basemap | None) -> MapView:
        """The live map of a region in the user's scope."""
        if not user.may_see_region(code):
            raise Forbidden("msg.out_of_scope")
        return self.snaps.map_view(code, user, live_url, lang, wall, basemap)

    def wall_view(self, settings: DashboardConfig, user: User, code: str, query: Mapping[str, str],
                  lang: str) -> WallView:
        """The wall of a map page of region `code` (home, playlist, dwell, staleness)."""
        return wall_mod.wall_view(self.ctx, settings, user, code, query, lang)

    # ---- cases -------------------------------------------------------------------------
    def visible_case(self, user: User, incident_id: str) -> Incident:
        """A case the user may see (region and category)."""
        return cases.visible_case(self.ctx, self._client, user, incident_id)

    def case_view(self, user: User, incident_id: str, lang: str, live_base: str = "",
                  basemap: Basemap | None = None, media: bool = True) -> CaseView:
        """The case page's view-model (cameras and video card only with `media`)."""
        inc = self.visible_case(user, incident_id)
        return cases.case_view(self.ctx, self._client, inc, user, lang, live_base, basemap,
                               media)

    def case_video(self, user: User, inc: Incident, lang: str) -> Any:
        """The case page's video card (its flagged events and the flag button)."""
        return cases.case_video(self._client, user, inc, lang)

    # ---- video review ------------------------------------------------------------------
    def video_queue(self, user: User, lang: str) -> QueueView:
        """The flagged events awaiting review in the user's scope."""
        return video.queue_view(self.ctx, self._client, user, lang)

    def visible_event(self, user: User, event_id: str) -> FlaggedEvent:
        """A flagged event the user may see."""
        return video.visible_event(self.ctx, self._client, user, event_id)

    def video_event(self, user: User, event_id: str, lang: str) -> EventView:
        """One flagged event's clips on one timeline."""
        ev = self.visible_event(user, event_id)
        return video.event_view(self._client, user, ev, lang)

    # ---- history and administration ----------------------------------------------------
    def stats_view(self, user: User, code: str, lang: str, wall: bool = False) -> StatsView:
        """The statistics of a region in the user's scope over the last 30 days."""
        if code not in self.ctx.hierarchy:
            raise NotFound("msg.no_region")
        if not user.may_see_region(code):
            raise Forbidden("msg.out_of_scope")
        return stats_view_model(self.ctx, self._client, code, lang, user=user, wall=wall,
                                frames=self._frames)

    def track_view(self, user: User, query: Mapping[str, str], lang: str) -> TrackView:
        """Track playback of ?officer= or ?grid=, or of the grid of case ?at= around it."""
        inc = None
        if query.get("at"):
            try:
                inc = self.visible_case(user, query["at"])
            except Refusal:  # a case the user may not see is not there for them
                raise NotFound("msg.no_case") from None
            query = {"grid": inc.grid, **query}
        return records.track_view(self.ctx, self._client, user, query, lang, inc)

    def audit_view(self, user: User, args: Mapping[str, str], lang: str) -> AuditView:
        """The audit log of an administrator's region, filtered by `args`."""
        return records.audit_view(self.ctx, self._client, user, args, lang)

    def dead_letters(self, user: User) -> DeadLetters:
        """The refused messages, for a city administrator."""
        return records.dead_letters(self._client, user)
