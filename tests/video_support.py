"""Helpers for the video tests and bench: the synthetic camera server and a capture worker,
each in its own thread and event loop on free loopback ports."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from domain.video import Camera, CameraKind
from feeds.sim.camsim import CamSim, serve_camsim
from feeds.store.client import async_client
from feeds.video.capture import CaptureConfig, CaptureService
from feeds.video.clips import ClipConfig, ClipMaker
from feeds.video.flagger import RedFlagger
from feeds.video.main import CaptureParts, serve_capture
from feeds.video.motion import MotionConfig, MotionWorker, MotionZone
from tests.conftest import ThreadedServer

GRID = "441900101001001"


@contextmanager
def camsim(fps: float = 5.0, width: int = 320, height: int = 240
           ) -> Iterator[tuple[CamSim, str]]:
    """A synthetic camera server; yields it and its base URL."""
    sim = CamSim(fps, width, height)
    server = ThreadedServer(lambda stop, ready: serve_camsim(sim, "127.0.0.1", 0, stop, ready))
    server.start()
    try:
        yield sim, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def cameras(base_url: str, n: int, grid: str = GRID, lon: float = 113.75, lat: float = 23.02,
            kind: CameraKind = CameraKind.MJPEG) -> list[Camera]:
    """n cameras on the synthetic server, a few metres apart."""
    return [Camera(f"cam{i}", f"测试摄像头 {i}", lon + i * 1e-4, lat, grid,
                   f"{base_url}/cam/cam{i}.mjpg", kind) for i in range(n)]


FAST = CaptureConfig(buffer_s=12, max_viewers=3, stale_s=1.5, offline_s=6, read_timeout_s=2,
                     backoff_min_s=0.2, backoff_max_s=1.0, start_jitter_s=0)


@dataclass
class Capture:
    """A running capture worker (and its parts) for tests."""

    parts: CaptureParts
    port: int
    server: ThreadedServer

    @property
    def url(self) -> str:
        """Base URL of its HTTP routes."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def service(self) -> CaptureService:
        """The camera feeds."""
        return self.parts.service

    def call(self, coro_fn: Callable[[], object], timeout: float = 60) -> object:
        """Run a coroutine in the worker's loop and wait for its result."""
        loop = self.server._loop
        assert loop is not None
        return asyncio.run_coroutine_threadsafe(coro_fn(), loop).result(timeout)


@contextmanager
def capture(cams: list[Camera], redis_url: str, clips_dir: object = None,
            cfg: CaptureConfig = FAST, clip_cfg: ClipConfig | None = None,
            secret: bytes | None = None, flag_red: bool = False,
            towns: list[str] | None = None,
            motion: tuple[list[MotionZone], MotionConfig] | None = None,
            always: list[str] | None = None, probe_every_s: float = 120.0
            ) -> Iterator[Capture]:
    """A capture worker in a thread: readers, HTTP routes, health, clips (and flagger, and
    motion flagging of the given zones); `always`: the cameras read continuously (None:
    all, the others on demand)."""
    holder: list[CaptureParts] = []

    async def run(stop: asyncio.Event, ready: Callable[[int], None]) -> None:
        client = async_client(redis_url)
        service = CaptureService(cams, cfg, secret, always)
        parts = CaptureParts(service, client,
                             ClipMaker(service, client, clips_dir or "/tmp/gw-clips", clip_cfg),
                             RedFlagger(client, towns or [GRID[:9]], 2, 2) if flag_red else None,
                             health_every_s=0.3, probe_every_s=probe_every_s,
                             motion=MotionWorker(service, client, *motion) if motion else None)
        holder.append(parts)
        await serve_capture(parts, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run)
    server.start()
    try:
        yield Capture(holder[0], server.port, server)
    finally:
        server.stop()


def wait_for(pred: Callable[[], object], timeout: float = 10.0, step: float = 0.05) -> object:
    """Poll until pred() is truthy; returns its value (AssertionError on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not met in time")


def read_parts(url: str, n: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
    """The first n parts of an MJPEG stream."""
    from feeds.video.mjpeg import MjpegParser, boundary_of

    with urllib.request.urlopen(url, timeout=timeout) as r:
        parser = MjpegParser(boundary_of(r.headers["Content-Type"]))
        parts: list = []
        while len(parts) < n:
            data = r.read1(65536)
            if not data:
                break
            parts += [(p.headers, p.body) for p in parser.feed(data)]
    return parts[:n]


def decode(jpeg: bytes) -> np.ndarray:
    """JPEG bytes → BGR image."""
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


def make_clip(client: object, clips_dir: object, event: object, camera: Camera,
              start_ts: float, frames: int = 20, fps: float = 10.0, size: tuple[int, int] =
              (320, 240)) -> object:
    """Write a real VP8 clip of rendered frames for an event, with its poster and record."""
    from domain.video import Clip
    from feeds.sim import camframes
    from feeds.video.clips import ClipWriter
    from feeds.video.store import new_id, queue_clip

    clip_id = new_id("cl")
    d = Path(clips_dir)
    d.mkdir(parents=True, exist_ok=True)
    bg = camframes.background(camera.camera_id, *size)
    jpegs = [camframes.render_jpeg(bg, i, start_ts + i / fps) for i in range(frames)]
    w = ClipWriter(d / f"{clip_id}.webm", fps, "VP80")
    w.write(jpegs)
    w.close()
    (d / f"{clip_id}.jpg").write_bytes(jpegs[frames // 2])
    clip = Clip(clip_id, event.event_id, camera.camera_id, camera.name, event.grid, start_ts,
                start_ts + (frames - 1) / fps, frames, fps, size[0], size[1],
                (d / f"{clip_id}.webm").stat().st_size, time.time(), 12.0)
    queue_clip(client.pipeline(transaction=False), clip).execute()
    return clip


RTSP_SERVER = Path(__file__).with_name("rtsp_server.py")


def gst_rtsp_available() -> bool:
    """Whether Debian's GStreamer RTSP server (python3-gi, x264enc) is installed."""
    probe = ("import gi; gi.require_version('GstRtspServer', '1.0'); gi.require_version('Gst', "
             "'1.0'); from gi.repository import Gst; Gst.init(None); "
             "assert Gst.ElementFactory.find('x264enc')")
    return subprocess.run(["/usr/bin/python3", "-c", probe], capture_output=True,
                          timeout=30).returncode == 0


