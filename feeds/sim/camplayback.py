"""The synthetic cameras' recordings, as a platform's playback server serves them: frames are a
function of time, so any past window is rendered and encoded on request (H.264 MP4 / fMP4 with
PyAV's libx264, or VP8 WebM), answering MediaMTX's `/list` and `/get` interface."""
from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

from feeds.sim import camframes

FORMATS = {"mp4": ("mp4", "libx264", {"movflags": "+faststart"}),
           "fmp4": ("mp4", "libx264", {"movflags": "frag_keyframe+empty_moov+default_base_moof"}),
           "webm": ("webm", "libvpx", {})}
MEDIA_TYPES = {"mp4": "video/mp4", "fmp4": "video/mp4", "webm": "video/webm"}
MAX_DURATION_S = 600.0
RETENTION_S = 7 * 24 * 3600.0  # how far back the synthetic "recordings" reach


class PlaybackError(ValueError):
    """A bad /get or /list request; status is the HTTP status to answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Window:
    """A requested recording window."""

    start: float  # epoch seconds
    duration: float
    fmt: str  # a key of FORMATS


def parse_time(text: str, field: str) -> float:
    """An RFC 3339 time → epoch seconds; raises PlaybackError(400) naming the field."""
    try:
        dt = datetime.fromisoformat(text.strip().replace(" ", "+"))  # '+' decoded as a space
    except ValueError:
        raise PlaybackError(400, f"{field}: not an RFC 3339 time: {text!r}") from None
    if dt.tzinfo is None:
        raise PlaybackError(400, f"{field}: RFC 3339 needs a time zone: {text!r}")
    return dt.timestamp()


def rfc3339(ts: float) -> str:
    """Epoch seconds → RFC 3339 in UTC with microseconds."""
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def parse_get(query: dict[str, str], now: float) -> Window:
    """Check a /get request's start, duration and format against the recordings kept."""
    start = parse_time(query.get("start", ""), "start")
    try:
        duration = float(query.get("duration", ""))
    except ValueError:
        raise PlaybackError(400, "duration: not a number of seconds") from None
    if not 0 < duration <= MAX_DURATION_S or not math.isfinite(duration):
        raise PlaybackError(400, f"duration: must be in (0, {MAX_DURATION_S:.0f}] seconds")
    fmt = query.get("format", "fmp4") or "fmp4"
    if fmt not in FORMATS:
        raise PlaybackError(400, f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if start >= now or start < now - RETENTION_S:
        raise PlaybackError(404, "no recording at that time")
    return Window(start, min(duration, now - start), fmt)


def listing(base_url: str, path: str, now: float) -> list[dict[str, object]]:
    """The /list answer: one timespan covering the retention window."""
    start = now - RETENTION_S
    return [{"start": rfc3339(start), "duration": RETENTION_S,
             "url": f"{base_url}/get?path={path}&start={rfc3339(start)}&duration={RETENTION_S}"}]


def encode(camera_id: str, win: Window, fps: float, width: int, height: int) -> bytes:
    """Render the camera's frames of the window (frame k at k/fps, its stamp telling k and
    the time) and encode them in the window's format; returns the file's bytes."""
    import av  # noqa: PLC0415  (only the camera server's encoding threads need it)

    fmt, codec, opts = FORMATS[win.fmt]
    bg = camframes.background(camera_id, width, height)
    first = math.ceil(win.start * fps)
    last = math.floor((win.start + win.duration) * fps)
    with tempfile.TemporaryDirectory(prefix="camsim-") as tmp:  # faststart rewrites the file
        path = Path(tmp) / f"clip.{fmt}"
        _encode(av, path, fmt, codec, opts, bg, first, last, fps)
        return path.read_bytes()


def _encode(av: object, path: Path, fmt: str, codec: str, opts: dict[str, str],
            bg: object, first: int, last: int, fps: float) -> None:
    """Encode frames first..last (frame k at k/fps) into a file."""
    height, width = bg.shape[:2]  # type: ignore[attr-defined]
    with av.open(str(path), "w", format=fmt, options=opts) as out:  # type: ignore[attr-defined]
        st = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        st.width, st.height, st.pix_fmt = width, height, "yuv420p"
        st.codec_context.time_base = Fraction(1, 1) / Fraction(fps).limit_denominator(1000)
        st.codec_context.options = ({"preset": "veryfast", "g": str(max(1, round(fps))),
                                     "bf": "0"} if codec == "libx264" else {"deadline": "realtime"})
        for k in range(first, last + 1):
            frame = av.VideoFrame.from_ndarray(  # type: ignore[attr-defined]
                camframes.render(bg, k, k / fps), "bgr24")
            frame = frame.reformat(format="yuv420p")
            frame.pts = k - first
            out.mux(st.encode(frame))
        out.mux(st.encode(None))
