"""The capture worker's cameras: one upstream reader per camera, a ring buffer of recent JPEGs,
reconnection with back-off, snapshots and an MJPEG re-stream for any number of viewers."""
from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from domain.video import Camera, check_ticket, valid_camera_id
from feeds.video import avread, httpauth, mjpeg
from feeds.video.h264 import PacketRing

log = logging.getLogger(__name__)

READ_ERRORS = (OSError, mjpeg.MjpegError, httpauth.AuthError, asyncio.IncompleteReadError,
               asyncio.LimitOverrunError, TimeoutError, RuntimeError)


@dataclass(frozen=True)
class CaptureConfig:
    """Limits and timings of the capture worker (docs/cameras.md)."""

    buffer_s: float = 15.0  # ring buffer length; must exceed the clips' pre-roll
    max_viewers: int = 16  # re-stream viewers per camera
    max_viewers_total: int = 256
    stale_s: float = 5.0  # no frame for this long: stale (snapshots refused)
    offline_s: float = 30.0
    read_timeout_s: float = 5.0  # upstream silent this long: reconnect
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0
    opencv_max_fps: float = 5.0  # https / non-H.264: frames kept per second (rest skipped)
    decode_fps: float = 1.0  # rtsp/hls H.264: keyframes decoded per second (snapshots, motion)
    jpeg_quality: int = 80
    start_jitter_s: float = 1.0  # readers start spread over this long (no thundering herd)
    linger_s: float = 5.0  # an on-demand camera is read on for this long after its last user


def _part_ts(headers: dict[str, str], now: float) -> float:
    """A part's capture time: its X-Timestamp if plausible, else its arrival time."""
    try:
        ts = float(headers.get("x-timestamp", ""))
    except ValueError:
        return now
    return ts if abs(ts - now) < 10 else now


