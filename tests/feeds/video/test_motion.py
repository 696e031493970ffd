"""Motion flagging: the detector on synthetic frame sequences, zone files, the intruder of the
synthetic cameras, and camsim + capture + Redis end to end (an intruder → a motion event with
its camera's clip, listed on /video)."""
from __future__ import annotations

import time
import urllib.request

import cv2
import pytest

from domain.access import Role, User
from domain.video import Camera, EventStatus
from feeds.live import reads
from feeds.sim import camframes
from feeds.sim.cameras import demo_zones
from feeds.store.client import sync_client
from feeds.video.motion import (
    MotionConfig,
    MotionDetector,
    MotionZone,
    ZoneFileError,
    decode_grey,
    load_zones,
    reduced_flag,
)
from feeds.video.store import read_clips, read_events
from tests.video_support import GRID, cameras, camsim, capture, wait_for

T0 = 1_700_000_000.0
CAM = Camera("cam-1", "测试 1", 113.75, 23.02, GRID, "http://127.0.0.1:9/cam/cam-1.mjpg")
TOP_RIGHT = ((0.70, 0.02), (0.98, 0.02), (0.98, 0.12), (0.70, 0.12))  # nothing moves there


def _run(zones: list[MotionZone], intruders: list[tuple[float, float]], seconds: float,
         fps: float = 2.0, size: tuple[int, int] = (320, 240)) -> list:
    """Feed rendered frames (moving shapes always, intruders in [start, end) seconds) through
    a detector as the capture worker does (JPEG, reduced grey decode); its triggers."""
    bg = camframes.background(CAM.camera_id, *size)
    det = MotionDetector(zones)
    flag, out = reduced_flag(size[0], det.cfg.width), []
    for i in range(int(seconds * fps)):
        t = i / fps
        phase = next(((t - a) / (b - a) for a, b in intruders if a <= t < b), None)
        jpeg = camframes.render_jpeg(bg, i, T0 + t, 80, phase)
        out += det.update(T0 + t, decode_grey(jpeg, flag))
    return out


def _zone(polygon=None, **kw) -> MotionZone:
    z = demo_zones([CAM], **kw)[0]
    return z if polygon is None else MotionZone(z.camera_id, polygon, z.min_area_share,
                                                z.sustain_s, z.cooldown_s, "corner")


def test_moving_background_shapes_give_no_event():
    assert _run([_zone()], [], 60) == []


def test_brief_intruder_is_not_sustained():
    assert _run([_zone(sustain_s=3)], [(10, 11.5)], 30) == []


def test_sustained_intruder_flags_once_then_cooldown():
    got = _run([_zone(sustain_s=3, cooldown_s=20)], [(10, 18), (22, 30), (45, 53)], 60)
    assert [(t.since - T0, t.ts - T0) for t in got] == [(10, 13), (45, 48)]  # 22-30: cooling
    assert all(t.camera_id == "cam-1" and t.zone == "quiet-strip" and t.share > 0.02
               for t in got)


def test_motion_outside_the_zone_gives_none():
    assert _run([_zone(TOP_RIGHT)], [(5, 20)], 25) == []


def test_larger_frames_and_several_zones():
    got = _run([_zone(), _zone(TOP_RIGHT)], [(5, 12)], 15, size=(640, 480))
    assert [t.zone for t in got] == ["quiet-strip"]


@pytest.mark.parametrize("size", [(160, 120), (320, 240), (640, 480)])
def test_stamp_readable_with_intruder(size):
    bg = camframes.background("c", *size)
    img = cv2.imdecode(__import__("numpy").frombuffer(
        camframes.render_jpeg(bg, 42, T0, 70, 0.5), "uint8"), cv2.IMREAD_COLOR)
    assert camframes.read_stamp(img) == (42, T0)


def test_zone_file(tmp_path):
    path = tmp_path / "zones.csv"
    path.write_text("camera_id,zone,polygon,min_area_share,sustain_s,cooldown_s\n"
                    'cam-1,gate,"0.1 0.1; 0.5 0.1; 0.5 0.5",0.05,2,60\n'
                    "cam-2,,0 0;1 0;1 1;0 1,,,\n", encoding="utf-8")
    a, b = load_zones(path, ["cam-1", "cam-2"])
    assert a == MotionZone("cam-1", ((0.1, 0.1), (0.5, 0.1), (0.5, 0.5)), 0.05, 2, 60, "gate")
    assert (b.name, b.min_area_share, b.sustain_s, b.cooldown_s) == ("zone-3", 0.02, 3, 120)


