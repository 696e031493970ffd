"""The capture worker process: camera readers, health, clips, red and motion flags."""
from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis.asyncio as aredis

from domain.video import Camera, Recorder
from feeds.geo.hierarchy import load_hierarchy
from feeds.ingest.config import ClientLimits
from feeds.live import reads
from feeds.ops import metrics
from feeds.ops.heartbeat import queue_beat
from feeds.ops.metrics import identity
from feeds.store.client import async_client
from feeds.video import mjpeg
from feeds.video.capture import CameraFeed, CaptureConfig, CaptureService
from feeds.video.clips import ClipConfig, ClipMaker
from feeds.video.config import VideoConfig
from feeds.video.flagger import RedFlagger
from feeds.video.motion import MotionConfig, MotionWorker, MotionZone, load_zones
from feeds.video.probe import probe_loop
from feeds.video.registry import load_cameras, save_cameras, video_secret, write_health

log = logging.getLogger(__name__)


@dataclass
class CaptureParts:
    """Everything one capture worker runs."""

    service: CaptureService
    client: aredis.Redis
    clips: ClipMaker
    flagger: RedFlagger | None
    health_every_s: float = 1.0
    idle_report_s: float = 10.0  # an idle camera's unchanged report is rewritten this often
    probe_every_s: float = 120.0
    motion: MotionWorker | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)


def camera_gauges(service: CaptureService) -> dict[str, int]:
    """Set camera_up of the cameras being read (1: a fresh frame); the service's counts."""
    now = time.time()
    for cid, f in service.feeds.items():
        if f.task is not None:
            last = f.latest()
            metrics.camera_up().labels(cid).set(
                1 if last and now - last[0] <= service.cfg.stale_s else 0)
    return service.summary(now)


def report_ids(feeds: Mapping[str, CameraFeed], written: dict[str, tuple], full: bool
               ) -> list[str]:
    """The cameras whose health to write this round: all of them on a full round, else those
    read now, those whose last report still says they are read, and those a probe changed.
    `written` (camera → what its last written report said) is updated."""
    out = []
    for cid, f in feeds.items():
        said = (f.task is not None, f.error, f.answered)
        if full or said[0] or written.get(cid) != said:
            out.append(cid)
            written[cid] = said
    return out


async def health_loop(parts: CaptureParts, stop: asyncio.Event) -> None:
    """Write the health of the cameras being read (or just changed) once per health_every_s,
    and every camera's once per idle_report_s (readers count a report older than offline_s
    as a silent worker): 2,958 idle demo cameras cost next to nothing."""
    feeds = parts.service.feeds
    towns = {cid: f.camera.town for cid, f in feeds.items()}
    written: dict[str, tuple] = {}
    full_at = 0.0
    while not stop.is_set():
        now = time.time()
        full = now - full_at >= parts.idle_report_s
        ids = report_ids(feeds, written, full)
        try:
            pipe = parts.client.pipeline(transaction=False)
            write_health(pipe, {cid: feeds[cid].report(now) for cid in ids}, towns)
            queue_beat(pipe, "capture", identity(), **camera_gauges(parts.service))
            await pipe.execute()
            full_at = now if full else full_at
        except aredis.RedisError as e:
            written.clear()  # not written: all of them again next round
            log.warning("capture: cannot write health (%s)", e)
        try:
            await asyncio.wait_for(stop.wait(), parts.health_every_s)
        except TimeoutError:
            pass


