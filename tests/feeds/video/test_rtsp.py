"""An RTSP H.264 camera served by a real RTSP server (GStreamer): its flagged event gets an MP4
clip remuxed from the camera's own packets (no re-encoding, the capture worker decodes only a
keyframe a second), its snapshots come from decoded keyframes."""
from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import av
import orjson
import pytest

from domain.access import Role, User
from domain.video import CameraKind, ClipContainer, EventStatus
from feeds.store.client import sync_client
from feeds.video.clips import ClipConfig
from feeds.video.store import flag_case, read_clips, read_event
from tests.feeds.video.test_clips import _incident
from tests.video_support import cameras, capture, gst_rtsp_available, rtsp_server, wait_for

pytestmark = pytest.mark.skipif(not gst_rtsp_available(),
                                reason="no GStreamer RTSP server (scripts/system-deps.sh)")
ADMIN = User("admin", Role.ADMIN, "441900")
PRE, POST, FPS = 2.0, 2.0, 10


def _probe(path: Path) -> tuple[str, str, float, int, str]:
    """Container names, codec, duration, frames and profile of a clip, read by PyAV."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = sum(1 for p in c.demux(s) if p.size)
        return (c.format.name, s.codec_context.name, float(c.duration or 0) / 1e6, frames,
                s.codec_context.profile or "")


def test_rtsp_h264_event_gets_a_remuxed_mp4(redis_url, tmp_path):
    client = sync_client(redis_url)
    with rtsp_server(fps=FPS, gop=FPS) as url:
        cam = cameras("http://x", 1)[0]
        cam = type(cam)(cam.camera_id, cam.name, cam.lon, cam.lat, cam.grid, url,
                        CameraKind.RTSP)
        cfg = ClipConfig(cameras=1, radius_m=2000.0, grace_s=0.3)
        with capture([cam], redis_url, tmp_path, clip_cfg=cfg, secret=b"k" * 32) as cap:
            feed = cap.service.feeds[cam.camera_id]
            wait_for(lambda: feed.packets is not None and (first := feed.packets.first_ts())
                     is not None and time.time() - first > PRE + 0.5, 15)
            ev = flag_case(client, _incident(), ADMIN, pre_s=PRE, post_s=POST)
            done = wait_for(lambda: (e := read_event(client, ev.event_id)) and
                            e.status not in (EventStatus.PENDING, EventStatus.RECORDING) and e,
                            20)
            lag = time.time() - (ev.ts + POST)
            received, decoded = feed.counters.received, feed.counters.decoded
            health = orjson.loads(urllib.request.urlopen(f"{cap.url}/health", timeout=5).read())
    assert done.status is EventStatus.READY, done
    assert health["cameras"] == 1 and 0 < health["decoded"] <= health["received"] / 5
    (clip,) = read_clips(client, done.clips)
    assert clip.container == ClipContainer.MP4 and clip.mime == "video/mp4"
    path = tmp_path / f"{clip.clip_id}.mp4"
    head = path.read_bytes()[:4096]
    assert head[4:8] == b"ftyp" and head.find(b"moov") < max(head.find(b"mdat"), 4096)
    fmt, codec, duration, frames, profile = _probe(path)
    assert "mp4" in fmt and codec == "h264" and profile == "Constrained Baseline"
    # [T - pre, T + post] from the keyframe at or before T - pre (one a second)
    assert PRE + POST - 0.3 <= duration <= PRE + POST + 1.3, duration
    assert abs(frames - duration * FPS) <= 2 and clip.frames == frames
    assert ev.ts - PRE - 1.1 <= clip.start_ts <= ev.ts - PRE + 0.2
    assert abs(clip.end_ts - (ev.ts + POST)) < 0.5
    print(f"mp4 {duration:.2f} s, {frames} frames; ready {lag:.2f} s after the post-roll; "
          f"{decoded} of {received} frames decoded")
    assert lag < 3.0, f"clip ready {lag:.2f} s after the post-roll"
    # the capture worker decoded about one frame a second, not all ten
    assert received >= 4 * FPS and decoded <= received / 5, (received, decoded)
    assert (tmp_path / f"{clip.clip_id}.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_rtsp_snapshot_and_counters_in_health(redis_url, tmp_path):
    with rtsp_server(fps=FPS, gop=5) as url:
        cam = cameras("http://x", 1)[0]
        cam = type(cam)(cam.camera_id, cam.name, cam.lon, cam.lat, cam.grid, url,
                        CameraKind.RTSP)
        with capture([cam], redis_url, tmp_path) as cap:
            feed = cap.service.feeds[cam.camera_id]
            wait_for(lambda: feed.counters.decoded >= 2, 10)
            jpeg = urllib.request.urlopen(f"{cap.url}/snapshot/{cam.camera_id}.jpg",
                                          timeout=5).read()
            report = feed.report(time.time())
    assert jpeg[:2] == b"\xff\xd8"
    assert report["received"] >= 4 * report["decoded"] > 0
