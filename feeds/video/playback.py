"""Clips from the platform that already records a camera: MediaMTX's playback server
(`GET <playback_url>&start=RFC3339&duration=S&format=mp4`, docs/cameras.md) is asked for
[T − pre, T + post] once the post-roll is recorded; the answer is checked (a container and codec
browsers play), given a poster (the frame nearest T) and stored like Gridwatch's own clips."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from domain.video import Camera, ClipContainer
from feeds.video.httpauth import redact

log = logging.getLogger(__name__)

PLAYABLE = {("mp4", "h264"): ClipContainer.MP4, ("webm", "vp8"): ClipContainer.WEBM,
            ("webm", "vp9"): ClipContainer.WEBM}


class PlaybackError(RuntimeError):
    """The platform has no usable recording of the window (the message says why)."""


@dataclass(frozen=True)
class PlaybackConfig:
    """How recordings are fetched from a platform (docs/cameras.md)."""

    delay_s: float = 1.5  # after T + post: the platform has written the post-roll
    retry_s: float = 1.0  # a 404 (not recorded yet) is asked again after this ...
    wait_s: float = 20.0  # ... until this long after T + post
    timeout_s: float = 15.0
    max_bytes: int = 200 * 1024 ** 2
    format: str = "mp4"  # mp4 (moov first, plays everywhere) or fmp4


@dataclass(frozen=True)
class Recording:
    """A fetched recording, checked: what it holds and its poster."""

    container: ClipContainer
    codec: str
    frames: int
    duration_s: float
    width: int
    height: int
    poster: bytes


def rfc3339(ts: float) -> str:
    """Epoch seconds → RFC 3339 (UTC, milliseconds)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def get_url(playback_url: str, start: float, duration: float, fmt: str = "mp4") -> str:
    """The /get request of a window: the camera's playback URL (which names its path) with
    start, duration and format set."""
    u = urlsplit(playback_url)
    q = [(k, v) for k, v in parse_qsl(u.query) if k not in ("start", "duration", "format")]
    q += [("start", rfc3339(start)), ("duration", f"{duration:.3f}"), ("format", fmt)]
    return urlunsplit(u._replace(query=urlencode(q)))


def _auth(url: str, challenge: str) -> tuple[str, AuthBase | None]:
    """The URL without credentials, and the auth answering a 401's challenge with them."""
    u = urlsplit(url)
    plain = urlunsplit(u._replace(netloc=u.netloc.rpartition("@")[2]))
    if u.username is None or not challenge:
        return plain, None
    cls = HTTPDigestAuth if challenge.lower().startswith("digest") else HTTPBasicAuth
    return plain, cls(u.username, u.password or "")


def open_get(url: str, timeout: float) -> requests.Response:
    """GET a URL as a stream, answering a 401 with the URL's Basic or Digest credentials
    (never sent before asked). Raises PlaybackError or requests' errors."""
    plain, auth = _auth(url, "")
    r = requests.get(plain, stream=True, timeout=timeout)
    if r.status_code == 401:
        r.close()
        plain, auth = _auth(url, r.headers.get("WWW-Authenticate", ""))
        if auth is None:
            raise PlaybackError("the server wants credentials; the URL has none")
        r = requests.get(plain, stream=True, timeout=timeout, auth=auth)
    return r


def download(url: str, dest: Path, cfg: PlaybackConfig) -> int:
    """GET a recording into dest (Basic or Digest credentials of the URL sent when asked);
    returns its size. Raises PlaybackError (with the status) or requests' errors."""
    r = open_get(url, cfg.timeout_s)
    with r:
        if r.status_code != 200:
            reason = r.text[:200].strip() if r.status_code < 500 else ""
            raise PlaybackError(f"platform answered {r.status_code} {reason}".strip())
        size = 0
        with dest.open("wb") as f:
            for chunk in r.iter_content(256 * 1024):
                size += len(chunk)
                if size > cfg.max_bytes:
                    raise PlaybackError(f"recording larger than {cfg.max_bytes} bytes")
                f.write(chunk)
    return size


def inspect(path: Path, poster_at: float) -> Recording:
    """Container, codec, frames, duration and size of a recording, and a JPEG of its frame
    nearest `poster_at` seconds in; raises PlaybackError if browsers cannot play it."""
    import av  # noqa: PLC0415  (PyAV lives in the capture worker)
    import cv2  # noqa: PLC0415

    try:
        c = av.open(str(path))
    except av.error.FFmpegError as e:
        raise PlaybackError(f"not a video file: {e}") from None
    with c:
        st = c.streams.video[0] if c.streams.video else None
        if st is None:
            raise PlaybackError("the recording has no video")
        fmt = "webm" if "webm" in c.format.name else "mp4" if "mp4" in c.format.name else ""
        container = PLAYABLE.get((fmt, st.codec_context.name))
        if container is None:
            raise PlaybackError(f"{c.format.name}/{st.codec_context.name} does not play in "
                                "browsers")
        frames, best, best_d = 0, None, float("inf")
        for frame in c.decode(st):
            frames += 1
            d = abs(float(frame.time or 0.0) - poster_at)
            if d < best_d:
                best, best_d = frame, d
        if best is None:
            raise PlaybackError("the recording has no frames")
        ok, jpeg = cv2.imencode(".jpg", best.to_ndarray(format="bgr24"))
        duration = float(c.duration or 0) / 1e6 or frames / float(st.average_rate or 1)
        return Recording(container, st.codec_context.name, frames, duration,
                         st.codec_context.width, st.codec_context.height, jpeg.tobytes())


def fetch(camera: Camera, start: float, end: float, poster_ts: float, dest: Path,
          cfg: PlaybackConfig) -> Recording:
    """Fetch and check one camera's recording of [start, end] (runs in a worker thread):
    a 404 (the platform has not written it yet) is retried until wait_s past `end`."""
    url = get_url(camera.playback_url, start, end - start, cfg.format)
    while True:
        try:
            download(url, dest, cfg)
            return inspect(dest, poster_ts - start)
        except PlaybackError as e:
            if "answered 404" not in str(e) or time.time() > end + cfg.wait_s:
                raise PlaybackError(f"{redact(url)}: {e}") from None
        except requests.RequestException as e:
            raise PlaybackError(f"{redact(url)}: {type(e).__name__}") from None
        time.sleep(cfg.retry_s)