@contextmanager
def rtsp_server(fps: int = 10, gop: int = 10, path: str = "/cam",
                size: tuple[int, int] = (320, 240)) -> Iterator[str]:
    """A real RTSP server (GStreamer, H.264 test frames) on a free loopback port, in its own
    process stopped by its PID; yields the stream's rtsp:// URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["/usr/bin/python3", str(RTSP_SERVER), "--port", str(port),
                             "--fps", str(fps), "--gop", str(gop), "--path", path,
                             "--width", str(size[0]), "--height", str(size[1])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("ready"):
            raise RuntimeError(f"RTSP server did not start: {line!r} {proc.stderr.read()[:500]}"
                               if proc.stderr else line)
        yield f"rtsp://127.0.0.1:{port}{path}"
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


def h264_window(camera_id: str, start_ts: float, frames: int = 40, fps: int = 10,
                size: tuple[int, int] = (320, 240)) -> object:
    """Rendered frames encoded to H.264 by libx264 (a keyframe a second), as the packet
    window of a camera that sent them (feeds.video.h264.Window)."""
    from fractions import Fraction

    import av

    from feeds.sim import camframes
    from feeds.video.h264 import Packet, StreamInfo, Window

    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = size[0], size[1], "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, fps), fps
    enc.options = {"tune": "zerolatency", "preset": "ultrafast", "g": str(fps), "bf": "0"}
    bg = camframes.background(camera_id, *size)
    pkts = []
    for i in range(frames):
        f = av.VideoFrame.from_ndarray(camframes.render(bg, i, start_ts + i / fps), "bgr24")
        f = f.reformat(format="yuv420p")
        f.pts = i
        pkts += enc.encode(f)
    pkts += enc.encode(None)
    info = StreamInfo("h264", size[0], size[1], Fraction(1, fps), bytes(enc.extradata or b""))
    return Window(info, [Packet(p.pts, p.dts, bool(p.is_keyframe), bytes(p)) for p in pkts],
                  start_ts, start_ts + (frames - 1) / fps)


def make_mp4_clip(client: object, clips_dir: object, event: object, camera: Camera,
                  start_ts: float, frames: int = 40, fps: int = 10) -> object:
    """A real H.264 MP4 clip (remuxed by feeds.video.h264.remux_mp4) with poster and record."""
    from domain.video import Clip, ClipContainer
    from feeds.video.h264 import remux_mp4, window_poster
    from feeds.video.store import new_id, queue_clip

    d = Path(clips_dir)
    d.mkdir(parents=True, exist_ok=True)
    win = h264_window(camera.camera_id, start_ts, frames, fps)
    clip_id = new_id("cl")
    n, _ = remux_mp4(d / f"{clip_id}.mp4", win)
    (d / f"{clip_id}.jpg").write_bytes(window_poster(win))
    clip = Clip(clip_id, event.event_id, camera.camera_id, camera.name, event.grid, start_ts,
                win.end_ts, n, float(fps), 320, 240, (d / f"{clip_id}.mp4").stat().st_size,
                time.time(), 20.0, ClipContainer.MP4)
    queue_clip(client.pipeline(transaction=False), clip).execute()
    return clip


FFMPEG_SOURCE = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
                 "testsrc=size=320x240:rate=10", "-c:v", "libx264", "-preset", "ultrafast",
                 "-tune", "zerolatency", "-g", "10", "-pix_fmt", "yuv420p"]


@contextmanager
def hls_writer(folder: Path) -> Iterator[Path]:
    """ffmpeg writing a live HLS stream (1 s segments, H.264 test frames) into folder, in its
    own process stopped by its PID; yields the playlist once it lists two segments."""
    playlist = folder / "index.m3u8"
    proc = subprocess.Popen([*FFMPEG_SOURCE, "-f", "hls", "-hls_time", "1", "-hls_list_size",
                             "6", "-hls_flags", "delete_segments+omit_endlist", str(playlist)])
    try:
        wait_for(lambda: playlist.exists() and playlist.read_text().count("#EXTINF") >= 2,
                 20, 0.2)
        yield playlist
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)
