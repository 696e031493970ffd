"""Synthetic camera frames: rendered text and shapes, an optional intruder in a quiet strip,
and a machine-readable stamp of the frame index and timestamp along the bottom edge."""
from __future__ import annotations

import zlib
from datetime import UTC, datetime

import cv2
import numpy as np

INDEX_BITS, TS_BITS, CRC_BITS = 32, 48, 16
STAMP_BITS = INDEX_BITS + TS_BITS + CRC_BITS
# The strip (x0, y0, x1, y1, normalised) that the moving shapes and the text never enter: only
# an intruder moves there. It ends above the stamp (the bottom 10 % at 4:3 sizes).
QUIET_REGION = (0.05, 0.80, 0.95, 0.89)


def block_size(width: int) -> int:
    """Side of one stamp block in pixels for a frame width (40 blocks per row)."""
    return max(4, width // 40)


def stamp_rows(width: int) -> int:
    """Rows of blocks the stamp needs."""
    per_row = width // block_size(width)
    return -(-STAMP_BITS // per_row)


def _bits(index: int, ts_ms: int) -> list[int]:
    payload = (index % 2 ** INDEX_BITS) << TS_BITS | (ts_ms % 2 ** TS_BITS)
    raw = payload.to_bytes(10, "big")
    crc = zlib.crc32(raw) & 0xFFFF
    word = payload << CRC_BITS | crc
    return [(word >> (STAMP_BITS - 1 - i)) & 1 for i in range(STAMP_BITS)]


def draw_stamp(frame: np.ndarray, index: int, ts: float) -> None:
    """Draw the index and the timestamp (ms) as blocks along the bottom edge, in place."""
    h, w = frame.shape[:2]
    b = block_size(w)
    per_row = w // b
    top = h - stamp_rows(w) * b
    frame[top:, :] = 0
    for i, bit in enumerate(_bits(index, round(ts * 1000))):
        if bit:
            y, x = top + (i // per_row) * b, (i % per_row) * b
            frame[y:y + b, x:x + b] = 255


def read_stamp(frame: np.ndarray) -> tuple[int, float] | None:
    """The (index, timestamp) drawn by draw_stamp on a decoded frame; None if unreadable."""
    h, w = frame.shape[:2]
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    b = block_size(w)
    per_row = w // b
    top = h - stamp_rows(w) * b
    q = max(1, b // 4)
    word = 0
    for i in range(STAMP_BITS):
        y, x = top + (i // per_row) * b, (i % per_row) * b
        word = word << 1 | int(grey[y + q:y + b - q, x + q:x + b - q].mean() > 127)
    payload, crc = word >> CRC_BITS, word & 0xFFFF
    if zlib.crc32(payload.to_bytes(10, "big")) & 0xFFFF != crc:
        return None
    return payload >> TS_BITS, (payload & (2 ** TS_BITS - 1)) / 1000


def background(camera_id: str, width: int, height: int) -> np.ndarray:
    """A per-camera gradient background with the camera id written on it."""
    hue = zlib.crc32(camera_id.encode()) % 180
    ramp = np.linspace(40, 110, height, dtype=np.uint8)[:, None]
    hsv = np.zeros((height, width, 3), np.uint8)
    hsv[..., 0], hsv[..., 1], hsv[..., 2] = hue, 120, ramp
    img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    scale = width / 640
    cv2.putText(img, camera_id[:40], (int(10 * scale), int(34 * scale)),
                cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, (255, 255, 255), max(1, round(2 * scale)),
                cv2.LINE_AA)
    return img


def draw_intruder(frame: np.ndarray, phase: float) -> None:
    """Draw the intruder (a magenta and white figure) walking across QUIET_REGION, in place;
    phase 0..1 is how far it has walked."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = QUIET_REGION
    fw, fh = max(4, int(0.07 * w)), max(4, int((y1 - y0) * h) - 2)
    left = int(x0 * w + min(1.0, max(0.0, phase)) * ((x1 - x0) * w - fw))
    top = int(y0 * h) + 1
    cv2.rectangle(frame, (left, top), (left + fw, top + fh), (255, 0, 255), -1)
    cv2.rectangle(frame, (left + fw // 4, top + fh // 4), (left + 3 * fw // 4, top + fh // 2),
                  (255, 255, 255), -1)


def render(bg: np.ndarray, index: int, ts: float, intruder: float | None = None) -> np.ndarray:
    """One frame: moving shapes, a big UTC timestamp with ms, the frame counter, the intruder
    if `intruder` (its phase 0..1) is given, and the stamp."""
    h, w = bg.shape[:2]
    f = bg.copy()
    s = w / 640
    t = index * 0.15
    cx = int((0.5 + 0.4 * np.sin(t)) * w)
    cy = int((0.45 + 0.25 * np.cos(t * 1.3)) * h)
    cv2.circle(f, (cx, cy), int(40 * s), (0, 200, 255), -1, cv2.LINE_AA)
    x = int((index * 9 * s) % (w + 80 * s) - 80 * s)
    cv2.rectangle(f, (x, int(h * 0.62)), (x + int(80 * s), int(h * 0.62 + 50 * s)),
                  (60, 220, 60), -1)
    text = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    thick = max(1, round(3 * s))
    cv2.putText(f, text, (int(12 * s), int(h * 0.30)), cv2.FONT_HERSHEY_SIMPLEX, 1.05 * s,
                (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(f, text, (int(12 * s), int(h * 0.30)), cv2.FONT_HERSHEY_SIMPLEX, 1.05 * s,
                (255, 255, 255), thick, cv2.LINE_AA)
    cv2.putText(f, f"#{index:07d}", (int(12 * s), int(h * 0.30 + 44 * s)),
                cv2.FONT_HERSHEY_SIMPLEX, 0.9 * s, (255, 255, 255), max(1, round(2 * s)),
                cv2.LINE_AA)
    if intruder is not None:
        draw_intruder(f, intruder)
    draw_stamp(f, index, ts)  # last: the stamp stays readable whatever is drawn
    return f


def render_jpeg(bg: np.ndarray, index: int, ts: float, quality: int = 80,
                intruder: float | None = None) -> bytes:
    """A rendered frame as JPEG bytes (with the intruder at phase `intruder`, if given)."""
    ok, buf = cv2.imencode(".jpg", render(bg, index, ts, intruder),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()