async def serve_capture(parts: CaptureParts, host: str, port: int, stop: asyncio.Event,
                        ready: Callable[[int], None] | None = None,
                        limits: ClientLimits | None = None) -> None:
    """Run readers, HTTP routes, health, clips and the red flagger until `stop` is set
    (`limits`: what one client is granted)."""
    parts.service.start()
    connections = mjpeg.Connections(parts.service.handle, limits)
    server = await asyncio.start_server(connections, host, port, backlog=512,
                                        limit=connections.head_limit)
    bound = server.sockets[0].getsockname()[1]
    parts.tasks = [asyncio.create_task(health_loop(parts, stop)),
                   asyncio.create_task(parts.clips.flag_loop(stop))]
    if not all(f.always for f in parts.service.feeds.values()):
        parts.tasks.append(asyncio.create_task(probe_loop(parts.service, stop,
                                                          parts.probe_every_s)))
    if parts.flagger is not None:
        parts.tasks.append(asyncio.create_task(parts.flagger.run(stop)))
    if parts.motion is not None and parts.motion.detectors:
        parts.tasks.append(asyncio.create_task(parts.motion.run(stop)))
    log.info("capture worker on http://%s:%s (%d cameras, %d read continuously)", host, bound,
             len(parts.service.feeds), sum(f.always for f in parts.service.feeds.values()))
    if ready:
        ready(bound)
    async with server:
        await stop.wait()
    await connections.close()
    await mjpeg.cancel_all(parts.tasks)
    await parts.service.stop()
    parts.clips.pool.shutdown(wait=True)


def file_cameras(data_dir: Path, cameras_csv: Path) -> list[Camera]:
    """The cameras of a registry CSV (docs/cameras.md), checked against the data dir's city."""
    return load_cameras(cameras_csv, load_hierarchy(Path(data_dir) / "city.geojson"))


def town_codes(data_dir: Path) -> list[str]:
    """The codes of the data dir's towns."""
    city = load_hierarchy(Path(data_dir) / "city.geojson")
    return [r.code for r in city.hierarchy.at_level(city.hierarchy.levels.shard)]


def motion_zones(cams: list[Camera], motion: bool, zones_file: Path | None,
                 default: list[MotionZone] | None = None) -> list[MotionZone]:
    """The motion zones to watch: the zone file, else `default`; none if motion is off."""
    if not motion:
        return []
    if zones_file is not None:
        return load_zones(zones_file, [c.camera_id for c in cams])
    return list(default or [])


def run_capture(video: VideoConfig, data_dir: Path, redis_url: str, host: str,
                cams: list[Camera] | None = None, default_zones: list[MotionZone] | None = None,
                capture: CaptureConfig | None = None, clips: ClipConfig | None = None,
                pre_s: float = 10.0, post_s: float = 10.0, flag_red: bool = True,
                motion_cfg: MotionConfig | None = None, on_demand: bool = False) -> None:
    """The capture worker process: registers the cameras (`cams`, else the section's camera
    CSV) in Redis, then reads them, serves /snapshot and /stream, cuts clips of flagged
    events, flags cases turning red and sustained motion in zones (the section's zone file,
    else `default_zones`), until SIGINT/SIGTERM. The cameras with motion zones and those
    Gridwatch records are read continuously (`on_demand`: only those with zones), the others
    while watched or recorded (probed meanwhile)."""
    if cams is None:
        if video.cameras_file is None:
            raise SystemExit("gridwatch: no cameras: set video.cameras_file (--cameras-file)")
        cams = file_cameras(data_dir, video.cameras_file)
    zones = motion_zones(cams, video.motion, video.motion_zones, default_zones)
    towns = town_codes(data_dir)
    sync = reads.connect(redis_url)
    save_cameras(sync, cams)
    secret = video_secret(sync)
    sync.close()
    capture = capture or CaptureConfig(buffer_s=max(15.0, pre_s + 5))
    clips = clips or ClipConfig(cameras=video.clip_cameras, radius_m=video.clip_radius_m,
                                fallback=video.clip_fallback)
    always = {z.camera_id for z in zones} | (set() if on_demand else {  # + their ring buffers
        c.camera_id for c in cams if c.recorder is Recorder.GRIDWATCH})

    async def main() -> None:
        client = async_client(redis_url)
        service = CaptureService(cams, capture, secret, always)
        parts = CaptureParts(service, client,
                             ClipMaker(service, client, Path(data_dir) / "clips", clips),
                             RedFlagger(client, towns, pre_s, post_s) if flag_red else None,
                             motion=MotionWorker(service, client, zones, motion_cfg or
                                                 MotionConfig(pre_s=pre_s, post_s=post_s))
                             if zones else None, probe_every_s=video.probe_every_s)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve_capture(parts, host, video.capture_port, stop, limits=video.limits)
        await client.aclose()

    asyncio.run(main())
