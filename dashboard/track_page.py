"""Track playback page: an officer's or a grid's fixes over a period, or around a case."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.readmodel import ReadModel
from domain.access import User
from layouts.track_view import track_page


def render(reads: ReadModel, user: User, query: Mapping[str, str], lang: str) -> Any:
    """/track?officer= | ?grid= [&minutes=] | ?at=<case> (NotFound / Forbidden when refused)."""
    return track_page(reads.track_view(user, query, lang))
