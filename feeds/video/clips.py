"""Clips of flagged events from the capture worker's ring buffers: H.264 remuxed into MP4, else
VP8 WebM re-encoded from JPEGs; posters, retention."""
from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson
import redis.asyncio as aredis

from domain.regions import town_of
from domain.video import (
    Camera,
    Clip,
    ClipContainer,
    EventStatus,
    FlaggedEvent,
    Recorder,
    Resampler,
    clip_fps,
    distance_m,
    nearest,
    retention_victims,
)
from feeds.ops.metrics import count_clip
from feeds.store import video_keys as vk
from feeds.video.capture import CameraFeed, CaptureService
from feeds.video.h264 import remux_mp4, window_poster
from feeds.video.playback import PlaybackConfig, PlaybackError, fetch
from feeds.video.store import new_id, queue_clip, queue_event

log = logging.getLogger(__name__)
EVENT_WAIT_TRIES, EVENT_WAIT_S = 20, 0.1  # how long a flag waits for its event (2 s)


@dataclass(frozen=True)
class ClipConfig:
    """What a flagged event records, and how long clips are kept (docs/cameras.md)."""

    cameras: int = 4  # the N nearest cameras
    radius_m: float = 300.0  # ... within this distance of the case
    fallback: int = 2  # none within it: the nearest few
    fallback_m: float = 2000.0  # ... no farther than this
    max_fps: float = 10.0
    grace_s: float = 0.4  # wait for frames in flight after the post-roll ends
    step_s: float = 0.5  # encode what arrived every step_s during the post-roll
    max_bytes: int = 2 * 1024 ** 3
    max_age_s: float = 7 * 24 * 3600
    fourcc: str = "VP80"
    concurrent_events: int = 8
    playback: PlaybackConfig = field(default_factory=PlaybackConfig)  # recorder=platform


class ClipWriter:
    """A WebM being written frame by frame (used from one thread at a time)."""

    def __init__(self, path: Path, fps: float, fourcc: str):
        self.path, self.fps, self.fourcc = path, fps, fourcc
        self.writer = None
        self.size: tuple[int, int] | None = None
        self.frames = 0

    def write(self, jpegs: list[bytes]) -> None:
        """Decode JPEGs and append them (the first one fixes the size)."""
        import cv2  # noqa: PLC0415  (encoding runs in the capture worker's threads only)
        import numpy as np  # noqa: PLC0415

        for jpeg in jpegs:
            img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            if img is None:
                continue
            if self.writer is None:
                self.size = (img.shape[1], img.shape[0])
                self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(
                    *self.fourcc), self.fps, self.size)
                if not self.writer.isOpened():
                    raise RuntimeError(f"OpenCV cannot write {self.fourcc} to {self.path}")
            elif (img.shape[1], img.shape[0]) != self.size:
                img = cv2.resize(img, self.size)
            self.writer.write(img)
            self.frames += 1

    def close(self) -> None:
        """Finish the file."""
        if self.writer is not None:
            self.writer.release()


