"""Cameras, clips and flagged events, and the pure rules of video review."""
from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from domain.model import DONE_STATUSES, Status
from domain.regions import town_of

# Ids that are safe in URLs, file names and Redis keys.
CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
RECORD_ID = re.compile(r"^[a-z]{2}[0-9a-f]{12}$")  # ev…, cl… (made by Gridwatch)
EARTH_RADIUS_M = 6_371_008.8


class CameraKind(StrEnum):
    """How a camera's stream is read."""

    MJPEG = "mjpeg"  # http(s) multipart/x-mixed-replace of JPEGs
    RTSP = "rtsp"
    HLS = "hls"
    FLV = "flv"  # HTTP-FLV, or MPEG-TS over HTTP (a .ts URL): media servers' live streams

    @property
    def browser_plays(self) -> bool:
        """Whether browsers play the stream itself (hls.js, mpegts.js), else the MJPEG
        re-stream of the capture worker."""
        return self in (CameraKind.HLS, CameraKind.FLV)


class ClipContainer(StrEnum):
    """A clip file's container (and extension)."""

    WEBM = "webm"  # VP8, re-encoded from JPEG frames
    MP4 = "mp4"  # H.264 as the camera (or its platform) encoded it, remuxed


class Recorder(StrEnum):
    """Who records a camera: Gridwatch (ring buffers) or the platform that already does."""

    GRIDWATCH = "gridwatch"
    PLATFORM = "platform"  # clips come from its playback interface (playback_url)


class Health(StrEnum):
    """A camera's state as seen by the capture worker (always shown with a text cue)."""

    ONLINE = "online"  # frames arriving
    STALE = "stale"  # connected or recently seen, but no fresh frame
    OFFLINE = "offline"  # disconnected, never seen, or the capture worker is gone


class EventStatus(StrEnum):
    """Where a flagged event's clips stand."""

    PENDING = "pending"  # flagged, not yet picked up by the capture worker
    RECORDING = "recording"  # inside the post-roll
    READY = "ready"  # clips written
    NO_CAMERAS = "no_cameras"  # no camera near enough
    FAILED = "failed"  # no frames for the window


class FlagReason(StrEnum):
    """Why an event was flagged for video review (FlaggedEvent.reason)."""

    RED = "red"  # its case turned red
    MANUAL = "manual"  # flagged by hand
    MOTION = "motion"  # sustained motion in a camera's zone (no case)


class ClipState(StrEnum):
    """Where one camera's clip of an event stands (the video events API)."""

    RECORDING = "recording"  # the event is still being recorded
    READY = "ready"  # written: it plays
    FAILED = "failed"  # no frames of the window (or the clip has expired)


def clip_state(status: EventStatus, written: bool) -> ClipState:
    """The state of a camera's clip: written, still to come, or not made."""
    if written:
        return ClipState.READY
    return ClipState.RECORDING if status in (EventStatus.PENDING, EventStatus.RECORDING) \
        else ClipState.FAILED


REVIEW_ROLES = frozenset({"reviewer", "admin"})
FLAG_ROLES = frozenset({"duty", "reviewer", "admin"})


@dataclass(frozen=True)
class Camera:
    """A registered camera: where it is, which grid it watches, how to read it."""

    camera_id: str
    name: str
    lon: float
    lat: float
    grid: str
    stream_url: str
    kind: CameraKind = CameraKind.MJPEG
    recorder: Recorder = Recorder.GRIDWATCH
    playback_url: str = ""  # recorder platform: its playback interface (docs/cameras.md)

    @property
    def town(self) -> str:
        """The town code of the camera's grid."""
        return town_of(self.grid)

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        d = asdict(self)
        d["kind"], d["recorder"] = self.kind.value, self.recorder.value
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Camera:
        """Rebuild from the stored form."""
        return cls(d["camera_id"], d["name"], float(d["lon"]), float(d["lat"]), d["grid"],
                   d["stream_url"], CameraKind(d.get("kind", "mjpeg")),
                   Recorder(d.get("recorder", "gridwatch")), d.get("playback_url", ""))


