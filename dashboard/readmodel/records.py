"""Record reads for the track, audit and dead-letter pages: each scoped, each a view-model."""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from dashboard.refusals import Forbidden, NotFound
from domain.access import Role, User
from domain.model import Incident
from domain.regions import ancestors_of
from feeds.geo.hierarchy import region_features
from feeds.history import tracks
from feeds.history.audit import AuditFilter, query
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.store import keys
from layouts.audit_view import AuditView
from layouts.format import LOCAL_TZ
from layouts.map_view import view_query
from layouts.track_view import TrackView

AROUND_S = 30 * 60  # a case's track: this long before and after it was reported
AUDIT_ROWS = 500
DEAD_LETTER_ROWS = 100
FILTER_KEYS = ("user", "kind", "since", "until")


# ---- tracks ----------------------------------------------------------------------------
def _subjects(ctx: CityContext, query: Mapping[str, str], user: User, lang: str
              ) -> tuple[str, list[tuple[str, str]], str]:
    """(title, [(officer, home grid)], grid) of ?officer= or ?grid=; NotFound / Forbidden."""
    h = ctx.hierarchy
    if query.get("officer"):
        rec = ctx.roster.get(query["officer"])
        if rec is None:
            raise NotFound("msg.no_track")
        if not user.may_see_region(rec.grid):
            raise Forbidden("msg.out_of_scope")
        return f"{rec.name} ({rec.officer_id})", [(rec.officer_id, rec.grid)], rec.grid
    grid = query.get("grid", "")
    if grid not in h or len(grid) != 15:
        raise NotFound("msg.no_track")
    if not user.may_see_region(grid):
        raise Forbidden("msg.out_of_scope")
    offs = [(o.officer_id, o.grid) for o in ctx.roster.values() if o.grid == grid]
    name = h[grid].name_en or h[grid].name if lang == "en" else h[grid].name
    return name, offs, grid


def track_view(ctx: CityContext, client: redis.Redis, user: User, query: Mapping[str, str],
               lang: str, incident: Incident | None = None) -> TrackView:
    """The fixes of an officer or a grid over ?minutes= (or around `incident`), with stops."""
    title, officers, grid = _subjects(ctx, query, user, lang)
    if incident is not None:
        t0, t1 = incident.reported_ts - AROUND_S, incident.reported_ts + AROUND_S
    else:
        minutes = min(max(float(query.get("minutes") or 60), 1), 360)
        t1 = time.time()
        t0 = t1 - minutes * 60
    fixes = tracks.read_tracks(client, officers, t0, t1)
    return TrackView(
        subject=title, back_href=f"/grid/{grid}" + view_query(lang, False), t0=t0, t1=t1,
        tracks={o: [[f.ts, f.lon, f.lat] for f in fx] for o, fx in fixes.items() if fx},
        names={o: ctx.roster[o].name for o, _ in officers},
        stats={o: _stats(fx) for o, fx in fixes.items() if fx},
        stops=[{"officer_id": o, "lon": s.lon, "lat": s.lat, "start": s.start, "end": s.end}
               for o, fx in fixes.items() for s in tracks.stops(fx)],
        incident=None if incident is None else {
            "id": incident.incident_id, "title": incident.title, "lon": incident.lon,
            "lat": incident.lat, "ts": incident.reported_ts, "level": incident.level.value,
            "category": incident.category},
        near=[] if incident is None else [
            {"officer_id": o, "name": ctx.roster[o].name, "dist_m": d}
            for o, d, _ in tracks.near_at(fixes, incident.lon, incident.lat,
                                          incident.reported_ts)],
        outline=_named(region_features(ctx.city, [grid]), lang), lang=lang)


def _named(fc: dict[str, Any], lang: str) -> dict[str, Any]:
    """Region features with their names in the page's language (English when there is one)."""
    if lang == "en":
        for f in fc.get("features", []):
            props = f.get("properties") or {}
            props["name"] = props.get("name_en") or props.get("name", "")
    return fc


def _stats(fx: list[tracks.Fix]) -> dict[str, float]:
    km = tracks.distance(fx) / 1000
    hours = max(1e-9, (fx[-1].ts - fx[0].ts) / 3600)
    return {"fixes": len(fx), "km": km, "stops": len(tracks.stops(fx)),
            "avg_kmh": km / hours if len(fx) > 1 else 0.0}


# ---- audit -----------------------------------------------------------------------------
def parse_time(text: str) -> float | None:
    """Epoch seconds of a local 'YYYY-MM-DD[ HH:MM[:SS]]' (or of an epoch number); None."""
    text = (text or "").strip().replace("T", " ")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ).timestamp()
        except ValueError:
            continue
    return None


def audit_filter(args: Mapping[str, str]) -> AuditFilter:
    """The filter of a request's query (unparseable times are ignored)."""
    return AuditFilter(user=(args.get("user") or "").strip()[:64],
                       kind=(args.get("kind") or "").strip()[:40],
                       since=parse_time(args.get("since", "")),
                       until=parse_time(args.get("until", "")))


def within(ctx: CityContext, user: User) -> str | None:
    """The region an administrator's audit reads are bounded to (None: the whole city)."""
    return None if user.scope == ctx.hierarchy.city.code else user.scope


def audit_view(ctx: CityContext, client: redis.Redis, user: User, args: Mapping[str, str],
               lang: str) -> AuditView:
    """The audit entries of an administrator's region, filtered; Forbidden for anyone else."""
    if user.role is not Role.ADMIN:
        raise Forbidden("msg.admins_only")
    entries = query(client, audit_filter(args), within(ctx, user), AUDIT_ROWS)
    region = ctx.hierarchy[user.scope] if user.scope in ctx.hierarchy else None
    name = user.scope if region is None else (
        region.name if lang == "zh" else region.name_en or region.name)
    return AuditView(entries, {k: args.get(k, "") for k in FILTER_KEYS}, name, lang)


# ---- dead letters ----------------------------------------------------------------------
@dataclass(frozen=True)
class DeadLetters:
    """The newest refused messages, and the ids of those already resubmitted."""

    entries: list[dict[str, Any]]
    done: frozenset[str]


def city_admin(user: User) -> bool:
    """Whether a user administers the whole city (refused messages belong to no region)."""
    try:
        return user.role is Role.ADMIN and len(ancestors_of(user.scope)) == 1  # the city
    except ValueError:  # not a region code
        return False


def dead_letters(client: redis.Redis, user: User) -> DeadLetters:
    """The dead-letter review of a city administrator; Forbidden for anyone else."""
    if not city_admin(user):
        raise Forbidden("msg.admins_only")
    done = frozenset(x.decode() for x in client.smembers(keys.DEAD_LETTER_DONE))
    return DeadLetters(reads.dead_letters(client, DEAD_LETTER_ROWS), done)
