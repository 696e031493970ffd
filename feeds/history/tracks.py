"""Officers' tracks: reading recent fixes, distances, stops, who was near a place and time."""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis

from domain.regions import town_of
from feeds.store import keys

EARTH_M = 6_371_000.0


@dataclass(frozen=True)
class Fix:
    """One position of a track."""

    ts: float
    lon: float
    lat: float
    grid: str


@dataclass(frozen=True)
class Stop:
    """A place where an officer stayed (within `radius` metres for at least `min_s`)."""

    lon: float
    lat: float
    start: float
    end: float


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(a))


def read_track(client: redis.Redis, officer_id: str, home_grid: str, t0: float,
               t1: float) -> list[Fix]:
    """An officer's fixes between t0 and t1 (as far back as the track stream keeps)."""
    key = keys.track(town_of(home_grid), officer_id)
    out = []
    for _, fields in client.xrange(key, min=int(t0 * 1000) - 600_000, max="+"):
        ts, lon, lat, grid = fields[b"p"].decode().split(",")
        if t0 <= float(ts) <= t1:
            out.append(Fix(float(ts), float(lon), float(lat), grid))
    return sorted(out, key=lambda f: f.ts)


def distance(track: Sequence[Fix]) -> float:
    """Metres travelled along a track."""
    return sum(metres(a.lon, a.lat, b.lon, b.lat) for a, b in zip(track, track[1:],
                                                                  strict=False))


def stops(track: Sequence[Fix], radius_m: float = 30.0, min_s: float = 120.0) -> list[Stop]:
    """Places where the track stayed within radius_m for at least min_s seconds."""
    out: list[Stop] = []
    i = 0
    while i < len(track):
        j = i
        while j + 1 < len(track) and metres(track[i].lon, track[i].lat, track[j + 1].lon,
                                            track[j + 1].lat) <= radius_m:
            j += 1
        if track[j].ts - track[i].ts >= min_s:
            group = track[i:j + 1]
            out.append(Stop(sum(f.lon for f in group) / len(group),
                            sum(f.lat for f in group) / len(group), track[i].ts, track[j].ts))
        i = j + 1
    return out


def position_at(track: Sequence[Fix], ts: float, max_gap_s: float = 300.0) -> Fix | None:
    """The fix nearest in time to ts (None if none within max_gap_s)."""
    best = min(track, key=lambda f: abs(f.ts - ts), default=None)
    return best if best is not None and abs(best.ts - ts) <= max_gap_s else None


def near_at(tracks: dict[str, list[Fix]], lon: float, lat: float, ts: float,
            radius_m: float = 1000.0) -> list[tuple[str, float, Fix]]:
    """Officers whose position at ts lay within radius_m of a point, nearest first."""
    out = []
    for oid, track in tracks.items():
        fix = position_at(track, ts)
        if fix is not None:
            d = metres(lon, lat, fix.lon, fix.lat)
            if d <= radius_m:
                out.append((oid, d, fix))
    return sorted(out, key=lambda x: x[1])


def read_tracks(client: redis.Redis, officers: Iterable[tuple[str, str]], t0: float,
                t1: float) -> dict[str, list[Fix]]:
    """Tracks of several (officer_id, home_grid) between t0 and t1."""
    return {oid: read_track(client, oid, grid, t0, t1) for oid, grid in officers}