@dataclass(frozen=True)
class Clip:
    """One camera's clip of a flagged event (files live under data_dir/clips/): VP8 WebM
    re-encoded from JPEGs, or H.264 MP4 remuxed from the camera's own stream (`container`)."""

    clip_id: str
    event_id: str
    camera_id: str
    camera_name: str
    grid: str  # the event's grid: scope of the clip
    start_ts: float  # epoch of the clip's first frame (its time 0)
    end_ts: float
    frames: int
    fps: float
    width: int
    height: int
    size_bytes: int
    created_ts: float
    dist_m: float = 0.0
    container: str = "webm"  # a ClipContainer: the file's extension
    source: str = "gridwatch"  # a Recorder: cut from the ring buffers, or fetched from the
    # platform's recordings

    @property
    def mime(self) -> str:
        """The file's media type."""
        return f"video/{self.container}"

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Clip:
        """Rebuild from the stored form."""
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class FlaggedEvent:
    """A moment of a case that needs video review: its clips and its review."""

    event_id: str
    incident_id: str
    ts: float  # the flagged moment T; clips cover [T - pre_s, T + post_s]
    lon: float
    lat: float
    grid: str
    category: str
    title: str
    level: str
    reason: str  # a FlagReason
    by: str
    pre_s: float
    post_s: float
    status: EventStatus = EventStatus.PENDING
    cameras: tuple[str, ...] = ()
    clips: tuple[str, ...] = ()
    reviewed_ts: float | None = None
    reviewed_by: str = ""
    note: str = ""

    @property
    def town(self) -> str:
        """The town code of the event's grid."""
        return town_of(self.grid)

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        d = asdict(self)
        d["status"] = self.status.value
        d["cameras"], d["clips"] = list(self.cameras), list(self.clips)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FlaggedEvent:
        """Rebuild from the stored form."""
        kw = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        kw["status"] = EventStatus(kw.get("status", "pending"))
        kw["cameras"], kw["clips"] = tuple(kw.get("cameras", ())), tuple(kw.get("clips", ()))
        return cls(**kw)


def valid_camera_id(camera_id: str) -> bool:
    """Whether a camera id is safe to use in URLs, file names and keys."""
    return bool(CAMERA_ID.match(camera_id or ""))


def health_state(last_frame_ts: float | None, connected: bool, checked_ts: float | None,
                 now: float, stale_s: float = 5.0, offline_s: float = 30.0,
                 answered_ts: float | None = None, answer_s: float = 300.0) -> Health:
    """A camera's health from its last frame time, link state and the worker's last report.

    Offline: never seen, the capture worker silent for offline_s, or the link down for longer
    than stale_s. Stale: the link just dropped, or it is up but frames stopped. A camera read
    on demand, idle now, is online while it answered its last probe within answer_s.
    """
    if checked_ts is None or now - checked_ts > offline_s:
        return Health.OFFLINE
    if answered_ts is not None and now - answered_ts <= answer_s:
        return Health.ONLINE
    if last_frame_ts is None:
        return Health.OFFLINE
    age = now - last_frame_ts
    if not connected:
        return Health.STALE if age <= stale_s else Health.OFFLINE
    if age <= stale_s:
        return Health.ONLINE
    return Health.STALE if age <= offline_s else Health.OFFLINE


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def nearest(cameras: Iterable[Camera], lon: float, lat: float, n: int,
            radius_m: float) -> list[tuple[Camera, float]]:
    """The n cameras nearest to a point within radius_m, nearest first, with distances."""
    found = [(c, distance_m(lon, lat, c.lon, c.lat)) for c in cameras]
    return sorted((x for x in found if x[1] <= radius_m), key=lambda x: x[1])[:n]


