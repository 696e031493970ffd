"""The camera registry: CSV load (see docs/cameras.md), demo cameras, Redis store, health."""
from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import redis

from domain.video import (
    Camera,
    CameraKind,
    Health,
    Recorder,
    health_state,
    valid_camera_id,
)
from feeds.geo.csvfile import read_checked_csv
from feeds.geo.hierarchy import CityGeo
from feeds.store import video_keys as vk

log = logging.getLogger(__name__)

COLUMNS = ("camera_id", "name", "lon", "lat", "grid", "stream_url", "kind", "recorder",
           "playback_url")
REQUIRED = ("camera_id", "name", "lon", "lat", "stream_url")
SCHEMES = {CameraKind.MJPEG: ("http", "https"), CameraKind.HLS: ("http", "https"),
           CameraKind.RTSP: ("rtsp", "rtsps"), CameraKind.FLV: ("http", "https")}
MAX_ERRORS = 20


class CameraFileError(ValueError):
    """A camera CSV is wrong; the message names every bad row, field and reason."""


def guess_kind(url: str) -> CameraKind:
    """The kind of a stream URL when the CSV leaves `kind` empty."""
    parts = urlsplit(url)
    if parts.scheme in ("rtsp", "rtsps"):
        return CameraKind.RTSP
    if parts.path.endswith((".flv", ".ts")):
        return CameraKind.FLV
    return CameraKind.HLS if parts.path.endswith(".m3u8") else CameraKind.MJPEG


def parse_recorder(row: Mapping[str, str]) -> tuple[Recorder, str]:
    """Who records a camera and its playback URL; raises ValueError('field: reason')."""
    text = (row.get("recorder") or "").strip().lower()
    try:
        recorder = Recorder(text) if text else Recorder.GRIDWATCH
    except ValueError:
        raise ValueError(f"recorder: {text!r} is not one of gridwatch, platform") from None
    url = (row.get("playback_url") or "").strip()
    if recorder is Recorder.PLATFORM and not url:
        raise ValueError("playback_url: missing (recorder platform: the clips come from the "
                         "platform's playback interface)")
    u = urlsplit(url)
    if url and (u.scheme not in ("http", "https") or not u.hostname):
        raise ValueError(f"playback_url: needs an http(s):// URL with a host, got "
                         f"{u.scheme or 'no scheme'}://{u.hostname or ''}")
    return recorder, url


def _parse_row(row: Mapping[str, str], city: CityGeo, locate: Any) -> Camera:
    """One CSV row → Camera; raises ValueError('field: reason')."""
    for f in REQUIRED:
        if not (row.get(f) or "").strip():
            raise ValueError(f"{f}: missing")
    cid, name = row["camera_id"].strip(), row["name"].strip()
    if not valid_camera_id(cid):
        raise ValueError(f"camera_id: {cid!r} must be 1-64 of A-Z a-z 0-9 _ . - "
                         "(starting with a letter or digit)")
    if len(name) > 100:
        raise ValueError("name: longer than 100 characters")
    coords = []
    for f in ("lon", "lat"):
        try:
            v = float(row[f])
        except ValueError:
            raise ValueError(f"{f}: not a number: {row[f]!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{f}: not a finite number")
        coords.append(v)
    lon, lat = coords
    url = row["stream_url"].strip()
    kind_text = (row.get("kind") or "").strip().lower()
    try:
        kind = CameraKind(kind_text) if kind_text else guess_kind(url)
    except ValueError:
        raise ValueError(f"kind: {kind_text!r} is not one of mjpeg, rtsp, hls, flv") from None
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES[kind] or not parts.hostname:
        raise ValueError(f"stream_url: a {kind.value} stream needs a "
                         f"{'/'.join(SCHEMES[kind])}:// URL with a host, got {url!r}")
    grid = (row.get("grid") or "").strip()
    if grid:
        if grid not in city.hierarchy or city.hierarchy[grid].level != city.hierarchy.levels.leaf:
            raise ValueError(f"grid: {grid!r} is not a grid of {city.hierarchy.city.name}")
    else:
        grid = locate(lon, lat) or ""
        if not grid:
            raise ValueError(f"lon/lat: ({lon}, {lat}) lies in no grid of the city "
                             f"(datum {city.hierarchy.datum}); give the grid column")
    return Camera(cid, name, lon, lat, grid, url, kind, *parse_recorder(row))


def parse_cameras(rows: Iterable[Mapping[str, str]], city: CityGeo, source: str = "cameras",
                  locate: Any = None) -> list[Camera]:
    """Validate CSV rows (as csv.DictReader gives them); raises CameraFileError."""
    if locate is None:
        from feeds.geo.locate import GridIndex  # noqa: PLC0415  (only built when needed)

        index: list[GridIndex] = []

        def locate(lon: float, lat: float) -> str | None:
            if not index:
                index.append(GridIndex(city))
            return index[0].locate_code(lon, lat)

    out, errors, seen = [], [], {}
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            cam = _parse_row(row, city, locate)
        except ValueError as e:
            errors.append(f"{source} row {n}, {e}")
            if len(errors) >= MAX_ERRORS:
                break
            continue
        if cam.camera_id in seen:
            errors.append(f"{source} row {n}, camera_id: {cam.camera_id!r} repeats row "
                          f"{seen[cam.camera_id]}")
            continue
        seen[cam.camera_id] = n
        out.append(cam)
    if errors:
        raise CameraFileError("\n".join(errors))
    return out


