"""Cameras a platform records (recorder=platform): a flagged event's clip is fetched from the
platform's playback interface (MediaMTX's /get, answered by the synthetic camera server for any
past moment) and stored like Gridwatch's own clips; the camera is never read for it."""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import av
import orjson
import pytest

from domain.access import Role, User
from domain.video import ClipContainer, EventStatus, Recorder
from feeds.sim import camframes, camplayback
from feeds.store.client import sync_client
from feeds.video.clips import ClipConfig
from feeds.video.playback import PlaybackConfig, PlaybackError, fetch, get_url
from feeds.video.registry import parse_recorder
from feeds.video.store import flag_case, read_clips, read_event
from tests.feeds.video.test_clips import _incident
from tests.video_support import cameras, camsim, capture, wait_for

ADMIN = User("admin", Role.ADMIN, "441900")
PRE, POST = 3.0, 2.0


def _platform(base: str, n: int = 1) -> list:
    return [replace(c, recorder=Recorder.PLATFORM, playback_url=f"{base}/get?path={c.camera_id}")
            for c in cameras(base, n)]


def _stamps(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [s[1] for f in c.decode(c.streams.video[0])
                if (s := camframes.read_stamp(f.to_ndarray(format="bgr24")))]


def test_flagged_event_gets_the_platforms_recording(redis_url, tmp_path):
    client = sync_client(redis_url)
    with camsim(fps=5) as (sim, base):
        cams = _platform(base, 2)
        cfg = ClipConfig(cameras=2, radius_m=2000.0, playback=PlaybackConfig(delay_s=0.2))
        with capture(cams, redis_url, tmp_path, clip_cfg=cfg, always=[]) as cap:
            ev = flag_case(client, _incident(), ADMIN, pre_s=PRE, post_s=POST)
            done = wait_for(lambda: (e := read_event(client, ev.event_id)) and
                            e.status not in (EventStatus.PENDING, EventStatus.RECORDING) and e,
                            20)
            read = {cid: f.connects for cid, f in cap.service.feeds.items()}
        served = sim.playbacks
    assert done.status is EventStatus.READY, done
    assert served == 2 and read == {"cam0": 0, "cam1": 0}  # fetched, never streamed
    clips = read_clips(client, done.clips)
    assert {c.camera_id for c in clips} == {"cam0", "cam1"}
    for clip in clips:
        assert clip.source == Recorder.PLATFORM and clip.container == ClipContainer.MP4
        path = tmp_path / f"{clip.clip_id}.mp4"
        with av.open(str(path)) as c:
            assert c.streams.video[0].codec_context.name == "h264"
        ts = _stamps(path)  # the frames of exactly the window, pre-roll included
        assert len(ts) == clip.frames and abs(len(ts) - (PRE + POST) * 5) <= 1
        assert ev.ts - PRE - 0.01 <= ts[0] < ev.ts - PRE + 0.25 and ts[-1] <= ev.ts + POST
        assert clip.start_ts == pytest.approx(ev.ts - PRE)
        poster = (tmp_path / f"{clip.clip_id}.jpg").read_bytes()
        assert poster[:2] == b"\xff\xd8"


def test_platform_errors_are_named(tmp_path):
    with camsim(fps=5) as (_, base):
        cam = _platform(base)[0]
        old = time.time() - camplayback.RETENTION_S - 60  # no longer recorded
        with pytest.raises(PlaybackError, match="answered 404 no recording at that time"):
            fetch(cam, old, old + 5, old + 2, tmp_path / "x", PlaybackConfig(wait_s=0))
        for q, why in (("start=yesterday&duration=5", "start: not an RFC 3339 time"),
                       ("start=2026-01-01T00:00:00Z&duration=-1", "duration: must be in"),
                       ("start=2026-01-01T00:00:00Z&duration=5&format=avi", "format: 'avi'")):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(f"{base}/get?path=cam0&{q}", timeout=5)
            assert e.value.code == 400 and why in e.value.read().decode()
        listing = orjson.loads(urllib.request.urlopen(f"{base}/list?path=cam0", timeout=5).read())
        assert listing[0]["duration"] == camplayback.RETENTION_S
        assert "/get?path=cam0&start=" in listing[0]["url"]
    assert "start=2026-" in get_url("http://m:9996/get?path=a&start=x", 1.78e9, 5.0)
    with pytest.raises(ValueError, match="playback_url: missing"):
        parse_recorder({"recorder": "platform"})
    with pytest.raises(ValueError, match="recorder: 'nvr' is not one of"):
        parse_recorder({"recorder": "nvr"})
    with pytest.raises(ValueError, match="playback_url: needs an http"):
        parse_recorder({"recorder": "platform", "playback_url": "rtsp://m/x"})