def test_zone_file_errors_name_row_and_field(tmp_path):
    path = tmp_path / "zones.csv"
    path.write_text("camera_id,zone,polygon,min_area_share\n"
                    "cam-1,a,0.1 0.1; 0.5 0.1,\n"
                    "cam-1,b,0.1 0.1; 1.5 0.1; 0.5 0.5,\n"
                    "cam-1,c,0 0;1 0;1 1,abc\n"
                    "cam-1,d,0 0;1 0;1 1,2\n"
                    "cam-9,e,0 0;1 0;1 1,\n"
                    "cam-1,f,0 0;1 0;1 1,\n"
                    "cam-1,f,0 0;1 0;1 1,\n"
                    ",g,0 0;1 0;1 1,\n", encoding="utf-8")
    with pytest.raises(ZoneFileError) as e:
        load_zones(path, ["cam-1"])
    lines = str(e.value).splitlines()
    assert lines == [f"{path} row 2, polygon: needs at least 3 points 'x y; x y; x y', got 2",
                     f"{path} row 3, polygon: point 2 '1.5 0.1' is not 'x y' with x and y "
                     "between 0 and 1",
                     f"{path} row 4, min_area_share: not a number: 'abc'",
                     f"{path} row 5, min_area_share: 2 is outside 0.001..1",
                     f"{path} row 6, camera_id: 'cam-9' is not a registered camera",
                     f"{path} row 8, zone: 'f' of cam-1 repeats row 7",
                     f"{path} row 9, camera_id: missing"]
    path.write_text("camera,polygon,colour\n", encoding="utf-8")
    with pytest.raises(ZoneFileError, match=r"row 1 \(header\): missing column\(s\) camera_id; "
                                            r"unknown column\(s\) camera, colour"):
        load_zones(path)
    with pytest.raises(ZoneFileError, match="cannot read"):
        load_zones(tmp_path / "none.csv")


def test_intruder_on_camsim_flags_a_motion_event_with_its_clip(redis_url, tmp_path, city_ctx):
    from dashboard.readmodel import ReadModel  # the pages list and show it
    from dashboard.refusals import Forbidden
    from dashboard.video_page import render_event_page, render_queue_page

    client = sync_client(redis_url)
    cfg = MotionConfig(analysis_fps=4, warmup_frames=4, pre_s=1.5, post_s=1.5)
    with camsim(fps=6) as (sim, base):
        cams = cameras(base, 2)
        zones = demo_zones(cams, sustain_s=1.5, cooldown_s=60)
        with capture(cams, redis_url, tmp_path, motion=(zones, cfg)) as cap:
            worker = cap.parts.motion
            wait_for(lambda: worker.stats.frames >= 2 * (cfg.warmup_frames + 4), 10)
            assert read_events(client, [GRID[:9]]) == []  # moving shapes: nothing
            with urllib.request.urlopen(f"{base}/control/cam1/intruder?seconds=3", timeout=5):
                pass
            ev = wait_for(lambda: next((e for e in read_events(client, [GRID[:9]])
                                        if e.status is EventStatus.READY), None), 12)
            time.sleep(0.5)
            evs = read_events(client, [GRID[:9]])
    assert len(evs) == 1 and worker.stats.events == 1 and worker.stats.per_camera == {"cam1": 1}
    assert (ev.reason, ev.by, ev.incident_id, ev.grid, ev.cameras) == (
        "motion", "system", "", GRID, ("cam1",))
    (clip,) = read_clips(client, ev.clips)
    assert clip.camera_id == "cam1" and clip.frames >= 6
    assert (tmp_path / f"{clip.clip_id}.webm").stat().st_size > 0
    (entry,) = reads.audit_entries(client, 10, target="camera:cam1")
    assert entry["action"] == "video.flag" and ev.event_id in entry["detail"]
    admin = User("admin", Role.ADMIN, "441900")
    rm = ReadModel(city_ctx, client)
    queue = str(render_queue_page(rm, admin, "en"))
    assert f"/video/{ev.event_id}" in queue and "Motion detected" in queue
    page = str(render_event_page(rm, admin, ev.event_id, "en"))
    assert f"/video/clip/{clip.clip_id}.webm" in page and "/case/" not in page
    other = User("b", Role.REVIEWER, city_ctx.towns[-1])
    with pytest.raises(Forbidden):
        render_event_page(rm, other, ev.event_id, "en")
    print(f"motion: {worker.stats.frames} frames analysed, "
          f"{worker.stats.cpu_s / max(1, worker.stats.frames) * 1000:.2f} ms CPU each")
