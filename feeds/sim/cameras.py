"""The demo's cameras: placed inside grids, streaming from the synthetic camera server, with
motion zones on the synthetic frames' quiet strip."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely

from domain.video import Camera, CameraKind, Recorder
from feeds.geo.hierarchy import CityGeo
from feeds.sim.camframes import QUIET_REGION
from feeds.video.motion import MotionZone


def _point_in(geom: Any, rng: np.random.Generator) -> tuple[float, float]:
    """A random point inside a polygon (rejection sampling; its label point as a fallback)."""
    xmin, ymin, xmax, ymax = geom.bounds
    for _ in range(20):
        xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(16, 2))
        inside = shapely.contains_xy(geom, xy[:, 0], xy[:, 1])
        if inside.any():
            x, y = xy[np.argmax(inside)]
            return round(float(x), 6), round(float(y), 6)
    p = geom.representative_point()
    return round(p.x, 6), round(p.y, 6)


STREET_INSET_DEG = 1.5e-4  # ~15 m: a camera stands on the kerb of the street bounding its grid


def _on_street(geom: Any, rng: np.random.Generator) -> tuple[float, float]:
    """A point along the streets of a grid: grids are drawn along roads, so on the grid's
    boundary moved ~15 m inwards, at a seeded place along it (else anywhere inside)."""
    inner = geom.buffer(-STREET_INSET_DEG)
    if inner.is_empty or inner.length == 0:
        return _point_in(geom, rng)
    ring = max(getattr(inner, "geoms", [inner]), key=lambda g: g.area).exterior
    p = ring.interpolate(float(rng.uniform(0, 1)), normalized=True)
    if not shapely.contains_xy(geom, p.x, p.y):
        return _point_in(geom, rng)
    return round(p.x, 6), round(p.y, 6)


def spread(cameras: list[Camera], n: int) -> list[Camera]:
    """n of the cameras spread evenly over the list (it is in grid order: over the city)."""
    if n >= len(cameras):
        return list(cameras)
    return [cameras[int(i * len(cameras) / n)] for i in range(n)]


def demo_cameras(city: CityGeo, base_url: str, per_grid: int = 1, seed: int = 7,
                 limit: int | None = None, recorder: Recorder = Recorder.PLATFORM
                 ) -> list[Camera]:
    """Demo cameras: per_grid in each grid (or in `limit` grids spread over the city), each
    placed along a street of its grid, streaming from the synthetic camera server at
    base_url, which also records them (recorder platform: its /get playback interface)."""
    base = base_url.rstrip("/")
    grids = city.hierarchy.at_level(city.hierarchy.levels.leaf)
    if limit is not None and limit < len(grids) * per_grid:
        n = max(1, limit // per_grid)
        grids = [grids[int(i * len(grids) / n)] for i in range(n)]
    rng = np.random.default_rng(seed)
    out = []
    for g in grids:
        for k in range(1, per_grid + 1):
            lon, lat = _on_street(city.shapes[g.code], rng)
            cid = f"cam-{g.code}-{k}"
            out.append(Camera(cid, f"{g.name} {k}号摄像头", lon, lat, g.code,
                              f"{base}/cam/{cid}.mjpg", CameraKind.MJPEG, recorder,
                              f"{base}/get?path={cid}" if recorder is Recorder.PLATFORM
                              else ""))
    return out


def demo_zones(cameras: Iterable[Camera], sustain_s: float = 3.0,
               cooldown_s: float = 120.0) -> list[MotionZone]:
    """A zone per demo camera: the synthetic frames' quiet strip, where only intruders move."""
    x0, y0, x1, y1 = QUIET_REGION
    poly = ((x0, y0 + 0.01), (x1, y0 + 0.01), (x1, y1 - 0.005), (x0, y1 - 0.005))
    return [MotionZone(c.camera_id, poly, 0.02, sustain_s, cooldown_s, "quiet-strip")
            for c in cameras]
