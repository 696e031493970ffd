"""A case's photos as thumbnails (for the case and video pages); field text as text."""
from __future__ import annotations

from typing import Any

from dash import html

from layouts.format import local_time
from layouts.i18n import t


def photo_list(photos: list[dict[str, Any]], names: dict[str, str], lang: str) -> Any:
    """The case's photos as thumbnails, each a link to the full image (components, no HTML)."""
    if not photos:
        return html.P(t("case.no_photos", lang), className="gw-muted")
    return html.Ul(className="gw-photos", children=[
        html.Li(className="gw-photo", children=[
            html.A(html.Img(src=p["thumb_url"], alt=t("case.photo_alt", lang),
                            className="gw-photo-thumb"),
                   href=p["url"], target="_blank", rel="noopener", className="gw-photo-link"),
            html.Span(f"{local_time(p['ts'])} · {names.get(p['officer_id'], p['officer_id'])}",
                      className="gw-photo-meta")])
        for p in photos])
