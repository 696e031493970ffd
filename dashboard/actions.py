"""What page callbacks change: each goes through feeds' own commands, which check and audit."""
from __future__ import annotations

import functools
from collections.abc import Callable

import redis

from dashboard import admin_page
from domain.access import User
from domain.cases import Action
from domain.model import Incident
from domain.video import FlaggedEvent
from feeds.ingest.intake import make_placer
from feeds.ingest.placement import Placer
from feeds.live.commands import send_action
from feeds.live.context import CityContext
from feeds.video.store import flag_case, mark_reviewed


class Actions:
    """Case actions, video review and flags, dead-letter resubmission, as a user."""

    def __init__(self, ctx: CityContext, client: redis.Redis,
                 placer: Callable[[], Placer] | None = None):
        self.ctx = ctx
        self._client = client
        self._placer = placer or functools.cache(lambda: make_placer(ctx, client))

    def case_action(self, user: User, inc: Incident, action: Action, officer_id: str = "",
                    note: str = "") -> str:
        """Send an action on a case to the command stream (raises when refused); returns the
        command id."""
        return send_action(self._client, user, inc, self.ctx.rules, action,
                           officer_id=officer_id, note=note)

    def review(self, user: User, event_id: str, note: str) -> FlaggedEvent:
        """Mark a flagged event reviewed (raises NotPermitted / KeyError)."""
        return mark_reviewed(self._client, event_id, user, note)

    def flag(self, user: User, inc: Incident) -> FlaggedEvent:
        """Flag a case for video review (raises NotPermitted)."""
        return flag_case(self._client, inc, user)

    def resubmit(self, user: User, entry_id: str, text: str) -> str:
        """Resubmit a fixed dead letter; the answer as the user should read it."""
        return admin_page.resubmit(self._client, self._placer(), user, entry_id, text)
