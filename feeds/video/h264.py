"""Encoded H.264 without re-encoding: a ring buffer of packets kept from a keyframe, and the
remux of a window of them into an MP4 (codec copy, `faststart`) that browsers play."""
from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class Packet:
    """One encoded video packet as demuxed (timestamps in the stream's time base)."""

    pts: int
    dts: int
    key: bool
    data: bytes


@dataclass(frozen=True)
class StreamInfo:
    """What a muxer needs to write a stream it did not encode."""

    codec: str  # "h264"
    width: int
    height: int
    time_base: Fraction
    extradata: bytes  # SPS/PPS (Annex B from RTSP, avcC from MP4/FLV)


@dataclass(frozen=True)
class Window:
    """Packets of a clip window, from a keyframe, with the wall time of the first one."""

    info: StreamInfo
    packets: list[Packet]
    start_ts: float  # wall time of the first packet (the clip's time 0)
    end_ts: float  # wall time of the last packet


@dataclass
class PacketRing:
    """One reader session's packets, grouped by GOP (each starts with a keyframe), kept for
    buffer_s. Wall time of a packet: anchor + pts·time_base, the anchor being the smallest
    (arrival − pts·time_base) seen, so a burst at connect does not shift the clock.
    Written by the reader thread, read by the clip maker (a lock guards both)."""

    info: StreamInfo
    buffer_s: float
    anchor: float | None = None
    received: int = 0
    gops: deque[list[Packet]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wall(self, pts: int) -> float:
        """The wall-clock time of a pts."""
        return (self.anchor or 0.0) + float(pts * self.info.time_base)

    def add(self, pkt: Packet, arrival: float) -> float:
        """Keep a packet (those before the first keyframe are dropped); returns its wall time."""
        offset = arrival - float(pkt.pts * self.info.time_base)
        with self.lock:
            self.anchor = offset if self.anchor is None else min(self.anchor, offset)
            self.received += 1
            if pkt.key:
                self.gops.append([pkt])
            elif self.gops:
                self.gops[-1].append(pkt)
            horizon = self.wall(pkt.pts) - self.buffer_s
            while len(self.gops) > 1 and self.wall(self.gops[1][0].pts) <= horizon:
                self.gops.popleft()
        return self.wall(pkt.pts)

    def first_ts(self) -> float | None:
        """Wall time of the oldest packet kept."""
        with self.lock:
            return self.wall(self.gops[0][0].pts) if self.gops else None

    def last_ts(self) -> float | None:
        """Wall time of the newest packet kept."""
        with self.lock:
            return self.wall(self.gops[-1][-1].pts) if self.gops else None

    def window(self, start: float, end: float) -> Window | None:
        """The packets of [start, end], from the last keyframe at or before start (else the
        first keyframe kept); None if there are none."""
        with self.lock:
            gops = list(self.gops)
            first = 0
            for i, g in enumerate(gops):
                if self.wall(g[0].pts) <= start:
                    first = i
            pkts = [p for g in gops[first:] for p in g if self.wall(p.pts) <= end]
            if not pkts:
                return None
            return Window(self.info, pkts, self.wall(pkts[0].pts),
                          max(self.wall(p.pts) for p in pkts))


def remux_mp4(path: Path, win: Window) -> tuple[int, float]:
    """Write a window's packets into an MP4 without re-encoding (moov first); returns the
    frames written and the duration in seconds."""
    import av  # noqa: PLC0415  (PyAV lives in the capture worker only)

    tb = win.info.time_base
    base = min(win.packets[0].dts, win.packets[0].pts)
    out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        st = out.add_stream(win.info.codec)
        st.codec_context.width, st.codec_context.height = win.info.width, win.info.height
        st.codec_context.extradata = win.info.extradata
        st.time_base = tb
        frames, last_dts, last_pts = 0, None, base
        for p in win.packets:
            if last_dts is not None and p.dts <= last_dts:
                continue  # the muxer needs strictly increasing dts
            pkt = av.Packet(p.data)
            pkt.pts, pkt.dts, pkt.time_base = p.pts - base, p.dts - base, tb
            pkt.is_keyframe = p.key
            pkt.stream = st
            out.mux(pkt)
            frames, last_dts, last_pts = frames + 1, p.dts, max(last_pts, p.pts)
    finally:
        out.close()
    step = (last_pts - base) / max(1, frames - 1)  # one frame's duration, on average
    return frames, float((last_pts - base + step) * tb)


def window_poster(win: Window, quality: int = 80) -> bytes:
    """A JPEG of a window's first keyframe (when no decoded frame is at hand)."""
    import av  # noqa: PLC0415
    import cv2  # noqa: PLC0415

    decoder = av.CodecContext.create(win.info.codec, "r")
    if win.info.extradata:
        decoder.extradata = win.info.extradata
    frames = decoder.decode(av.Packet(win.packets[0].data)) + decoder.decode(None)
    if not frames:
        raise RuntimeError("the window's keyframe does not decode")
    ok, buf = cv2.imencode(".jpg", frames[0].to_ndarray(format="bgr24"),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()
