"""Case reads: a case the user may see, its page's view-model, nearby officers and cameras."""
from __future__ import annotations

import time
from typing import Any

import redis

from dashboard.display import case_view_in
from dashboard.media_routes import attachment_rows
from dashboard.refusals import Forbidden, NotFound
from dashboard.video_routes import camera_urls
from domain.access import User
from domain.basemap import Basemap
from domain.cases import allowed_actions, deadline
from domain.model import Incident
from domain.regions import ancestors_of, level_of, village_of
from domain.video import FLAG_ROLES
from feeds.live import reads
from feeds.live.commands import ACTING_ROLES
from feeds.live.context import CityContext
from feeds.live.state import incident_to_json
from feeds.video.registry import nearest_cameras, read_health
from feeds.video.store import events_of_case
from layouts.case_view import CaseView
from layouts.i18n import category_name, has
from layouts.video_view import case_video_card

AUDIT_ROWS = 50


def visible_case(ctx: CityContext, client: redis.Redis, user: User, incident_id: str
                 ) -> Incident:
    """The case if the user may see it (region and category); NotFound / Forbidden if not."""
    inc = reads.read_incident(client, incident_id) if incident_id else None
    if inc is None:
        raise NotFound("msg.no_case")
    if not user.may_see_region(inc.grid) or not user.may_see_category(
            ctx.rules.get(inc.category)):
        raise Forbidden("msg.out_of_scope")
    return inc


def nearest(ctx: CityContext, client: redis.Redis, inc: Incident, user: User
            ) -> list[dict[str, Any]]:
    """The on-duty officers nearest to a case whom the user may see, as plain rows."""
    rows = []
    for st, dist in reads.nearest_officers(client, ctx.towns, inc.lon, inc.lat):
        rec = ctx.roster.get(st.officer_id)
        if not user.may_see_region(rec.grid if rec else st.home):
            continue
        rows.append({"officer_id": st.officer_id, "name": rec.name if rec else st.officer_id,
                     "dist_m": dist, "lon": st.lon, "lat": st.lat})
    return rows


def category_label(ctx: CityContext, category: str, lang: str) -> str:
    """A category's name: the catalogue's, else the configured rule's, else its code."""
    rule = ctx.rules.get(category)
    if has(f"cat.{category}") or rule is None:
        return category_name(category, lang)
    return rule.name if lang == "zh" else rule.name_en or rule.name


def officer_names(ctx: CityContext, inc: Incident, near: list[dict[str, Any]],
                  photos: list[dict[str, Any]] | None = None) -> dict[str, str]:
    """Names of the officers a case page mentions (reporter, assignee, events, nearest,
    photographers)."""
    wanted = {inc.officer_id, inc.assignee} | {e.get("officer_id", "") for e in inc.events}
    wanted |= {str(p["officer_id"]) for p in photos or ()}
    names = {o: ctx.roster[o].name for o in wanted if o in ctx.roster}
    names.update({o["officer_id"]: o["name"] for o in near})
    return names


def case_cameras(ctx: CityContext, client: redis.Redis, user: User, inc: Incident,
                 n: int = 4, radius_km: float = 5.0) -> list[dict[str, Any]]:
    """Rows for CaseView.cameras: the nearest cameras the user may see, with their state."""
    near = [(c, d) for c, d in nearest_cameras(client, ctx.towns, inc.lon, inc.lat, n * 2,
                                                radius_km) if user.may_see_region(c.grid)][:n]
    health = read_health(client, [c for c, _ in near])
    return [{"camera_id": c.camera_id, "name": c.name, "dist_m": d, "lon": c.lon, "lat": c.lat,
             "state": health[c.camera_id]["state"], **camera_urls(c.camera_id, c.kind)}
            for c, d in near]


def case_video(client: redis.Redis, user: User, inc: Incident, lang: str) -> Any:
    """The case page's video card: the case's flagged events and the flag button."""
    evs = [e.to_json() for e in events_of_case(client, inc)]
    return case_video_card(evs, user.role.value in FLAG_ROLES, lang)


def case_view(ctx: CityContext, client: redis.Redis, inc: Incident, user: User, lang: str,
              live_base: str, basemap: Basemap | None, media: bool = True) -> CaseView:
    """Everything the case page shows, read now (without cameras and video unless `media`)."""
    near = nearest(ctx, client, inc, user)
    photos = attachment_rows(client, inc)
    h = ctx.hierarchy
    crumbs = [(level_of(c), c, h[c].name if lang == "zh" else (h[c].name_en or h[c].name))
              for c in reversed(ancestors_of(inc.grid)) if c in h]
    rule = ctx.rules.get(inc.category)
    return case_view_in(CaseView(
        case=incident_to_json(inc), category_label=category_label(ctx, inc.category, lang),
        due_ts=deadline(rule, inc) if rule else None,
        officer_names=officer_names(ctx, inc, near, photos), nearest=near,
        cameras=case_cameras(ctx, client, user, inc) if media else [],
        video=case_video(client, user, inc, lang) if media else None,
        allowed=[a.value for a in allowed_actions(inc)],
        can_act=user.role in ACTING_ROLES, breadcrumbs=crumbs,
        live_url=f"{live_base}?region={village_of(inc.grid)}&case={inc.incident_id}",
        now=time.time(),
        audit=reads.audit_entries(client, AUDIT_ROWS, target=inc.incident_id), lang=lang,
        basemap=basemap, photos=photos), h.datum, basemap)