class CameraFeed:
    """One camera: one upstream reader however many viewers, and its recent frames."""

    def __init__(self, camera: Camera, cfg: CaptureConfig):
        self.camera = camera
        self.cfg = cfg
        self.frames: deque[tuple[float, bytes]] = deque()
        self.seq = 0  # frames received ever
        self.connected = False
        self.connects = 0  # upstream connections opened
        self.error = ""
        self.viewers = 0
        self.always = True  # read continuously (else only while watched or recorded)
        self.users = 0  # viewers, snapshots and clips reading it now
        self.task: asyncio.Task | None = None  # its reader, while it runs
        self.answered: float | None = None  # when an idle camera last answered a probe
        self.packets: PacketRing | None = None  # H.264 packets of the session (rtsp, hls)
        self.counters = avread.AvCounters()  # frames received / decoded by PyAV sessions
        self._new = asyncio.Event()
        self._cv_stop = threading.Event()

    @property
    def direct(self) -> bool:
        """Whether the stream is read by the plain HTTP MJPEG parser (else OpenCV)."""
        return self.camera.kind.value == "mjpeg" and urlsplit(self.camera.stream_url).scheme \
            == "http"

    def add_frame(self, ts: float, jpeg: bytes) -> None:
        """Keep a frame, forget those older than the buffer, wake the viewers."""
        if self.frames and ts <= self.frames[-1][0]:
            ts = self.frames[-1][0] + 1e-4  # keep the buffer in time order
        self.frames.append((ts, jpeg))
        horizon = ts - self.cfg.buffer_s
        while self.frames and self.frames[0][0] < horizon:
            self.frames.popleft()
        self.seq += 1
        self.connected = True
        ev, self._new = self._new, asyncio.Event()
        ev.set()

    def latest(self) -> tuple[float, bytes] | None:
        """The newest frame, or None."""
        return self.frames[-1] if self.frames else None

    def between(self, after: float, upto: float) -> list[tuple[float, bytes]]:
        """Buffered frames with after < ts <= upto, oldest first."""
        return [f for f in self.frames if after < f[0] <= upto]

    def fps(self, now: float, window: float = 5.0) -> float:
        """Frames per second received over the last `window` seconds."""
        n = sum(1 for ts, _ in reversed(self.frames) if ts > now - window)
        return n / window

    async def wait_frames(self, n: int, timeout: float) -> None:
        """Wait until n more frames have arrived, or timeout (a reader just started)."""
        loop = asyncio.get_running_loop()
        until, target = loop.time() + timeout, self.seq + n
        while self.seq < target and (left := until - loop.time()) > 0:
            try:
                await asyncio.wait_for(self._new.wait(), left)
            except TimeoutError:
                return

    async def next_frame(self, seq: int, timeout: float) -> tuple[int, float, bytes]:
        """The first frame after `seq` (waits up to timeout; raises TimeoutError)."""
        ev = self._new
        if self.seq == seq or not self.frames:
            await asyncio.wait_for(ev.wait(), timeout)
        ts, jpeg = self.frames[-1]
        return self.seq, ts, jpeg

    def report(self, now: float) -> dict[str, Any]:
        """The health report stored in Redis (feeds.cameras.read_health reads it)."""
        last = self.latest()
        idle = self.task is None
        return {"last_ts": last[0] if last else None, "connected": self.connected,
                "checked": now, "error": self.error[:200], "fps": round(self.fps(now), 2),
                "viewers": self.viewers, "idle": idle, "received": self.counters.received,
                "decoded": self.counters.decoded,
                "answered": self.answered if idle else None}

    async def run(self) -> None:
        """Read the upstream forever, reconnecting with exponential back-off."""
        await asyncio.sleep(random.uniform(0, self.cfg.start_jitter_s))
        delay = self.cfg.backoff_min_s
        while True:
            before = self.seq
            try:
                await (self._read_http() if self.direct else self._read_opencv())
                self.error = "stream ended"
            except READ_ERRORS as e:
                self.error = f"{type(e).__name__}: {e}"[:200]
            self.connected = False
            if self.seq > before:
                delay = self.cfg.backoff_min_s
            log.info("camera %s: %s; reconnecting in %.1f s", self.camera.camera_id, self.error,
                     delay)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.cfg.backoff_max_s)

    async def _read_http(self) -> None:
        reader, writer, boundary = await httpauth.open_stream(self.camera.stream_url,
                                                              self.cfg.read_timeout_s)
        self.connects += 1
        try:
            parser = mjpeg.MjpegParser(boundary)
            while True:
                data = await asyncio.wait_for(reader.read(256 * 1024), self.cfg.read_timeout_s)
                if not data:
                    return
                now = time.time()
                for part in parser.feed(data):
                    if part.body[:2] == b"\xff\xd8":
                        self.add_frame(_part_ts(part.headers, now), part.body)
        finally:
            writer.close()

    async def _read_opencv(self) -> None:
        """Read rtsp / hls (PyAV) or https (OpenCV) streams in a thread of their own."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def finish(exc: BaseException | None) -> None:
            if not done.done():
                done.set_exception(exc) if exc else done.set_result(None)

        def target() -> None:
            exc: BaseException | None = None
            try:
                self._session(loop)
            except Exception as e:  # noqa: BLE001  (handed to the reader loop)
                exc = RuntimeError(str(e) or type(e).__name__)
            try:
                loop.call_soon_threadsafe(finish, exc)
            except RuntimeError:  # the loop is gone: the worker is shutting down
                pass

        self._cv_stop.clear()
        threading.Thread(target=target, name=f"cv-{self.camera.camera_id}", daemon=True).start()
        try:
            await done
        finally:
            self._cv_stop.set()

    def _session(self, loop: asyncio.AbstractEventLoop) -> None:
        """One connection in the reader thread: PyAV for rtsp / hls (H.264 packets into
        self.packets, some frames decoded), OpenCV for https; JPEGs go to the ring buffer."""
        cfg = self.cfg

        def on_jpeg(ts: float, jpeg: bytes) -> None:
            try:
                loop.call_soon_threadsafe(self.add_frame, ts, jpeg)
            except RuntimeError:  # the loop is gone
                self._cv_stop.set()

        def on_ring(ring: PacketRing | None = None) -> None:
            self.packets = ring
            self.connects += 1

        if self.camera.kind.value in ("rtsp", "hls", "flv"):
            avread.read_session(self.camera.stream_url, avread.AvReadConfig(
                cfg.read_timeout_s, cfg.buffer_s, cfg.decode_fps, cfg.opencv_max_fps,
                cfg.jpeg_quality), self._cv_stop, self.counters, on_ring, on_jpeg)
        else:
            avread.read_opencv(self.camera.stream_url, self.camera.kind.value,
                               cfg.read_timeout_s, cfg.opencv_max_fps, cfg.jpeg_quality,
                               self._cv_stop, on_ring, on_jpeg)


class CaptureService:
    """Every camera's feed and the worker's HTTP routes (snapshot, stream, health)."""

    def __init__(self, cameras: Iterable[Camera], cfg: CaptureConfig | None = None,
                 secret: bytes | None = None, always: Iterable[str] | None = None):
        """`always`: the cameras read continuously (ring buffers, motion); None: every one
        Gridwatch records (recorder=gridwatch).
        The others are read on demand: while watched, snapshotted or recorded."""
        self.cfg = cfg or CaptureConfig()
        self.secret = secret
        self.feeds = {c.camera_id: CameraFeed(c, self.cfg) for c in cameras}
        keep = None if always is None else set(always)
        for cid, f in self.feeds.items():  # a platform records its cameras: no ring buffer
            f.always = cid in keep if keep is not None else f.camera.recorder.value == "gridwatch"
        self.tasks: list[asyncio.Task] = []
        self._ending: set[asyncio.Task] = set()

    def start(self) -> None:
        """Start the reader of every continuously read camera (in the running loop)."""
        for f in self.feeds.values():
            if f.always:
                self._start(f)

    def _start(self, f: CameraFeed) -> None:
        f.task = asyncio.create_task(f.run(), name=f"cam-{f.camera.camera_id}")
        self.tasks = [t for t in self.tasks if not t.done()] + [f.task]

    def acquire(self, f: CameraFeed) -> None:
        """Someone reads the camera now: start its reader if it is idle."""
        f.users += 1
        if f.task is None:
            self._start(f)

    def release(self, f: CameraFeed) -> None:
        """Someone stopped reading it: an on-demand camera goes idle after linger_s."""
        f.users -= 1
        if f.users <= 0 and not f.always:
            asyncio.get_running_loop().call_later(self.cfg.linger_s, self._idle, f)

    def _idle(self, f: CameraFeed) -> None:
        if f.users > 0 or f.always or f.task is None:
            return
        task, f.task = f.task, None
        f._cv_stop.set()
        f.connected = False
        f.frames.clear()
        f.packets = None
        ender = asyncio.get_running_loop().create_task(mjpeg.cancel_all([task]))
        self._ending.add(ender)  # the loop keeps only weak references to tasks
        ender.add_done_callback(self._ending.discard)

    async def stop(self) -> None:
        """Stop the readers."""
        for f in self.feeds.values():
            f._cv_stop.set()
        await mjpeg.cancel_all(self.tasks)

    def summary(self, now: float) -> dict[str, int]:
        """Counts for /health: cameras, how many have a fresh frame, viewers, frames."""
        reading = [f for f in self.feeds.values() if f.task is not None]  # idle: no frames
        fresh = sum(1 for f in reading
                    if (last := f.latest()) and now - last[0] <= self.cfg.stale_s)
        return {"cameras": len(self.feeds), "fresh": fresh, "viewers": self.viewers,
                "reading": len(reading),  # and PyAV's frames received / decoded, ever
                "received": sum(f.counters.received for f in self.feeds.values()),
                "decoded": sum(f.counters.decoded for f in self.feeds.values())}

    @property
    def viewers(self) -> int:
        """Re-stream viewers over all cameras."""
        return sum(f.viewers for f in self.feeds.values())

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one HTTP connection."""
        await mjpeg.serve_one(reader, writer, lambda req: self._route(req, reader, writer))

    def _feed_for(self, req: mjpeg.Request, kind: str, ext: str
                  ) -> tuple[CameraFeed | None, bytes | None]:
        name = req.path.rsplit("/", 1)[-1]
        cid = name.removesuffix(ext)
        if not name.endswith(ext) or not valid_camera_id(cid) or cid not in self.feeds:
            return None, mjpeg.response(404, "no such camera\n")
        if self.secret is not None and not check_ticket(
                self.secret, cid, kind, req.query.get("ticket", ""), time.time()):
            return None, mjpeg.response(403, "missing or expired ticket; open the camera "
                                             "through the dashboard's /video/camera/ route\n")
        return self.feeds[cid], None

    async def _route(self, req: mjpeg.Request, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        if req.method not in ("GET", "HEAD"):
            writer.write(mjpeg.response(405, "GET only\n"))
        elif req.path == "/health":  # counts only: per-camera reports go to Redis
            writer.write(mjpeg.response(200, orjson.dumps(self.summary(time.time())),
                                        "application/json"))
        elif req.path.startswith("/snapshot/"):
            feed, err = self._feed_for(req, "snapshot", ".jpg")
            writer.write(err or await self._snapshot(feed))
        elif req.path.startswith("/stream/"):
            feed, err = self._feed_for(req, "stream", ".mjpg")
            if feed is not None and req.method == "HEAD":
                writer.write(mjpeg.stream_head())
            elif feed is not None:
                await self._stream(feed, reader, writer)
                return
            else:
                writer.write(err)
        else:
            writer.write(mjpeg.response(404, "not found\n"))
        await writer.drain()

    async def _snapshot(self, feed: CameraFeed) -> bytes:
        last = feed.latest()
        if not feed.always and (last is None or time.time() - last[0] > self.cfg.stale_s):
            self.acquire(feed)  # an idle camera: read it for a fresh frame
            try:
                await feed.wait_frames(1, self.cfg.read_timeout_s)
            finally:
                self.release(feed)
            last = feed.latest()
        age = time.time() - last[0] if last else None
        if last is None or age > self.cfg.stale_s:
            why = "no frame yet" if last is None else f"no frame for {age:.0f} s"
            link = "connected" if feed.connected else "reconnecting"  # no upstream detail
            return mjpeg.response(503, f"camera offline: {why} ({link})\n")
        return mjpeg.response(200, last[1], "image/jpeg", {"X-Timestamp": f"{last[0]:.3f}"})

    async def _stream(self, feed: CameraFeed, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        cid = feed.camera.camera_id
        if feed.viewers >= self.cfg.max_viewers:
            writer.write(mjpeg.response(503, f"viewer limit reached: {feed.viewers} viewers "
                                             f"already watch camera {cid}\n"))
            return await writer.drain()
        if self.viewers >= self.cfg.max_viewers_total:
            writer.write(mjpeg.response(503, "viewer limit of the capture worker reached\n"))
            return await writer.drain()
        feed.viewers += 1
        self.acquire(feed)
        try:
            writer.write(mjpeg.stream_head())
            last = feed.latest()
            seq = feed.seq - 1 if last and time.time() - last[0] <= self.cfg.stale_s \
                else feed.seq
            while not reader.at_eof():
                try:
                    seq, ts, jpeg = await feed.next_frame(seq, 2.0)
                except TimeoutError:
                    continue
                writer.write(mjpeg.part_bytes(jpeg, ts))
                await asyncio.wait_for(writer.drain(), 10)
        except (ConnectionError, TimeoutError):
            pass
        finally:
            feed.viewers -= 1
            self.release(feed)
