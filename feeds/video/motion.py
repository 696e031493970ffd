"""Motion flagging: zones of cameras (CSV, docs/cameras.md), a background-subtraction detector
per camera, and the capture worker's loop that flags sustained motion for video review."""
from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import redis.asyncio as aredis

from domain.video import valid_camera_id
from feeds.geo.csvfile import read_checked_csv
from feeds.video.capture import CaptureService
from feeds.video.store import motion_event, queue_flag

log = logging.getLogger(__name__)

COLUMNS = ("camera_id", "zone", "polygon", "min_area_share", "sustain_s", "cooldown_s")
REQUIRED = ("camera_id", "polygon")
MAX_ERRORS = 20


class ZoneFileError(ValueError):
    """A motion zone file is wrong; the message names every bad row, field and reason."""


@dataclass(frozen=True)
class MotionZone:
    """Where on one camera's image motion counts, and how much and how long it must last."""

    camera_id: str
    polygon: tuple[tuple[float, float], ...]  # (x, y) in 0..1 of the width and height
    min_area_share: float = 0.02  # moving share of the zone's pixels that counts as motion
    sustain_s: float = 3.0  # motion must last this long ...
    cooldown_s: float = 120.0  # ... then the zone stays quiet this long
    name: str = "zone"


@dataclass(frozen=True)
class MotionConfig:
    """How motion is analysed and flagged (docs/cameras.md, "Motion flagging")."""

    analysis_fps: float = 2.0  # newest frame of each camera analysed this often
    width: int = 160  # frames are analysed in grey at this width
    history: int = 120  # background model memory in analysed frames (60 s at 2 fps)
    var_threshold: float = 25.0  # MOG2: squared distance for a pixel to count as moving
    warmup_frames: int = 6  # frames to learn the background before anything counts
    grace_s: float = 1.0  # a gap in motion shorter than this does not restart the count
    max_global_share: float = 0.6  # more of the frame moving: a scene change, ignored
    relearn_gap_s: float = 30.0  # no frame for this long: learn the background again
    category: str = "public_order"  # category of motion events (decides who may see them)
    pre_s: float = 10.0
    post_s: float = 10.0


@dataclass(frozen=True)
class Trigger:
    """Sustained motion in one zone: when it began and when it was confirmed."""

    camera_id: str
    zone: str
    since: float
    ts: float
    share: float


def _number(row: Mapping[str, str], name: str, default: float, lo: float, hi: float) -> float:
    text = (row.get(name) or "").strip()
    if not text:
        return default
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{name}: not a number: {text!r}") from None
    if not (math.isfinite(v) and lo <= v <= hi):
        raise ValueError(f"{name}: {text} is outside {lo:g}..{hi:g}")
    return v


def parse_polygon(text: str) -> tuple[tuple[float, float], ...]:
    """"x y; x y; x y …" (0..1 of width and height) → points; raises ValueError."""
    pts = []
    for k, pair in enumerate(p for p in text.split(";") if p.strip()):
        xy = pair.replace(",", " ").split()
        try:
            x, y = (float(v) for v in xy) if len(xy) == 2 else (math.nan, math.nan)
        except ValueError:
            x = y = math.nan
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise ValueError(f"polygon: point {k + 1} {pair.strip()!r} is not 'x y' with x and "
                             "y between 0 and 1")
        pts.append((x, y))
    if len(pts) < 3:
        raise ValueError(f"polygon: needs at least 3 points 'x y; x y; x y', got {len(pts)}")
    area = abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(pts, pts[1:] + pts[:1],
                                                                    strict=True))) / 2
    if area < 1e-4:
        raise ValueError(f"polygon: encloses almost nothing ({area:.2g} of the image)")
    return tuple(pts)


def _parse_row(row: Mapping[str, str], known: set[str] | None, n: int) -> MotionZone:
    """One CSV row → MotionZone; raises ValueError('field: reason')."""
    for f in REQUIRED:
        if not (row.get(f) or "").strip():
            raise ValueError(f"{f}: missing")
    cid = row["camera_id"].strip()
    if not valid_camera_id(cid):
        raise ValueError(f"camera_id: {cid!r} is not a valid camera id")
    if known is not None and cid not in known:
        raise ValueError(f"camera_id: {cid!r} is not a registered camera")
    name = (row.get("zone") or "").strip() or f"zone-{n}"
    if len(name) > 60:
        raise ValueError("zone: longer than 60 characters")
    return MotionZone(cid, parse_polygon(row["polygon"]),
                      _number(row, "min_area_share", 0.02, 0.001, 1.0),
                      _number(row, "sustain_s", 3.0, 0.0, 600.0),
                      _number(row, "cooldown_s", 120.0, 0.0, 86_400.0), name)


