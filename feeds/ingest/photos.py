"""Photos from the field, sans I/O: base64 decoded, proved to be a JPEG or PNG, re-encoded
without metadata (EXIF, GPS) and a thumbnail made; content-addressed by their bytes."""
from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

import cv2
import numpy as np

MAX_BYTES = 8 * 1024 * 1024  # decoded
MAX_B64_CHARS = (MAX_BYTES + 2) // 3 * 4
MAX_PIXELS = 50_000_000  # a small file must not decode into gigabytes
THUMB_PX = 320
JPEG_QUALITY = 90
MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
EXT = {"image/jpeg": "jpg", "image/png": "png"}
NAME = {"image/jpeg": "JPEG", "image/png": "PNG"}
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class Photo:
    """A checked photo: content id (sha256 of the stored bytes), type, image and thumbnail."""

    photo_id: str
    mime: str
    body: bytes
    thumb: bytes

    @property
    def name(self) -> str:
        """The stored file's name."""
        return f"{self.photo_id}.{EXT[self.mime]}"

    @property
    def thumb_name(self) -> str:
        """The thumbnail's file name."""
        return thumb_name(self.photo_id)


def thumb_name(photo_id: str) -> str:
    """The thumbnail file name of a photo id."""
    return f"{photo_id}_thumb.jpg"


def decode_data(data: str) -> bytes | str:
    """The decoded bytes of a base64 payload, or why not."""
    if len(data) > MAX_B64_CHARS + 4:
        return f"data: image is over the {MAX_BYTES // 2**20} MB limit"
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "data: is not valid base64"
    if len(raw) > MAX_BYTES:
        return (f"data: image is {len(raw)} bytes, over the {MAX_BYTES // 2**20} MB limit")
    if not raw:
        return "data: is empty"
    return raw


def _png_size(raw: bytes) -> tuple[int, int] | None:
    if len(raw) < 24 or raw[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", raw[16:24])


def _jpeg_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height from the first start-of-frame marker of a JPEG."""
    i = 2
    while i + 9 < len(raw):
        if raw[i] != 0xFF:
            return None
        marker = raw[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", raw[i + 2:i + 4])[0]
        if marker in _SOF:
            h, w = struct.unpack(">HH", raw[i + 5:i + 9])
            return w, h
        i += 2 + length
    return None


def header_size(mime: str, raw: bytes) -> tuple[int, int] | None:
    """The image's width and height as its header declares them (None: no header found)."""
    return _png_size(raw) if mime == "image/png" else _jpeg_size(raw)


def _encode(img: np.ndarray, ext: str, quality: int = JPEG_QUALITY) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if ext == "jpg" else []
    ok, buf = cv2.imencode(f".{ext}", img, params)
    if not ok:
        raise ValueError(f"could not encode {ext}")
    return buf.tobytes()


def thumbnail(img: np.ndarray, px: int = THUMB_PX) -> bytes:
    """A JPEG at most `px` on its longer side."""
    h, w = img.shape[:2]
    scale = min(1.0, px / max(h, w))
    small = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else img
    return _encode(small, "jpg", 80)


def prepare(mime: str, data: str) -> Photo | str:
    """The checked, re-encoded photo of an attachment, or the reason it is refused."""
    if mime not in MAGIC:
        return "mime: must be image/jpeg or image/png"
    raw = decode_data(data)
    if isinstance(raw, str):
        return raw
    kind = NAME[mime]
    if not raw.startswith(MAGIC[mime]):
        return f"data: is not a {kind} image (mime {mime})"
    size = header_size(mime, raw)
    if size is None or size[0] < 1 or size[1] < 1:
        return f"data: is not a {kind} image (no readable header)"
    if size[0] * size[1] > MAX_PIXELS:
        return f"data: image of {size[0]}×{size[1]} pixels is over {MAX_PIXELS:,} pixels"
    img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)  # EXIF orientation
    if img is None:
        return f"data: is not a {kind} image (it does not decode)"
    body = _encode(img, EXT[mime])  # new bytes: no EXIF, no GPS, no comments
    return Photo(hashlib.sha256(body).hexdigest(), mime, body, thumbnail(img))
