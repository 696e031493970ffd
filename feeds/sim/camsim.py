"""Synthetic camera server for the demo and tests: MJPEG of rendered frames over plain HTTP.

GET /cam/<id>.mjpg (multipart/x-mixed-replace, parts carry X-Timestamp and X-Frame-Index),
GET /get?path=<id>&start=RFC3339&duration=S&format=mp4|fmp4|webm and GET /list?path=<id> (a
platform's playback server, MediaMTX's interface: any past moment of the last 7 days),
GET /cam/<id>.jpg (one fresh frame), POST|GET /control/<id>/drop?seconds=S (the camera's
streams break and it refuses connections for S seconds), POST|GET
/control/<id>/intruder?seconds=S (an intruder walks through the frame's quiet strip for S
seconds; some cameras also get intruders on a seeded schedule), GET /health (JSON counters).
Any valid camera id is served (up to max_cameras); a camera renders only while watched, and a
HEAD of its stream (a health probe) renders nothing.
Run: python -m feeds.camsim --port P --cameras N [--fps F --width W --height H
     --intruder-every S --intruder-share X]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import random
import signal
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import orjson

from domain.video import valid_camera_id
from feeds.ingest.config import ClientLimits
from feeds.sim import camframes, camplayback
from feeds.video import mjpeg

log = logging.getLogger(__name__)


@dataclass
class SimCamera:
    """One synthetic camera: its background, frame counter, latest frame and viewers."""

    camera_id: str
    bg: np.ndarray | None  # drawn when it renders, dropped when nobody watches
    index: int = -1
    ts: float = 0.0
    jpeg: bytes = b""
    watchers: int = 0
    connections_total: int = 0
    down_until: float = 0.0
    generation: int = 0  # bumped by a drop: open streams of older generations end
    intruder_from: float = 0.0  # an intruder is in the frame from ... until (epoch s)
    intruder_until: float = 0.0
    next_intruder: float = 0.0  # the next scheduled intruder (0: none scheduled)
    task: asyncio.Task | None = None
    new_frame: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, index: int, ts: float, jpeg: bytes) -> None:
        """Make a frame the latest and wake the streams."""
        self.index, self.ts, self.jpeg = index, ts, jpeg
        ev, self.new_frame = self.new_frame, asyncio.Event()
        ev.set()


class CamSim:
    """The synthetic camera server's state and request handler."""

    def __init__(self, fps: float = 2.0, width: int = 320, height: int = 240,
                 max_cameras: int = 200, quality: int = 80, threads: int = 2):
        self.fps, self.width, self.height = fps, width, height
        self.max_cameras, self.quality = max_cameras, quality
        self.intruder_every_s, self.intruder_share, self.seed = 0.0, 0.0, 0
        self.intruder_s = 6.0
        self.playbacks = 0  # /get requests answered with a recording
        self.cameras: dict[str, SimCamera] = {}
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="camsim")
        self.loop: asyncio.AbstractEventLoop | None = None

    def schedule_intruders(self, every_s: float, share: float = 0.05, seconds: float = 6.0,
                           seed: int = 7) -> None:
        """Give a seeded `share` of the cameras an intruder of `seconds` about every every_s
        (uniformly 0.5-1.5 times it; the first within one every_s)."""
        self.intruder_every_s, self.intruder_share = every_s, share
        self.intruder_s, self.seed = seconds, seed

    def _scheduled(self, camera_id: str) -> bool:
        """Whether a camera is among the seeded share that gets scheduled intruders."""
        return self.intruder_every_s > 0 and \
            zlib.crc32(f"{self.seed}:{camera_id}".encode()) % 10_000 < self.intruder_share * 1e4

    def camera(self, camera_id: str) -> SimCamera | None:
        """The camera of an id (made on first use), None past max_cameras."""
        cam = self.cameras.get(camera_id)
        if cam is None and len(self.cameras) < self.max_cameras:
            cam = SimCamera(camera_id, None)
            if self._scheduled(camera_id):
                rng = random.Random(f"{self.seed}:{camera_id}")
                cam.next_intruder = time.time() + rng.uniform(0.1, 1.0) * self.intruder_every_s
            self.cameras[camera_id] = cam
        return cam

    def intruder(self, camera_id: str, seconds: float) -> None:
        """Let an intruder walk through the camera's quiet strip for `seconds` from now."""
        cam = self.camera(camera_id)
        if cam is not None:
            cam.intruder_from, cam.intruder_until = time.time(), time.time() + seconds
            log.info("camsim: intruder on %s for %.1f s", camera_id, seconds)

    def intruder_threadsafe(self, camera_id: str, seconds: float) -> None:
        """intruder() from another thread (tests)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.intruder, camera_id, seconds)

    def _intruder_phase(self, cam: SimCamera, ts: float) -> float | None:
        """How far the camera's intruder has walked (0..1) at ts, None if there is none."""
        if cam.next_intruder and ts >= cam.next_intruder:
            cam.intruder_from, cam.intruder_until = ts, ts + self.intruder_s
            cam.next_intruder = ts + random.uniform(0.5, 1.5) * self.intruder_every_s
        if not cam.intruder_from <= ts < cam.intruder_until:
            return None
        return (ts - cam.intruder_from) / max(0.1, cam.intruder_until - cam.intruder_from)

    async def _render(self, cam: SimCamera) -> tuple[int, float, bytes]:
        if cam.bg is None:
            cam.bg = camframes.background(cam.camera_id, self.width, self.height)
        ts = time.time()
        index = cam.index + 1
        jpeg = await asyncio.get_running_loop().run_in_executor(
            self.pool, camframes.render_jpeg, cam.bg, index, ts, self.quality,
            self._intruder_phase(cam, ts))
        return index, ts, jpeg

    async def _run(self, cam: SimCamera) -> None:
        """Render frames at fps while anyone watches and the camera is up."""
        period = 1.0 / self.fps
        next_t = time.monotonic()
        while cam.watchers > 0 and time.time() >= cam.down_until:
            cam.publish(*await self._render(cam))
            next_t += period
            delay = next_t - time.monotonic()
            if delay < -period:  # fell behind: do not burst
                next_t = time.monotonic()
            await asyncio.sleep(max(0.0, delay))
        cam.task = None
        cam.bg = None  # 3,000 idle cameras hold no images
        cam.publish(cam.index, cam.ts, cam.jpeg)  # wake streams so they see the state

    def drop(self, camera_id: str, seconds: float) -> None:
        """Break the camera's streams and refuse it for `seconds` (call in the loop)."""
        cam = self.camera(camera_id)
        if cam is not None:
            cam.down_until = time.time() + seconds
            cam.generation += 1
            cam.publish(cam.index, cam.ts, cam.jpeg)
            log.info("camsim: %s down for %.1f s", camera_id, seconds)

    def drop_threadsafe(self, camera_id: str, seconds: float) -> None:
        """drop() from another thread (tests)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.drop, camera_id, seconds)

    def stats(self) -> dict[str, dict[str, float]]:
        """Per camera: open streams, connections ever, frames rendered."""
        return {c.camera_id: {"watchers": c.watchers, "connections": c.connections_total,
                              "frames": c.index + 1} for c in self.cameras.values()}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one HTTP connection."""
        await mjpeg.serve_one(reader, writer, lambda req: self._route(req, writer))

    async def _route(self, req: mjpeg.Request, writer: asyncio.StreamWriter) -> None:
        parts = [p for p in req.path.split("/") if p]
        if req.path in ("/get", "/list"):
            writer.write(await self._playback(req))
        elif req.path == "/health":
            writer.write(mjpeg.response(200, orjson.dumps(self.stats()), "application/json"))
        elif len(parts) == 3 and parts[0] == "control" and parts[2] == "drop":
            self.drop(parts[1], float(req.query.get("seconds", "5")))
            writer.write(mjpeg.response(200, "dropped\n"))
        elif len(parts) == 3 and parts[0] == "control" and parts[2] == "intruder":
            try:
                seconds = min(600.0, max(0.0, float(req.query.get("seconds", "6"))))
            except ValueError:
                seconds = -1.0
            if seconds < 0 or not valid_camera_id(parts[1]):
                writer.write(mjpeg.response(400, "bad camera id or seconds\n"))
            else:
                self.intruder(parts[1], seconds)
                writer.write(mjpeg.response(200, "intruder\n"))
        elif len(parts) == 2 and parts[0] == "cam" and parts[1].endswith((".mjpg", ".jpg")):
            cid, _, ext = parts[1].rpartition(".")
            cam = self.camera(cid) if valid_camera_id(cid) and req.method != "HEAD" else None
            if req.method == "HEAD" and valid_camera_id(cid):  # a probe: it renders nothing
                known = self.cameras.get(cid)
                writer.write(mjpeg.response(503, "camera down\n") if known and time.time()
                             < known.down_until else mjpeg.stream_head())
            elif cam is None:
                writer.write(mjpeg.response(404, "no such camera\n"))
            elif time.time() < cam.down_until:
                writer.write(mjpeg.response(503, "camera down\n"))
            elif ext == "jpg":
                _, ts, jpeg = await self._render(cam)
                if cam.task is None:
                    cam.bg = None
                writer.write(mjpeg.response(200, jpeg, "image/jpeg",
                                            {"X-Timestamp": f"{ts:.3f}"}))
            else:
                await self._stream(cam, writer)
                return
        else:
            writer.write(mjpeg.response(404, "not found\n"))
        await writer.drain()

    async def _playback(self, req: mjpeg.Request) -> bytes:
        """Answer /get (a rendered recording of a window) or /list (the timespans kept)."""
        cid, now = req.query.get("path", ""), time.time()
        try:
            if not valid_camera_id(cid):
                raise camplayback.PlaybackError(400, "path: not a camera id")
            if req.path == "/list":
                host = req.headers.get("host", "127.0.0.1")
                return mjpeg.response(200, orjson.dumps(camplayback.listing(
                    f"http://{host}", cid, now)), "application/json")
            win = camplayback.parse_get(req.query, now)
        except camplayback.PlaybackError as e:
            return mjpeg.response(e.status, f"{e}\n")
        self.playbacks += 1
        body = await asyncio.get_running_loop().run_in_executor(
            self.pool, camplayback.encode, cid, win, self.fps, self.width, self.height)
        return mjpeg.response(200, body, camplayback.MEDIA_TYPES[win.fmt])

    async def _stream(self, cam: SimCamera, writer: asyncio.StreamWriter) -> None:
        cam.watchers += 1
        cam.connections_total += 1
        gen, last = cam.generation, cam.index
        try:
            if cam.task is None:
                cam.task = asyncio.create_task(self._run(cam))
            writer.write(mjpeg.stream_head())
            while True:
                ev = cam.new_frame
                if cam.index == last:
                    await ev.wait()
                if cam.generation != gen or time.time() < cam.down_until:
                    break
                if cam.index > last:
                    last = cam.index
                    writer.write(mjpeg.part_bytes(cam.jpeg, cam.ts, cam.index))
                    await asyncio.wait_for(writer.drain(), 10)
        finally:
            cam.watchers -= 1


