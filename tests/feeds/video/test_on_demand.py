"""Cameras read on demand (the demo's 2,958): idle ones render nothing and are probed for their
health; a snapshot, a viewer or a flagged event's clip reads one for as long as it needs, then
it goes idle again. Clips come from the cameras within the radius of the event."""
from __future__ import annotations

import time
from dataclasses import replace

from domain.access import Role, User
from domain.model import Incident
from domain.video import Camera, EventStatus
from feeds.store.client import sync_client
from feeds.video.clips import ClipConfig
from feeds.video.registry import read_health, save_cameras
from feeds.video.store import flag_case, read_clips, read_event
from tests.video_support import FAST, GRID, camsim, capture, read_parts, wait_for

LON, LAT = 113.75, 23.02
ADMIN = User("admin", Role.ADMIN, "441900")


def _frames(sim, cid: str) -> int:
    return int(sim.stats().get(cid, {}).get("frames", 0))


def test_idle_cameras_are_probed_and_read_only_while_needed(redis_url, tmp_path):
    client = sync_client(redis_url)
    with camsim(fps=8) as (sim, base):
        cams = [Camera("cam0", "常读", LON + 0.01, LAT, GRID, f"{base}/cam/cam0.mjpg"),  # 1 km
                Camera("cam1", "按需", LON, LAT, GRID, f"{base}/cam/cam1.mjpg"),
                Camera("gone", "失联", LON + 0.05, LAT, GRID, "http://127.0.0.1:9/cam.mjpg")]
        save_cameras(client, cams)
        cfg = replace(FAST, linger_s=0.5)
        clip_cfg = ClipConfig(step_s=0.3, grace_s=0.3, fallback=0)
        with capture(cams, redis_url, tmp_path, cfg, clip_cfg, always=["cam0"],
                     probe_every_s=0.5) as cap:
            feeds = cap.service.feeds
            wait_for(lambda: feeds["cam0"].seq > 2 and feeds["cam1"].answered, 10)
            health = wait_for(lambda: (h := read_health(client, cams))["gone"]["error"] and h)
            assert {c: h["state"] for c, h in health.items()} == {
                "cam0": "online", "cam1": "online", "gone": "offline"}  # cam1: it answered
            assert _frames(sim, "cam1") == 0 and feeds["cam1"].task is None  # rendered nothing

            jpeg = cap.call(lambda: cap.service._snapshot(feeds["cam1"]))  # as /snapshot does
            assert b"200 OK" in jpeg[:20] and b"image/jpeg" in jpeg[:200]
            parts = read_parts(f"{cap.url}/stream/cam1.mjpg", 3)  # a viewer reads it
            assert len(parts) == 3
            wait_for(lambda: feeds["cam1"].task is None, 5)  # idle again after linger_s
            wait_for(lambda: sim.stats()["cam1"]["watchers"] == 0, 5)  # its upstream closed
            time.sleep(0.3)
            still = _frames(sim, "cam1")
            time.sleep(0.6)
            assert _frames(sim, "cam1") == still  # nobody watches: the camera renders nothing

            inc = Incident("CASE-OD", "fire", "仓库冒烟", LAT, LON + 2e-4, GRID, time.time())
            ev = flag_case(client, inc, ADMIN, pre_s=1.0, post_s=2.0)
            done = wait_for(lambda: (e := read_event(client, ev.event_id)) and
                            e.status is EventStatus.READY and e, 20)
            assert done.cameras == ("cam1",)  # within 300 m: not the one 1 km off
            (clip,) = read_clips(client, done.clips)
            assert 15 < clip.dist_m < 25 and clip.frames >= 2.0 * clip.fps * 0.8  # the post-roll
            assert ev.ts - 1.0 <= clip.start_ts and clip.end_ts >= ev.ts + 1.5
            wait_for(lambda: feeds["cam1"].task is None, 5)
            assert cap.call(lambda: _summary(cap))["reading"] == 1


async def _summary(cap) -> dict:
    return cap.service.summary(time.time())