def red_transitions(levels: Mapping[str, str], cases: Iterable[Mapping[str, Any]]
                    ) -> tuple[list[Mapping[str, Any]], dict[str, str]]:
    """Open cases whose level became red, and the updated id → level map.

    A case seen for the first time already red counts as becoming red.
    """
    out, known = [], dict(levels)
    for c in cases:
        iid = c.get("incident_id") or c.get("id")
        level, status = c.get("level"), c.get("status", Status.REPORTED)
        if not iid:
            continue
        if status in DONE_STATUSES:
            known.pop(iid, None)
            continue
        if level == "red" and known.get(iid) != "red":
            out.append(c)
        known[iid] = level or ""
    return out, known


def red_since(case: Mapping[str, Any]) -> float | None:
    """When the case last turned red, from its timeline (None if the timeline does not say)."""
    reds = [e.get("ts") for e in case.get("events", ()) if e.get("kind") == "level"
            and e.get("level") == "red" and isinstance(e.get("ts"), int | float)]
    return float(reds[-1]) if reds else None


def review_order(events: Iterable[FlaggedEvent]) -> list[FlaggedEvent]:
    """The review queue: unreviewed first, red before other levels, newest first."""
    return sorted(events, key=lambda e: (e.reviewed_ts is not None, e.level != "red", -e.ts))


def retention_victims(clips: Iterable[Clip], now: float, max_bytes: int,
                      max_age_s: float) -> list[Clip]:
    """Clips to delete: older than max_age_s, then the oldest until the rest fit max_bytes."""
    newest_first = sorted(clips, key=lambda c: c.created_ts, reverse=True)
    keep_bytes, victims = 0, []
    for c in newest_first:
        if now - c.created_ts > max_age_s or keep_bytes + c.size_bytes > max_bytes:
            victims.append(c)
        else:
            keep_bytes += c.size_bytes
    return victims


def clip_fps(frame_ts: Sequence[float], max_fps: float) -> float:
    """The frame rate of a clip: the measured arrival rate, between 1 and max_fps."""
    if len(frame_ts) < 2 or frame_ts[-1] <= frame_ts[0]:
        return 1.0
    rate = (len(frame_ts) - 1) / (frame_ts[-1] - frame_ts[0])
    return float(max(1.0, min(max_fps, round(rate * 2) / 2)))


T = TypeVar("T")


@dataclass
class Resampler(Generic[T]):
    """Frames at irregular times → one frame per 1/fps slot (the latest at or before it).

    Slot k is at start + k/fps; a clip made of the slots keeps wall-clock time, so clips of
    several cameras line up on one timeline.
    """

    start: float
    end: float
    fps: float
    slots: int = 0
    last: T | None = None
    _pending: list[tuple[float, T]] = field(default_factory=list)

    def slot_ts(self, k: int) -> float:
        """The time of slot k."""
        return self.start + k / self.fps

    def push(self, frames: Iterable[tuple[float, T]], upto: float) -> list[T]:
        """Add frames (ts order) known complete up to `upto`; the slots now decided."""
        out: list[T] = []
        limit = min(upto, self.end)
        for ts, item in frames:
            while self.last is not None and self.slot_ts(self.slots) < ts and \
                    self.slot_ts(self.slots) <= limit:
                out.append(self.last)
                self.slots += 1
            if ts <= self.end:
                self.last = item
        while self.last is not None and self.slot_ts(self.slots) <= limit:
            out.append(self.last)
            self.slots += 1
        return out


def sign_ticket(secret: bytes, camera_id: str, kind: str, expires: int) -> str:
    """A short-lived ticket letting its holder open one camera's stream or snapshot."""
    mac = hmac.new(secret, f"{camera_id}|{kind}|{expires}".encode(), hashlib.sha256)
    return f"{expires}.{mac.hexdigest()[:32]}"


def check_ticket(secret: bytes, camera_id: str, kind: str, ticket: str, now: float) -> bool:
    """Whether a ticket is valid for this camera and kind and not expired."""
    exp, _, _mac = (ticket or "").partition(".")
    if not exp.isdigit() or int(exp) < now:
        return False
    return hmac.compare_digest(sign_ticket(secret, camera_id, kind, int(exp)).encode(),
                               ticket.encode("utf-8", "surrogatepass"))
