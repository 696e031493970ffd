"""Synthetic frames carry their index and timestamp; the camera server streams MJPEG."""
from __future__ import annotations

import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

from feeds.sim import camframes
from feeds.video.mjpeg import MjpegError, MjpegParser, boundary_of, part_bytes
from tests.video_support import camsim, decode, read_parts


@pytest.mark.parametrize("size", [(160, 120), (320, 240), (640, 480)])
def test_stamp_survives_jpeg(size):
    bg = camframes.background("cam-1", *size)
    ts = time.time()
    for i in (0, 1, 77, 2 ** 31 + 5):
        img = decode(camframes.render_jpeg(bg, i, ts + i % 100 / 10, quality=60))
        assert img.shape == (size[1], size[0], 3)
        assert camframes.read_stamp(img) == (i, round((ts + i % 100 / 10) * 1000) / 1000)


def test_damaged_stamp_is_refused():
    img = decode(camframes.render_jpeg(camframes.background("c", 320, 240), 5, time.time()))
    img[-8:, :40] = 255 - img[-8:, :40]
    assert camframes.read_stamp(img) is None
    assert camframes.read_stamp(np.zeros((240, 320, 3), np.uint8)) is None


def test_parser_with_and_without_length():
    a, b = b"\xff\xd8one\xff\xd9", b"\xff\xd8two\r\n--x\xff\xd9"
    stream = part_bytes(a, 1.5, 0, "x") + b"--x\r\nContent-Type: image/jpeg\r\n\r\n" + b"z\r\n"
    stream += part_bytes(b, 2.5, 1, "x")
    p = MjpegParser("x")
    got = []
    for i in range(0, len(stream), 7):  # arbitrary chunking
        got += p.feed(stream[i:i + 7])
    assert [g.body for g in got] == [a, b"z", b]
    assert got[0].headers["x-timestamp"] == "1.500" and got[2].headers["x-frame-index"] == "1"
    assert boundary_of('multipart/x-mixed-replace; boundary="--abc"') == "abc"
    with pytest.raises(MjpegError):
        boundary_of("image/jpeg")


def test_server_streams_frames_with_their_stamp():
    with camsim(fps=10) as (sim, base):
        parts = read_parts(f"{base}/cam/s1.mjpg", 6)
        assert len(parts) == 6
        for headers, body in parts:
            idx, ts = camframes.read_stamp(decode(body))
            assert idx == int(headers["x-frame-index"])
            assert abs(ts - float(headers["x-timestamp"])) < 0.0011
        idx = [int(h["x-frame-index"]) for h, _ in parts]
        assert idx == sorted(idx) and len(set(idx)) == 6
        with urllib.request.urlopen(f"{base}/cam/s1.jpg", timeout=5) as r:
            img = cv2.imdecode(np.frombuffer(r.read(), np.uint8), cv2.IMREAD_COLOR)
        assert abs(camframes.read_stamp(img)[1] - time.time()) < 2
        sim.drop_threadsafe("s1", 1.0)
        time.sleep(0.1)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{base}/cam/s1.mjpg", timeout=5)
        assert e.value.code == 503
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{base}/cam/..%2Fx.mjpg", timeout=5)
        assert e.value.code == 404
