"""RTSP and HLS streams read with PyAV: H.264 packets go undecoded into a PacketRing (clips are
remuxed from it), only a keyframe now and then is decoded for snapshots, viewers and motion;
other codecs are decoded and kept as JPEGs at a capped rate (clips: VP8 WebM as before)."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from feeds.video.h264 import Packet, PacketRing, StreamInfo

log = logging.getLogger(__name__)

REMUXED = ("h264",)  # codecs whose clips are remuxed (browsers play H.264 in MP4)


@dataclass(frozen=True)
class AvReadConfig:
    """How a PyAV session reads (from CaptureConfig)."""

    read_timeout_s: float
    buffer_s: float
    decode_fps: float  # H.264: at most this many keyframes decoded per second
    max_fps: float  # other codecs: JPEGs kept per second
    jpeg_quality: int


@dataclass
class AvCounters:
    """Frames received and frames decoded by a camera's reader (decoded ≪ received for
    H.264: the capture worker does not decode every frame)."""

    received: int = 0
    decoded: int = 0


def _open(url: str, timeout: float):  # noqa: ANN202  (an av container)
    import av  # noqa: PLC0415  (PyAV lives in the capture worker's reader threads only)

    opts = {"rtsp_transport": "tcp"} if url.startswith(("rtsp:", "rtsps:")) else {}
    return av.open(url, options=opts, timeout=(timeout, timeout))


def _jpeg(frame: object, quality: int) -> bytes | None:
    import cv2  # noqa: PLC0415

    ok, buf = cv2.imencode(".jpg", frame.to_ndarray(format="bgr24"),  # type: ignore[attr-defined]
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else None


def read_session(url: str, cfg: AvReadConfig, stop: threading.Event, counters: AvCounters,
                 on_ring: Callable[[PacketRing | None], None],
                 on_jpeg: Callable[[float, bytes], None]) -> None:
    """Read one connection until it ends, fails (raises) or `stop` is set. `on_ring` gets the
    session's PacketRing (None for codecs not remuxed) once the stream is open; `on_jpeg`
    gets the decoded frames as (wall time, JPEG)."""
    container = _open(url, cfg.read_timeout_s)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx.name in REMUXED:
            ring = PacketRing(StreamInfo(ctx.name, ctx.width, ctx.height,
                                         Fraction(stream.time_base), bytes(ctx.extradata or b"")),
                              cfg.buffer_s)
            on_ring(ring)
            _read_h264(container, stream, ring, cfg, stop, counters, on_jpeg)
        else:
            on_ring(None)
            _read_decoded(container, stream, cfg, stop, counters, on_jpeg)
    finally:
        container.close()


def _read_h264(container: object, stream: object, ring: PacketRing, cfg: AvReadConfig,
               stop: threading.Event, counters: AvCounters,
               on_jpeg: Callable[[float, bytes], None]) -> None:
    """Demux into the ring; decode a keyframe at most decode_fps times a second."""
    import av  # noqa: PLC0415

    decoder = av.CodecContext.create(ring.info.codec, "r")
    if ring.info.extradata:
        decoder.extradata = ring.info.extradata
    period, last = 1.0 / cfg.decode_fps, 0.0
    for pkt in container.demux(stream):  # type: ignore[attr-defined]
        if stop.is_set():
            return
        if pkt.size == 0 or pkt.pts is None:
            continue
        counters.received += 1
        now = time.time()
        ts = ring.add(Packet(pkt.pts, pkt.dts if pkt.dts is not None else pkt.pts,
                             bool(pkt.is_keyframe), bytes(pkt)), now)
        if not pkt.is_keyframe or now - last < period:
            continue
        last = now
        copy = av.Packet(bytes(pkt))
        copy.pts = pkt.pts
        try:
            frames = decoder.decode(copy)
        except av.error.FFmpegError as e:  # a damaged keyframe: wait for the next one
            log.debug("keyframe decode failed: %s", e)
            continue
        for frame in frames:
            counters.decoded += 1
            if (jpeg := _jpeg(frame, cfg.jpeg_quality)) is not None:
                on_jpeg(ts, jpeg)


def _read_decoded(container: object, stream: object, cfg: AvReadConfig,
                  stop: threading.Event, counters: AvCounters,
                  on_jpeg: Callable[[float, bytes], None]) -> None:
    """A codec that is not remuxed: decode every frame, keep max_fps of them as JPEGs."""
    period, last = 1.0 / cfg.max_fps, 0.0
    for frame in container.decode(stream):  # type: ignore[attr-defined]
        if stop.is_set():
            return
        counters.received += 1
        counters.decoded += 1
        now = time.time()
        if now - last >= period and (jpeg := _jpeg(frame, cfg.jpeg_quality)) is not None:
            last = now
            on_jpeg(now, jpeg)


def read_opencv(url: str, kind: str, timeout: float, max_fps: float, quality: int,
                stop: threading.Event, opened: Callable[[], None],
                on_jpeg: Callable[[float, bytes], None]) -> None:
    """Read one OpenCV (FFmpeg) connection (https MJPEG) until it ends or `stop`: JPEGs at
    most max_fps (the other frames are grabbed, not decoded)."""
    import cv2  # noqa: PLC0415  (only the reader threads need it)

    timeout_ms = int(timeout * 1000)
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms,
                                                 cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms])
    if not cap.isOpened():
        raise RuntimeError(f"OpenCV cannot open {kind} stream")
    opened()
    period, last = 1.0 / max_fps, 0.0
    try:
        while not stop.is_set():
            if not cap.grab():
                return
            now = time.time()
            if now - last < period:
                continue
            ok, frame = cap.retrieve()
            ok2, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality]) \
                if ok else (0, 0)
            if ok2:
                last = now
                on_jpeg(now, buf.tobytes())
    finally:
        cap.release()
