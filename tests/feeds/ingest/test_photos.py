"""Photos, sans I/O: what a phone's JPEG or PNG becomes, and what is refused before decoding."""
from __future__ import annotations

import base64
import struct

import cv2
import numpy as np

from feeds.ingest.photos import MAX_BYTES, THUMB_PX, decode_data, header_size, prepare


def encoded(ext: str, w: int, h: int) -> bytes:
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 2] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    return cv2.imencode(f".{ext}", img)[1].tobytes()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_header_sizes_of_jpeg_and_png_are_read_without_decoding():
    assert header_size("image/jpeg", encoded("jpg", 300, 200)) == (300, 200)
    assert header_size("image/png", encoded("png", 30, 20)) == (30, 20)
    assert header_size("image/jpeg", b"\xff\xd8\xff\xe0\x00\x00") is None


def test_a_portrait_jpeg_is_re_encoded_and_its_thumbnail_fits_the_box():
    photo = prepare("image/jpeg", b64(encoded("jpg", 900, 1600)))
    assert not isinstance(photo, str)
    assert photo.name == f"{photo.photo_id}.jpg" and len(photo.photo_id) == 64
    thumb = cv2.imdecode(np.frombuffer(photo.thumb, np.uint8), cv2.IMREAD_COLOR)
    assert thumb.shape[:2] == (THUMB_PX, 180)
    again = prepare("image/jpeg", b64(encoded("jpg", 900, 1600)))
    assert again.photo_id == photo.photo_id  # content-addressed: the same picture, one file


def test_comments_and_exif_do_not_survive_re_encoding():
    jpeg = encoded("jpg", 64, 48)
    com = b"\xff\xfe" + struct.pack(">H", 14) + b"secret-place"
    photo = prepare("image/jpeg", b64(jpeg[:2] + com + jpeg[2:]))
    assert b"secret-place" not in photo.body


def test_limits_are_checked_before_decoding():
    assert "over the 8 MB limit" in decode_data("A" * (MAX_BYTES * 2))
    assert "over the 8 MB limit" in decode_data(b64(b"\0" * (MAX_BYTES + 1)))
    assert decode_data("") == "data: is empty"
    assert prepare("image/gif", b64(b"GIF89a")) == "mime: must be image/jpeg or image/png"