def load_cameras(path: str | Path, city: CityGeo) -> list[Camera]:
    """Load and validate a camera CSV (docs/cameras.md); raises CameraFileError."""
    path = Path(path)
    cams = read_checked_csv(path, REQUIRED, COLUMNS, CameraFileError,
                            lambda reader: parse_cameras(reader, city, str(path)))
    log.info("%s: %d cameras", path, len(cams))
    return cams


def save_cameras(client: redis.Redis, cameras: Iterable[Camera]) -> int:
    """Replace the registry in Redis (per-town hash and GEO set); returns how many. New and
    changed cameras are written before the ones gone are removed, so a reader never sees an
    empty registry while the same cameras are saved again (the demo saves them before the
    web turns healthy, the capture worker again when it starts)."""
    cameras = list(cameras)
    old = {cid.decode(): t.decode() for cid, t in client.hgetall(vk.CAMERA_TOWN).items()}
    new = {c.camera_id: c.town for c in cameras}
    by_town: dict[str, list[Camera]] = {}
    for c in cameras:
        by_town.setdefault(c.town, []).append(c)
    pipe = client.pipeline(transaction=False)
    for town, cams in by_town.items():
        pipe.hset(vk.cameras(town), mapping={c.camera_id: orjson.dumps(c.to_json())
                                             for c in cams})
        pipe.geoadd(vk.cameras_geo(town), [x for c in cams for x in (c.lon, c.lat, c.camera_id)])
    if cameras:
        pipe.hset(vk.CAMERA_TOWN, mapping=new)
    moved = [(cid, t) for cid, t in old.items() if new.get(cid) != t]
    for cid, town in moved:  # one key per command: a cluster pipeline takes no more
        pipe.hdel(vk.cameras(town), cid)
        pipe.zrem(vk.cameras_geo(town), cid)
    if gone := [cid for cid in old if cid not in new]:
        pipe.hdel(vk.CAMERA_TOWN, *gone)
    pipe.execute()
    log.info("camera registry: %d cameras in %d towns (%d removed)", len(cameras), len(by_town),
             len(gone))
    return len(cameras)


def read_cameras(client: redis.Redis, towns: Iterable[str]) -> list[Camera]:
    """Registered cameras of some towns, sorted by id."""
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hvals(vk.cameras(t))
    out = [Camera.from_json(orjson.loads(raw)) for res in pipe.execute() for raw in res]
    return sorted(out, key=lambda c: c.camera_id)


def read_camera(client: redis.Redis, camera_id: str) -> Camera | None:
    """One registered camera, or None."""
    town = client.hget(vk.CAMERA_TOWN, camera_id)
    raw = town and client.hget(vk.cameras(town.decode()), camera_id)
    return Camera.from_json(orjson.loads(raw)) if raw else None


def nearest_cameras(client: redis.Redis, towns: Iterable[str], lon: float, lat: float,
                    n: int = 4, radius_km: float = 5.0) -> list[tuple[Camera, float]]:
    """The n cameras nearest to a point (GEOSEARCH over the towns' sets), distance in metres."""
    towns = list(towns)
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.geosearch(vk.cameras_geo(t), longitude=lon, latitude=lat, radius=radius_km,
                       unit="km", sort="ASC", count=n, withdist=True)
    found = sorted(((t, cid.decode(), float(d) * 1000)
                    for t, hits in zip(towns, pipe.execute(), strict=True) for cid, d in hits),
                   key=lambda x: x[2])[:n]
    pipe = client.pipeline(transaction=False)
    for t, cid, _ in found:
        pipe.hget(vk.cameras(t), cid)
    return [(Camera.from_json(orjson.loads(raw)), dist)
            for (_, _, dist), raw in zip(found, pipe.execute(), strict=True) if raw]


def write_health(client: Any, reports: Mapping[str, Mapping[str, Any]],
                 towns: Mapping[str, str]) -> Any:
    """Queue health reports {camera_id: report} on a (sync or async) pipeline or client."""
    by_town: dict[str, dict[str, bytes]] = {}
    for cid, rep in reports.items():
        by_town.setdefault(towns[cid], {})[cid] = orjson.dumps(dict(rep))
    for town, mapping in by_town.items():
        client.hset(vk.camera_health(town), mapping=mapping)
    return client


def read_health(client: redis.Redis, cameras: Iterable[Camera], now: float | None = None,
                stale_s: float = 5.0, offline_s: float = 30.0) -> dict[str, dict[str, Any]]:
    """Health of cameras: {camera_id: {state, last_ts, connected, error, fps, viewers}}."""
    now = time.time() if now is None else now
    cams = list(cameras)
    towns = sorted({c.town for c in cams})
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.hgetall(vk.camera_health(t))
    raw = {cid.decode(): orjson.loads(v) for res in pipe.execute() for cid, v in res.items()}
    out = {}
    for c in cams:
        rep = raw.get(c.camera_id, {})
        state = health_state(rep.get("last_ts"), bool(rep.get("connected")), rep.get("checked"),
                             now, stale_s, offline_s, rep.get("answered"))
        out[c.camera_id] = {"state": state.value, "last_ts": rep.get("last_ts"),
                            "connected": bool(rep.get("connected")),
                            "error": rep.get("error", ""), "fps": rep.get("fps", 0.0),
                            "viewers": rep.get("viewers", 0)}
    return out


def camera_state(client: redis.Redis, camera: Camera, now: float | None = None) -> Health:
    """The health state of one camera."""
    return Health(read_health(client, [camera], now)[camera.camera_id]["state"])


def video_secret(client: redis.Redis) -> bytes:
    """The shared HMAC key of stream and snapshot tickets (created on first use)."""
    client.set(vk.SECRET, secrets.token_hex(32), nx=True)
    return client.get(vk.SECRET)
