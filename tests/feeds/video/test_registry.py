"""The camera registry: CSV errors name row, field and reason; demo cameras; Redis store."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import shapely

from domain.regions import Level
from feeds.sim.cameras import demo_cameras
from feeds.store.client import sync_client
from feeds.video.registry import (
    CameraFileError,
    load_cameras,
    nearest_cameras,
    read_camera,
    read_cameras,
    read_health,
    save_cameras,
    write_health,
)

HEADER = "camera_id,name,lon,lat,grid,stream_url,kind\n"


def _grid(city_ctx, i: int = 0) -> tuple[str, float, float]:
    g = city_ctx.hierarchy.at_level(Level.GRID)[i].code
    p = city_ctx.city.shapes[g].representative_point()
    return g, p.x, p.y


def _write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    p = tmp_path / "cameras.csv"
    p.write_text(header + body, encoding="utf-8")
    return p


def test_load_valid_file_locates_missing_grid(tmp_path, city_ctx):
    g, lon, lat = _grid(city_ctx, 5)
    p = _write(tmp_path, f"c1,东门 1,{lon},{lat},{g},rtsp://10.0.0.1/s1,rtsp\n"
                         f"c2,东门 2,{lon},{lat},,http://10.0.0.2/video.mjpg,\n"
                         f"c3,东门 3,{lon},{lat},,https://h/live/index.m3u8,\n")
    cams = load_cameras(p, city_ctx.city)
    assert [c.grid for c in cams] == [g, g, g]
    assert [c.kind.value for c in cams] == ["rtsp", "mjpeg", "hls"]


@pytest.mark.parametrize(("row", "expect"), [
    ("c1,n,abc,23.0,,http://h/x.mjpg,", "row 2, lon: not a number: 'abc'"),
    ("c1,n,113.7,23.0,441900999999999,http://h/x.mjpg,", "row 2, grid: '441900999999999'"),
    ("c1,n,0,0,,http://h/x.mjpg,", "row 2, lon/lat: (0.0, 0.0) lies in no grid"),
    ("c1,n,113.7,23.0,{g},ftp://h/x,mjpeg", "row 2, stream_url: a mjpeg stream needs"),
    ("c1,n,113.7,23.0,{g},http://h/x,webrtc", "row 2, kind: 'webrtc' is not one of"),
    ("../c1,n,113.7,23.0,{g},http://h/x,", "row 2, camera_id: '../c1' must be"),
    (",n,113.7,23.0,{g},http://h/x,", "row 2, camera_id: missing"),
    ("c1,n,113.7,23.0,{g},http://h/x,\nc1,m,113.7,23.0,{g},http://h/y,",
     "row 3, camera_id: 'c1' repeats row 2"),
])
def test_load_errors_name_row_field_reason(tmp_path, city_ctx, row, expect):
    g, _, _ = _grid(city_ctx)
    p = _write(tmp_path, row.format(g=g) + "\n")
    with pytest.raises(CameraFileError) as e:
        load_cameras(p, city_ctx.city)
    assert expect in str(e.value) and str(p) in str(e.value)


def test_header_errors(tmp_path, city_ctx):
    p = _write(tmp_path, "c1,n,113.7,23.0\n", header="camera_id,name,lon,lat,zoom\n")
    with pytest.raises(CameraFileError, match=r"row 1 \(header\): missing column\(s\) "
                                              r"stream_url; unknown column\(s\) zoom"):
        load_cameras(p, city_ctx.city)
    with pytest.raises(CameraFileError, match="cannot read"):
        load_cameras(tmp_path / "nope.csv", city_ctx.city)


def test_demo_cameras_lie_in_their_grid(city_ctx):
    cams = demo_cameras(city_ctx.city, "http://127.0.0.1:9/", limit=60)
    assert len(cams) == 60 and len({c.town for c in cams}) > 20  # spread over the city
    for c in cams:
        assert shapely.contains_xy(city_ctx.city.shapes[c.grid], c.lon, c.lat)
        assert c.stream_url == f"http://127.0.0.1:9/cam/{c.camera_id}.mjpg"
    everyone = demo_cameras(city_ctx.city, "http://h", per_grid=1)
    assert len(everyone) == len(city_ctx.hierarchy.at_level(Level.GRID))  # a camera per grid
    assert len({c.grid for c in everyone}) == len(everyone)
    kerb = [shapely.Point(c.lon, c.lat).distance(city_ctx.city.shapes[c.grid].boundary)
            for c in everyone]  # along the streets bounding the grid, ~15 m in
    assert sum(1.0e-4 < d < 2.0e-4 for d in kerb) > 0.95 * len(everyone)
    assert demo_cameras(city_ctx.city, "http://127.0.0.1:9/", limit=60) == cams  # seeded


def test_registry_nearest_and_health(redis_url, city_ctx):
    client = sync_client(redis_url)
    cams = demo_cameras(city_ctx.city, "http://h", limit=100)
    assert save_cameras(client, cams) == 100
    assert save_cameras(client, cams[:50]) == 50  # a save replaces the registry
    assert len(read_cameras(client, city_ctx.towns)) == 50
    target = cams[7]
    assert read_camera(client, target.camera_id) == target
    assert read_camera(client, cams[80].camera_id) is None
    near = nearest_cameras(client, city_ctx.towns, target.lon + 1e-4, target.lat, n=3,
                           radius_km=50)
    assert near[0][0] == target and near[0][1] < 20 and len(near) == 3
    assert [d for _, d in near] == sorted(d for _, d in near)
    now = time.time()
    write_health(client, {target.camera_id: {"last_ts": now, "connected": True,
                                             "checked": now}},
                 {target.camera_id: target.town})
    h = read_health(client, cams[:10], now)
    assert h[target.camera_id]["state"] == "online"
    assert {h[c.camera_id]["state"] for c in cams[:10] if c != target} == {"offline"}
