"""Process entries of the video parts: the capture worker and the synthetic camera server."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as aredis

from domain.regions import Level
from domain.video import Camera
from feeds import store
from feeds.cameras import demo_cameras, load_cameras, save_cameras, video_secret, write_health
from feeds.camsim import CamSim, serve_camsim
from feeds.capture import CaptureConfig, CaptureService
from feeds.clips import ClipConfig, ClipMaker
from feeds.flagger import RedFlagger
from feeds.geo_format import load_hierarchy
from feeds.motion import MotionConfig, MotionWorker, MotionZone, demo_zones, load_zones
from feeds.redis_client import async_client

log = logging.getLogger(__name__)

DEMO_CAMERAS = 100
CAPTURE_PORT = 8767
CAMSIM_PORT = 8768


@dataclass
class CaptureParts:
    """Everything one capture worker runs."""

    service: CaptureService
    client: aredis.Redis
    clips: ClipMaker
    flagger: RedFlagger | None
    health_every_s: float = 1.0
    motion: MotionWorker | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)


async def health_loop(parts: CaptureParts, stop: asyncio.Event) -> None:
    """Write every camera's health to Redis once per health_every_s."""
    towns = {cid: f.camera.town for cid, f in parts.service.feeds.items()}
    while not stop.is_set():
        try:
            pipe = parts.client.pipeline(transaction=False)
            write_health(pipe, parts.service.reports(time.time()), towns)
            await pipe.execute()
        except aredis.RedisError as e:
            log.warning("capture: cannot write health (%s)", e)
        try:
            await asyncio.wait_for(stop.wait(), parts.health_every_s)
        except TimeoutError:
            pass


async def serve_capture(parts: CaptureParts, host: str, port: int, stop: asyncio.Event,
                        ready: Callable[[int], None] | None = None) -> None:
    """Run readers, HTTP routes, health, clips and the red flagger until `stop` is set."""
    parts.service.start()
    server = await asyncio.start_server(parts.service.handle, host, port, backlog=512)
    bound = server.sockets[0].getsockname()[1]
    parts.tasks = [asyncio.create_task(health_loop(parts, stop)),
                   asyncio.create_task(parts.clips.flag_loop(stop))]
    if parts.flagger is not None:
        parts.tasks.append(asyncio.create_task(parts.flagger.run(stop)))
    if parts.motion is not None and parts.motion.detectors:
        parts.tasks.append(asyncio.create_task(parts.motion.run(stop)))
    log.info("capture worker on http://%s:%s (%d cameras)", host, bound,
             len(parts.service.feeds))
    if ready:
        ready(bound)
    async with server:
        await stop.wait()
    for t in parts.tasks:
        t.cancel()
    await asyncio.gather(*parts.tasks, return_exceptions=True)
    await parts.service.stop()
    parts.clips.pool.shutdown(wait=True)


def registry(data_dir: Path, cameras_csv: Path | None, camsim_url: str,
             demo_n: int) -> tuple[list[Camera], list[str]]:
    """The cameras to capture (the CSV, else demo cameras) and the city's town codes."""
    city = load_hierarchy(Path(data_dir) / "city.geojson")
    towns = [r.code for r in city.hierarchy.at_level(Level.TOWN)]
    if cameras_csv is not None:
        return load_cameras(cameras_csv, city), towns
    return demo_cameras(city, camsim_url, limit=demo_n), towns


def motion_zones(cams: list[Camera], demo: bool, motion: bool | None,
                 zones_file: Path | None) -> list[MotionZone]:
    """The motion zones to watch: the zone file (also GRIDWATCH_MOTION_ZONES), else the demo
    cameras' quiet strips; none if motion is off (motion=False or GRIDWATCH_MOTION=0)."""
    if motion is None:
        motion = os.environ.get("GRIDWATCH_MOTION", "1").strip().lower() not in ("0", "no",
                                                                                   "off")
    zones_file = zones_file or (Path(os.environ["GRIDWATCH_MOTION_ZONES"])
                                if os.environ.get("GRIDWATCH_MOTION_ZONES") else None)
    if not motion:
        return []
    if zones_file is not None:
        return load_zones(zones_file, [c.camera_id for c in cams])
    return demo_zones(cams) if demo else []


def run_capture(data_dir: Path, redis_url: str, host: str = "127.0.0.1",
                port: int = CAPTURE_PORT, cameras_csv: Path | None = None,
                camsim_url: str = f"http://127.0.0.1:{CAMSIM_PORT}",
                demo_cameras_n: int = DEMO_CAMERAS, capture: CaptureConfig | None = None,
                clips: ClipConfig | None = None, pre_s: float = 10.0, post_s: float = 10.0,
                flag_red: bool = True, motion: bool | None = None,
                zones_file: Path | None = None, motion_cfg: MotionConfig | None = None) -> None:
    """The capture worker process: registers the cameras in Redis, then reads them, serves
    /snapshot and /stream, cuts clips of flagged events, flags cases turning red and
    sustained motion in zones, until SIGINT/SIGTERM. Without a camera CSV it registers demo
    cameras on the synthetic server (and watches their quiet strips for intruders)."""
    cams, towns = registry(data_dir, cameras_csv, camsim_url, demo_cameras_n)
    zones = motion_zones(cams, cameras_csv is None, motion, zones_file)
    sync = store.connect(redis_url)
    save_cameras(sync, cams)
    secret = video_secret(sync)
    sync.close()
    capture = capture or CaptureConfig(buffer_s=max(15.0, pre_s + 5))

    async def main() -> None:
        client = async_client(redis_url)
        service = CaptureService(cams, capture, secret)
        parts = CaptureParts(service, client,
                             ClipMaker(service, client, Path(data_dir) / "clips", clips),
                             RedFlagger(client, towns, pre_s, post_s) if flag_red else None,
                             motion=MotionWorker(service, client, zones, motion_cfg or
                                                 MotionConfig(pre_s=pre_s, post_s=post_s))
                             if zones else None)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_capture(parts, host, port, stop)
        await client.aclose()

    asyncio.run(main())


def run_camsim(host: str = "127.0.0.1", port: int = CAMSIM_PORT, cameras: int = 200,
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
