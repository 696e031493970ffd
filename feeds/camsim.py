"""Synthetic camera server for the demo and tests: MJPEG of rendered frames over plain HTTP.

GET /cam/<id>.mjpg (multipart/x-mixed-replace, parts carry X-Timestamp and X-Frame-Index),
GET /cam/<id>.jpg (one fresh frame), POST|GET /control/<id>/drop?seconds=S (the camera's
streams break and it refuses connections for S seconds), GET /health (JSON counters).
Any valid camera id is served (up to max_cameras); a camera renders only while watched.
Run: python -m feeds.camsim --port P --cameras N [--fps F --width W --height H]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import orjson

from domain.video import valid_camera_id
from feeds import camframes, mjpeg

log = logging.getLogger(__name__)


@dataclass
class SimCamera:
    """One synthetic camera: its background, frame counter, latest frame and viewers."""

    camera_id: str
    bg: np.ndarray
    index: int = -1
    ts: float = 0.0
    jpeg: bytes = b""
    watchers: int = 0
    connections_total: int = 0
    down_until: float = 0.0
    generation: int = 0  # bumped by a drop: open streams of older generations end
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
        self.cameras: dict[str, SimCamera] = {}
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="camsim")
        self.loop: asyncio.AbstractEventLoop | None = None

    def camera(self, camera_id: str) -> SimCamera | None:
        """The camera of an id (made on first use), None past max_cameras."""
        cam = self.cameras.get(camera_id)
        if cam is None and len(self.cameras) < self.max_cameras:
            cam = SimCamera(camera_id, camframes.background(camera_id, self.width, self.height))
            self.cameras[camera_id] = cam
        return cam

    async def _render(self, cam: SimCamera) -> tuple[int, float, bytes]:
        ts = time.time()
        index = cam.index + 1
        jpeg = await asyncio.get_running_loop().run_in_executor(
            self.pool, camframes.render_jpeg, cam.bg, index, ts, self.quality)
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
        try:
            req = await mjpeg.read_request(reader)
            if req is not None:
                await self._route(req, writer)
        except (ConnectionError, TimeoutError):
            pass
        except asyncio.CancelledError:  # server shutting down: end the connection quietly
            pass
        finally:
            writer.close()

    async def _route(self, req: mjpeg.Request, writer: asyncio.StreamWriter) -> None:
        parts = [p for p in req.path.split("/") if p]
        if req.path == "/health":
            writer.write(mjpeg.response(200, orjson.dumps(self.stats()), "application/json"))
        elif len(parts) == 3 and parts[0] == "control" and parts[2] == "drop":
            self.drop(parts[1], float(req.query.get("seconds", "5")))
            writer.write(mjpeg.response(200, "dropped\n"))
        elif len(parts) == 2 and parts[0] == "cam" and parts[1].endswith((".mjpg", ".jpg")):
            cid, _, ext = parts[1].rpartition(".")
            cam = self.camera(cid) if valid_camera_id(cid) else None
            if cam is None:
                writer.write(mjpeg.response(404, "no such camera\n"))
            elif time.time() < cam.down_until:
                writer.write(mjpeg.response(503, "camera down\n"))
            elif ext == "jpg":
                _, ts, jpeg = await self._render(cam)
                writer.write(mjpeg.response(200, jpeg, "image/jpeg",
                                            {"X-Timestamp": f"{ts:.3f}"}))
            else:
                await self._stream(cam, writer)
                return
        else:
            writer.write(mjpeg.response(404, "not found\n"))
        await writer.drain()

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
    server = await asyncio.start_server(sim.handle, host, port, backlog=256)
    bound = server.sockets[0].getsockname()[1]
    log.info("synthetic cameras on http://%s:%s/cam/<id>.mjpg (%.1f fps, %dx%d)", host, bound,
             sim.fps, sim.width, sim.height)
    if ready:
        ready(bound)
    async with server:
        await stop.wait()
    for cam in sim.cameras.values():
        if cam.task:
            cam.task.cancel()
    sim.pool.shutdown(wait=False, cancel_futures=True)


def main(argv: list[str] | None = None) -> int:
    """python -m feeds.camsim --port P --cameras N."""
    ap = argparse.ArgumentParser(prog="python -m feeds.camsim", description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8768)
    ap.add_argument("--cameras", type=int, default=200, help="most distinct camera ids served")
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    sim = CamSim(args.fps, args.width, args.height, args.cameras)

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