class ClipMaker:
    """Reads the flag stream and cuts clips of the nearest cameras for every flagged event."""

    def __init__(self, service: CaptureService, client: aredis.Redis, clips_dir: Path,
                 cfg: ClipConfig | None = None, consumer: str = "capture-1"):
        self.service = service
        self.client = client
        self.dir = Path(clips_dir)
        self.cfg = cfg or ClipConfig()
        self.consumer = consumer
        self.pool = ThreadPoolExecutor(4, thread_name_prefix="clip")  # encodes, fetches
        self.sem = asyncio.Semaphore(self.cfg.concurrent_events)
        self.tasks: set[asyncio.Task] = set()

    async def flag_loop(self, stop: asyncio.Event) -> None:
        """Handle flagged events until `stop` (consumer group: pending first, then new).
        Redis errors are logged and retried; a group lost with its stream is made again."""
        self.dir.mkdir(parents=True, exist_ok=True)
        cursor, need_group = "0", True
        while not stop.is_set():
            try:
                if need_group:
                    await self._ensure_group()
                    need_group = False
                resp = await self.client.xreadgroup(vk.FLAG_GROUP, self.consumer,
                                                    {vk.FLAGS: cursor}, count=50, block=500)
            except aredis.ResponseError as e:
                if "NOGROUP" in str(e):
                    log.warning("capture: flag group gone (%s), making it again", e)
                    need_group = True
                    continue
                # CLUSTERDOWN, TRYAGAIN, LOADING while a master fails over: the loop lives on
                log.warning("capture: redis refused the flag read (%s), retrying", e)
                await asyncio.sleep(1.0)
                continue
            except aredis.RedisError as e:
                log.warning("capture: redis unavailable (%s), retrying", e)
                await asyncio.sleep(1.0)
                continue
            items = resp[0][1] if resp else []
            if cursor == "0" and not items:
                cursor = ">"
            for eid, fields in items:
                task = asyncio.create_task(self._handle_entry(eid, fields))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            if cursor == "0" and items:
                cursor = items[-1][0].decode()
        for t in list(self.tasks):
            t.cancel()

    async def _ensure_group(self) -> None:
        """The flag stream's consumer group (made with the stream if missing)."""
        try:
            await self.client.xgroup_create(vk.FLAGS, vk.FLAG_GROUP, id="0", mkstream=True)
        except aredis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def _handle_entry(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        async with self.sem:
            try:
                await self.handle(fields[b"event"].decode())
            except Exception:  # noqa: BLE001  (one bad event must not stop the others)
                log.exception("clip of flag %s failed", entry_id)
            await self.client.xack(vk.FLAGS, vk.FLAG_GROUP, entry_id)

    async def _read_event(self, event_id: str) -> FlaggedEvent | None:
        town = await self.client.hget(vk.EVENT_TOWN, event_id)
        raw = town and await self.client.hget(vk.events(town.decode()), event_id)
        return FlaggedEvent.from_json(orjson.loads(raw)) if raw else None

    async def _save_event(self, event_id: str, **changes: object) -> FlaggedEvent | None:
        ev = await self._read_event(event_id)  # re-read: a review may have landed meanwhile
        if ev is None:
            return None
        ev = replace(ev, **changes)
        await queue_event(self.client.pipeline(transaction=False), ev).execute()
        return ev

    def cameras_for(self, ev: FlaggedEvent) -> list[tuple[Camera, float]]:
        """The cameras named on the event (motion: the camera that saw it) if captured here,
        else the nearest captured cameras."""
        if ev.cameras:
            named = [self.service.feeds[c].camera for c in ev.cameras if c in self.service.feeds]
            return [(c, distance_m(ev.lon, ev.lat, c.lon, c.lat)) for c in named]
        cams = [f.camera for f in self.service.feeds.values()]
        return nearest(cams, ev.lon, ev.lat, self.cfg.cameras, self.cfg.radius_m) or nearest(
            cams, ev.lon, ev.lat, self.cfg.fallback, self.cfg.fallback_m)

    async def _flagged_event(self, event_id: str) -> FlaggedEvent | None:
        """The event a flag names, waited for a moment: on a Redis Cluster the flag and the
        event sit on different nodes of one pipeline, and the flag can land first."""
        for _ in range(EVENT_WAIT_TRIES):
            ev = await self._read_event(event_id)
            if ev is not None:
                return ev
            await asyncio.sleep(EVENT_WAIT_S)
        log.warning("flag of %s names no stored event: dropped", event_id)
        return None

    async def handle(self, event_id: str) -> FlaggedEvent | None:
        """Cut the clips of one event and store them; returns the updated event."""
        ev = await self._flagged_event(event_id)
        if ev is None or ev.status not in (EventStatus.PENDING, EventStatus.RECORDING):
            return ev
        near = self.cameras_for(ev)
        if not near:
            return await self._save_event(event_id, status=EventStatus.NO_CAMERAS)
        await self._save_event(event_id, status=EventStatus.RECORDING,
                               cameras=tuple(c.camera_id for c, _ in near))
        made = await asyncio.gather(*(self.cut(ev, c, d) for c, d in near),
                                    return_exceptions=True)
        clips = [c for c in made if isinstance(c, Clip)]
        for c, err in zip(near, made, strict=True):
            if isinstance(err, BaseException):
                log.error("clip of %s on %s failed: %s", event_id, c[0].camera_id, err)
        ev = await self._save_event(event_id, clips=tuple(c.clip_id for c in clips),
                                    status=EventStatus.READY if clips else EventStatus.FAILED)
        log.info("event %s (%s): %d clips", event_id, ev.incident_id if ev else "?", len(clips))
        await self.retention(time.time())
        return ev

    async def cut(self, ev: FlaggedEvent, camera: Camera, dist_m: float) -> Clip | None:
        """Write one camera's clip of [T - pre, T + post] while its post-roll arrives (a camera
        read on demand is read meanwhile: its clip starts when its reader does); a camera
        its platform records: fetched from the platform's playback interface."""
        if camera.recorder is Recorder.PLATFORM and camera.playback_url:
            clip = await self._cut_platform(ev, camera, dist_m)
            count_clip(None if clip is None else clip.end_ts - clip.start_ts)
            return clip
        feed = self.service.feeds[camera.camera_id]
        idle = feed.task is None
        self.service.acquire(feed)
        try:
            if idle:  # its first frames tell the clip's frame rate (H.264: that it is)
                await feed.wait_frames(1 if camera.kind.value in ("rtsp", "hls", "flv") else 3,
                                       self.service.cfg.read_timeout_s)
            clip = await (self._cut_h264 if feed.packets is not None else self._cut)(
                ev, camera, dist_m, feed)
        finally:
            self.service.release(feed)
        count_clip(None if clip is None else clip.end_ts - clip.start_ts)
        return clip

    async def _cut(self, ev: FlaggedEvent, camera: Camera, dist_m: float, feed: CameraFeed
                   ) -> Clip | None:
        loop = asyncio.get_running_loop()
        start, end = ev.ts - ev.pre_s, ev.ts + ev.post_s
        clip_id = new_id("cl")
        part = self.dir / f"{clip_id}.part.webm"
        writer = ClipWriter(part, clip_fps([ts for ts, _ in feed.between(
            time.time() - 5, time.time())], self.cfg.max_fps), self.cfg.fourcc)
        taken, first, poster = start, None, None
        resampler: Resampler[bytes] | None = None
        try:
            while True:
                now = time.time()
                upto = min(now - self.cfg.grace_s, end)
                frames = feed.between(taken, upto)
                if frames:
                    taken = frames[-1][0]
                    first = first or frames[0][0]
                    resampler = resampler or Resampler(first, end, writer.fps)
                    poster = min(frames + ([poster] if poster else []),
                                 key=lambda f: abs(f[0] - ev.ts))
                if resampler is not None:
                    await loop.run_in_executor(self.pool, writer.write,
                                               resampler.push(frames, upto))
                if upto >= end:
                    break
                await asyncio.sleep(min(self.cfg.step_s, max(0.05, end + self.cfg.grace_s - now)))
        finally:
            await loop.run_in_executor(self.pool, writer.close)
        if resampler is None or writer.frames == 0 or poster is None:
            part.unlink(missing_ok=True)
            log.warning("event %s: no frames of %s in the window", ev.event_id, camera.camera_id)
            return None
        return await self._finish(ev, camera, dist_m, clip_id, part, writer, resampler, poster)

    async def _cut_h264(self, ev: FlaggedEvent, camera: Camera, dist_m: float,
                        feed: CameraFeed) -> Clip | None:
        """Remux the camera's own H.264 packets of [T - pre, T + post] into an MP4 (from
        the keyframe at or before T - pre) once the post-roll has arrived: no re-encoding."""
        start, end = ev.ts - ev.pre_s, ev.ts + ev.post_s
        await asyncio.sleep(max(0.0, end + self.cfg.grace_s - time.time()))
        until = end + self.service.cfg.read_timeout_s  # HLS / FLV: the post-roll's segment
        while feed.packets is not None and (feed.packets.last_ts() or 0) < end and \
                time.time() < until:
            await asyncio.sleep(0.1)
        win = feed.packets.window(start, end) if feed.packets is not None else None
        if win is None:
            log.warning("event %s: no packets of %s in the window", ev.event_id,
                        camera.camera_id)
            return None
        clip_id = new_id("cl")
        part = self.dir / f"{clip_id}.part.mp4"
        loop = asyncio.get_running_loop()
        try:
            frames, duration = await loop.run_in_executor(self.pool, remux_mp4, part, win)
        except Exception:
            part.unlink(missing_ok=True)
            raise
        near = min(feed.between(start - 5, end), key=lambda f: abs(f[0] - ev.ts), default=None)
        poster = near[1] if near else await loop.run_in_executor(self.pool, window_poster, win)
        made = Clip(clip_id, ev.event_id, camera.camera_id, camera.name, ev.grid, win.start_ts,
                    win.end_ts, frames, round(frames / max(duration, 1e-3), 2), win.info.width,
                    win.info.height, 0, time.time(), round(dist_m, 1), ClipContainer.MP4)
        return await self.store(made, part, poster)

    async def _cut_platform(self, ev: FlaggedEvent, camera: Camera, dist_m: float
                            ) -> Clip | None:
        """Fetch [T - pre, T + post] from the platform's recordings once it has written the
        post-roll; the clip's time 0 is the requested start."""
        start, end = ev.ts - ev.pre_s, ev.ts + ev.post_s
        pcfg = self.cfg.playback
        await asyncio.sleep(max(0.0, end + pcfg.delay_s - time.time()))
        clip_id = new_id("cl")
        part = self.dir / f"{clip_id}.part"
        try:
            rec = await asyncio.get_running_loop().run_in_executor(
                self.pool, fetch, camera, start, end, ev.ts, part, pcfg)
        except PlaybackError as e:
            part.unlink(missing_ok=True)
            log.warning("event %s: no recording of %s: %s", ev.event_id, camera.camera_id, e)
            return None
        fps = round(rec.frames / max(rec.duration_s, 1e-3), 2)
        made = Clip(clip_id, ev.event_id, camera.camera_id, camera.name, ev.grid, start,
                    start + rec.duration_s - 1 / max(fps, 1e-3), rec.frames, fps, rec.width,
                    rec.height, 0, time.time(), round(dist_m, 1), rec.container,
                    Recorder.PLATFORM)
        return await self.store(made, part, rec.poster)

    async def store(self, clip: Clip, part: Path, poster: bytes) -> Clip:
        """Move a finished clip file into place with its poster and write its record."""
        (self.dir / f"{clip.clip_id}.jpg").write_bytes(poster)
        final = self.dir / f"{clip.clip_id}.{clip.container}"
        os.replace(part, final)
        clip = replace(clip, size_bytes=final.stat().st_size)
        await queue_clip(self.client.pipeline(transaction=False), clip).execute()
        return clip

    async def _finish(self, ev: FlaggedEvent, camera: Camera, dist_m: float, clip_id: str,
                      part: Path, writer: ClipWriter, resampler: Resampler[bytes],
                      poster: tuple[float, bytes]) -> Clip:
        w, h = writer.size or (0, 0)
        clip = Clip(clip_id, ev.event_id, camera.camera_id, camera.name, ev.grid,
                    resampler.start, resampler.slot_ts(resampler.slots - 1), writer.frames,
                    writer.fps, w, h, 0, time.time(), round(dist_m, 1))
        return await self.store(clip, part, poster[1])

    async def retention(self, now: float) -> int:
        """Delete clips past the age or size limit (files and records); returns how many."""
        towns = {t.decode() for t in await self.client.hvals(vk.CLIP_TOWN)}
        pipe = self.client.pipeline(transaction=False)
        for t in sorted(towns):
            pipe.hvals(vk.clips(t))
        clips = [Clip.from_json(orjson.loads(r)) for res in await pipe.execute() for r in res]
        victims = retention_victims(clips, now, self.cfg.max_bytes, self.cfg.max_age_s)
        if not victims:
            return 0
        pipe = self.client.pipeline(transaction=False)
        for c in victims:
            for suffix in (".webm", ".mp4", ".jpg"):
                (self.dir / f"{c.clip_id}{suffix}").unlink(missing_ok=True)
            pipe.hdel(vk.clips(town_of(c.grid)), c.clip_id)
            pipe.hdel(vk.CLIP_TOWN, c.clip_id)
        await pipe.execute()
        log.info("retention: deleted %d clips", len(victims))
        return len(victims)