async def serve_camsim(sim: CamSim, host: str, port: int, stop: asyncio.Event,
                       ready: Callable[[int], None] | None = None) -> None:
    """Serve the synthetic cameras until `stop` is set."""
    sim.loop = asyncio.get_running_loop()
    connections = mjpeg.Connections(sim.handle, ClientLimits(read_timeout_s=10))
    server = await asyncio.start_server(connections, host, port, backlog=256,
                                        limit=connections.head_limit)
    bound = server.sockets[0].getsockname()[1]
    log.info("synthetic cameras on http://%s:%s/cam/<id>.mjpg (%.1f fps, %dx%d)", host, bound,
             sim.fps, sim.width, sim.height)
    if ready:
        ready(bound)
    async with server:
        await stop.wait()
    await connections.close()
    await mjpeg.cancel_all(cam.task for cam in sim.cameras.values() if cam.task)
    sim.pool.shutdown(wait=False, cancel_futures=True)


def main(argv: list[str] | None = None) -> int:
    """python -m feeds.sim.camsim --port P --cameras N."""
    ap = argparse.ArgumentParser(prog="python -m feeds.sim.camsim",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8768)
    ap.add_argument("--cameras", type=int, default=200, help="most distinct camera ids served")
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    ap.add_argument("--intruder-every", type=float, default=0.0,
                    help="seconds between scheduled intruders (0: only on /control)")
    ap.add_argument("--intruder-share", type=float, default=0.05,
                    help="share of the cameras that get scheduled intruders")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sim = CamSim(args.fps, args.width, args.height, args.cameras)
    sim.schedule_intruders(args.intruder_every, args.intruder_share)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_camsim(sim, args.host, args.port, stop)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def run_camsim(host: str = "127.0.0.1", port: int = 8768, cameras: int = 200,
               fps: float = 2.0, width: int = 320, height: int = 240,
               intruder_every_s: float = 600.0, intruder_share: float = 0.05) -> None:
    """The synthetic camera server process (demo), until SIGINT/SIGTERM; a seeded share of
    the cameras shows an intruder about every intruder_every_s (0: none)."""
    sim = CamSim(fps, width, height, cameras)
    sim.schedule_intruders(intruder_every_s, intruder_share)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_camsim(sim, host, port, stop)

    asyncio.run(main())