def parse_zones(rows: Iterable[Mapping[str, str]], source: str = "zones",
                camera_ids: Iterable[str] | None = None) -> list[MotionZone]:
    """Validate zone rows (as csv.DictReader gives them); raises ZoneFileError."""
    known = set(camera_ids) if camera_ids is not None else None
    out, errors, seen = [], [], {}
    for n, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            zone = _parse_row(row, known, n)
        except ValueError as e:
            errors.append(f"{source} row {n}, {e}")
            if len(errors) >= MAX_ERRORS:
                break
            continue
        key = (zone.camera_id, zone.name)
        if key in seen:
            errors.append(f"{source} row {n}, zone: {zone.name!r} of {zone.camera_id} repeats "
                          f"row {seen[key]}")
            continue
        seen[key] = n
        out.append(zone)
    if errors:
        raise ZoneFileError("\n".join(errors))
    return out


def load_zones(path: str | Path, camera_ids: Iterable[str] | None = None) -> list[MotionZone]:
    """Load and validate a motion zone CSV (docs/cameras.md); raises ZoneFileError."""
    path = Path(path)
    zones = read_checked_csv(path, REQUIRED, COLUMNS, ZoneFileError,
                            lambda reader: parse_zones(reader, str(path), camera_ids))
    log.info("%s: %d motion zones", path, len(zones))
    return zones


@dataclass
class _ZoneState:
    mask: np.ndarray
    area: int
    since: float | None = None  # first moving frame of the current run
    last: float = 0.0  # last moving frame
    quiet_until: float = 0.0


class MotionDetector:
    """One camera's background model and zones: grey frames in, sustained motion out."""

    def __init__(self, zones: Sequence[MotionZone], cfg: MotionConfig | None = None):
        self.zones = list(zones)
        self.cfg = cfg or MotionConfig()
        self.size: tuple[int, int] | None = None
        self.states: list[_ZoneState] = []
        self.frames = 0
        self.last_ts: float | None = None
        self.subtractor: cv2.BackgroundSubtractor | None = None
        self.roi: tuple[slice, slice] = (slice(None), slice(None))
        self.kernel = np.ones((3, 3), np.uint8)

    def _reset(self, size: tuple[int, int]) -> None:
        """Start learning afresh for frames of size (w, h); zone masks at that size."""
        w, h = size
        self.size, self.frames = size, 0
        self.subtractor = cv2.createBackgroundSubtractorMOG2(
            self.cfg.history, self.cfg.var_threshold, detectShadows=False)
        masks = []
        for z in self.zones:
            mask = np.zeros((h, w), np.uint8)
            pts = np.array([(x * (w - 1), y * (h - 1)) for x, y in z.polygon], np.int32)
            cv2.fillPoly(mask, [pts], 255)
            masks.append(mask)
        x, y, bw, bh = cv2.boundingRect(np.bitwise_or.reduce(masks))  # only this is analysed
        self.roi = (slice(max(0, y - 2), y + bh + 2), slice(max(0, x - 2), x + bw + 2))
        quiet = [st.quiet_until for st in self.states] or [0.0] * len(self.zones)
        self.states = [_ZoneState(m[self.roi], max(1, cv2.countNonZero(m)), quiet_until=q)
                       for m, q in zip(masks, quiet, strict=True)]

    def shrink(self, grey: np.ndarray) -> np.ndarray:
        """A grey frame at the analysis width (kept if already no wider)."""
        h, w = grey.shape[:2]
        if w <= self.cfg.width:
            return grey
        return cv2.resize(grey, (self.cfg.width, max(1, round(h * self.cfg.width / w))),
                          interpolation=cv2.INTER_AREA)

    def update(self, ts: float, grey: np.ndarray) -> list[Trigger]:
        """Analyse one grey frame taken at ts; the zones whose motion just became sustained."""
        small = self.shrink(grey)
        size = (small.shape[1], small.shape[0])
        if size != self.size or (self.last_ts is not None
                                 and ts - self.last_ts > self.cfg.relearn_gap_s):
            self._reset(size)
        self.last_ts = ts
        fg = self.subtractor.apply(np.ascontiguousarray(small[self.roi]))
        self.frames += 1
        if self.frames <= self.cfg.warmup_frames:
            return []
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, self.kernel)  # drop single-pixel noise
        scene_change = cv2.countNonZero(fg) > self.cfg.max_global_share * fg.size  # of the ROI
        out = []
        for z, st in zip(self.zones, self.states, strict=True):
            share = 0.0 if scene_change else \
                cv2.countNonZero(cv2.bitwise_and(fg, st.mask)) / st.area
            since = self._step(z, st, ts, share >= z.min_area_share)
            if since is not None:
                out.append(Trigger(z.camera_id, z.name, since, ts, round(share, 4)))
        return out

    def _step(self, z: MotionZone, st: _ZoneState, ts: float, moving: bool) -> float | None:
        """Advance one zone; when its motion has just lasted sustain_s, when it began."""
        if ts < st.quiet_until:
            st.since = None
            return None
        if not moving:
            if st.since is not None and ts - st.last > self.cfg.grace_s:
                st.since = None
            return None
        if st.since is None:
            st.since = ts
        st.last = ts
        if ts - st.since < z.sustain_s:
            return None
        since, st.since, st.quiet_until = st.since, None, ts + z.cooldown_s
        return since


