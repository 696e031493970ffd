"""An HLS H.264 camera (segments ffmpeg writes, served over loopback HTTP) is read like an RTSP
one: packets kept undecoded, a flagged event's clip remuxed into MP4, few frames decoded."""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
import time
from dataclasses import replace

import av
import pytest

from domain.access import Role, User
from domain.video import CameraKind, ClipContainer, EventStatus
from feeds.store.client import sync_client
from feeds.video.clips import ClipConfig
from feeds.video.store import flag_case, read_clips, read_event
from tests.feeds.video.test_clips import _incident
from tests.video_support import cameras, capture, hls_writer, wait_for

pytestmark = pytest.mark.skipif(not shutil.which("ffmpeg"), reason="no ffmpeg")
ADMIN = User("admin", Role.ADMIN, "441900")
PRE, POST = 2.0, 2.0


class Quiet(http.server.SimpleHTTPRequestHandler):
    """The segment folder over HTTP, without a log line per request."""

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_hls_h264_event_gets_a_remuxed_mp4(redis_url, tmp_path):
    client = sync_client(redis_url)
    folder = tmp_path / "hls"
    folder.mkdir()
    files = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=files.serve_forever, daemon=True).start()
    try:
        with hls_writer(folder):
            cam = replace(cameras("http://x", 1)[0], kind=CameraKind.HLS,
                          stream_url=f"http://127.0.0.1:{files.server_port}/index.m3u8")
            cfg = ClipConfig(cameras=1, radius_m=2000.0, grace_s=0.3)
            with capture([cam], redis_url, tmp_path, clip_cfg=cfg) as cap:
                feed = cap.service.feeds[cam.camera_id]
                wait_for(lambda: feed.packets is not None and (f := feed.packets.first_ts())
                         is not None and time.time() - f > PRE + 0.5, 20)
                ev = flag_case(client, _incident(), ADMIN, pre_s=PRE, post_s=POST)
                done = wait_for(lambda: (e := read_event(client, ev.event_id)) and e.status
                                not in (EventStatus.PENDING, EventStatus.RECORDING) and e, 20)
                received, decoded = feed.counters.received, feed.counters.decoded
    finally:
        files.shutdown()
    assert done.status is EventStatus.READY, done
    (clip,) = read_clips(client, done.clips)
    assert clip.container == ClipContainer.MP4
    with av.open(str(tmp_path / f"{clip.clip_id}.mp4")) as c:
        st = c.streams.video[0]
        frames = sum(1 for p in c.demux(st) if p.size)
        assert st.codec_context.name == "h264" and frames == clip.frames
    assert frames >= (PRE + POST) * 10 - 2  # the whole window, from a keyframe
    assert received >= 4 * 10 and decoded <= received / 4, (received, decoded)