REDUCED = ((8, cv2.IMREAD_REDUCED_GRAYSCALE_8), (4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
           (2, cv2.IMREAD_REDUCED_GRAYSCALE_2))


def reduced_flag(full_width: int, width: int) -> int:
    """The imdecode flag that decodes in grey, reduced by 8, 4 or 2 while it stays ≥ width."""
    return next((flag for f, flag in REDUCED if full_width // f >= width), cv2.IMREAD_GRAYSCALE)


def decode_grey(jpeg: bytes, flag: int = cv2.IMREAD_GRAYSCALE) -> np.ndarray | None:
    """A JPEG decoded in grey (reduced in the decoder by the flag), None if undecodable."""
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), flag)


@dataclass
class MotionStats:
    """What the motion loop did: frames analysed, CPU seconds used, events raised."""

    frames: int = 0
    cpu_s: float = 0.0
    events: int = 0
    per_camera: dict[str, int] = field(default_factory=dict)


class MotionWorker:
    """Analyses each zoned camera's newest frame analysis_fps times a second (in one thread)
    and flags sustained motion as a video review event (reason "motion", by "system")."""

    def __init__(self, service: CaptureService, client: aredis.Redis,
                 zones: Iterable[MotionZone], cfg: MotionConfig | None = None):
        self.service, self.client = service, client
        self.cfg = cfg or MotionConfig()
        by_cam: dict[str, list[MotionZone]] = {}
        for z in zones:
            if z.camera_id in service.feeds:
                by_cam.setdefault(z.camera_id, []).append(z)
        self.detectors = {cid: MotionDetector(zs, self.cfg) for cid, zs in by_cam.items()}
        self.seen = dict.fromkeys(self.detectors, 0.0)
        self.flags: dict[str, int] = {}  # camera → imdecode flag (known after its first frame)
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="motion")
        self.stats = MotionStats()

    def analyse(self, batch: list[tuple[str, float, bytes]]) -> list[Trigger]:
        """Decode and analyse frames (runs in the worker's thread; OpenCV drops the GIL)."""
        t0, out = time.thread_time(), []
        for cid, ts, jpeg in batch:
            grey = decode_grey(jpeg, self.flags.get(cid, cv2.IMREAD_GRAYSCALE))
            if grey is None:
                continue
            if cid not in self.flags:
                self.flags[cid] = reduced_flag(grey.shape[1], self.cfg.width)
            out += self.detectors[cid].update(ts, grey)
        self.stats.cpu_s += time.thread_time() - t0
        self.stats.frames += len(batch)
        return out

    def _batch(self) -> list[tuple[str, float, bytes]]:
        """The newest frame of each zoned camera, if not analysed yet."""
        batch = []
        for cid in self.detectors:
            last = self.service.feeds[cid].latest()
            if last is not None and last[0] > self.seen[cid]:
                self.seen[cid] = last[0]
                batch.append((cid, *last))
        return batch

    async def flag(self, t: Trigger) -> None:
        """Raise the flagged event of a trigger (audited; the ClipMaker cuts its clip)."""
        cam = self.service.feeds[t.camera_id].camera
        ev = motion_event(cam, t.zone, t.since, self.cfg.category, self.cfg.pre_s,
                          self.cfg.post_s)
        await queue_flag(self.client.pipeline(transaction=False), ev).execute()
        self.stats.events += 1
        self.stats.per_camera[t.camera_id] = self.stats.per_camera.get(t.camera_id, 0) + 1
        log.info("motion on %s (%s, %.0f %% of the zone): flagged as %s", t.camera_id, t.zone,
                 t.share * 100, ev.event_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Analyse until `stop`."""
        loop, period = asyncio.get_running_loop(), 1.0 / self.cfg.analysis_fps
        log.info("motion flagging on %d cameras at %.1f fps", len(self.detectors),
                 self.cfg.analysis_fps)
        try:
            while not stop.is_set():
                started = time.monotonic()
                batch = self._batch()
                for t in await loop.run_in_executor(self.pool, self.analyse, batch) if batch \
                        else []:
                    try:
                        await self.flag(t)
                    except aredis.RedisError as e:
                        log.warning("motion: cannot flag %s (%s)", t.camera_id, e)
                try:
                    await asyncio.wait_for(stop.wait(), max(0.05, period - (time.monotonic()
                                                                            - started)))
                except TimeoutError:
                    pass
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)
