"""The capture worker against the synthetic camera server: snapshots, re-stream, one upstream
per camera, viewer cap, tickets, reconnection and health in Redis, the OpenCV reader."""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace

import orjson
import pytest
from prometheus_client import REGISTRY

from domain.video import CameraKind, sign_ticket
from feeds.sim import camframes
from feeds.store.client import sync_client
from feeds.video.registry import read_health
from tests.video_support import FAST, cameras, camsim, capture, decode, read_parts, wait_for


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def test_snapshot_restream_and_one_upstream(redis_url, tmp_path):
    with camsim(fps=8) as (sim, base), capture(cameras(base, 2), redis_url, tmp_path) as cap:
        feed = cap.service.feeds["cam0"]
        wait_for(lambda: feed.seq >= 2)
        status, body, headers = _get(f"{cap.url}/snapshot/cam0.jpg")
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        idx, ts = camframes.read_stamp(decode(body))
        assert time.time() - ts < 1.0 and abs(float(headers["X-Timestamp"]) - ts) < 0.002
        got: list[list] = [[] for _ in range(3)]

        def view(i: int) -> None:
            got[i] = read_parts(f"{cap.url}/stream/cam0.mjpg", 6)

        threads = [threading.Thread(target=view, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        wait_for(lambda: feed.viewers == 3, 5)
        for t in threads:
            t.join(15)
        for parts in got:
            assert len(parts) == 6
            stamps = [camframes.read_stamp(decode(b)) for _, b in parts]
            assert len({s[0] for s in stamps}) >= 5  # new frames, not one frame repeated
        assert sim.stats()["cam0"]["connections"] == 1  # one upstream for three viewers
        assert feed.connects == 1
        wait_for(lambda: feed.viewers == 0, 5)
        client = sync_client(redis_url)
        h = wait_for(lambda: read_health(client, [feed.camera]).get("cam0", {}).get(
            "state") == "online" and read_health(client, [feed.camera]))
        assert h["cam0"]["fps"] > 0
        status, body, _ = _get(f"{cap.url}/snapshot/nope.jpg")
        assert status == 404
        assert orjson.loads(_get(f"{cap.url}/health")[1]) == {"cameras": 2, "fresh": 2,
                                                               "viewers": 0, "reading": 2,
                                                               "received": 0, "decoded": 0}
        up = {c: REGISTRY.get_sample_value("gridwatch_camera_up", {"camera": c})
              for c in ("cam0", "cam1")}
        assert up == {"cam0": 1.0, "cam1": 1.0}  # /metrics: both read, both fresh
        beat = orjson.loads(next(iter(client.hgetall("hb:capture").values())))
        assert beat["cameras"] == 2 and time.time() - beat["ts"] < 5  # its heartbeat


def test_viewer_cap_and_tickets(redis_url, tmp_path):
    secret = b"s" * 32
    with camsim(fps=5) as (_, base), capture(cameras(base, 1), redis_url, tmp_path,
                                             secret=secret) as cap:
        feed = cap.service.feeds["cam0"]
        wait_for(lambda: feed.seq >= 1)
        assert _get(f"{cap.url}/stream/cam0.mjpg")[0] == 403
        assert _get(f"{cap.url}/snapshot/cam0.jpg?ticket=1.x")[0] == 403
        exp = int(time.time()) + 60
        snap = sign_ticket(secret, "cam0", "snapshot", exp)
        assert _get(f"{cap.url}/stream/cam0.mjpg?ticket={snap}")[0] == 403  # wrong kind
        assert _get(f"{cap.url}/snapshot/cam0.jpg?ticket={snap}")[0] == 200
        url = f"{cap.url}/stream/cam0.mjpg?ticket={sign_ticket(secret, 'cam0', 'stream', exp)}"
        held = [urllib.request.urlopen(url, timeout=5) for _ in range(FAST.max_viewers)]
        try:
            wait_for(lambda: feed.viewers == FAST.max_viewers, 5)
            status, body, _ = _get(url)
            assert status == 503 and b"viewer limit reached" in body
        finally:
            for r in held:
                r.close()
        wait_for(lambda: feed.viewers == 0, 8)  # closed viewers free their slots
        assert len(read_parts(url, 2)) == 2


def test_stream_drop_and_recovery(redis_url, tmp_path):
    client = sync_client(redis_url)
    with camsim(fps=8) as (sim, base), capture(cameras(base, 1), redis_url, tmp_path) as cap:
        feed = cap.service.feeds["cam0"]
        cam = feed.camera

        def state() -> str:
            return read_health(client, [cam], stale_s=FAST.stale_s,
                               offline_s=FAST.offline_s)["cam0"]["state"]

        wait_for(lambda: state() == "online")
        viewer = threading.Thread(target=lambda: read_parts(f"{cap.url}/stream/cam0.mjpg", 16,
                                                            timeout=20))
        viewer.start()
        sim.drop_threadsafe("cam0", 3.0)
        seen, snaps = set(), set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not ({"stale", "offline"} & seen and
                                                   seen and state() == "online"):
            seen.add(state())
            if "offline" in seen and not snaps:
                status, body, _ = _get(f"{cap.url}/snapshot/cam0.jpg")
                snaps.add((status, body.decode().split(":")[0]))
            time.sleep(0.1)
        assert snaps == {(503, "camera offline")}
        assert {"stale", "offline"} & seen, seen
        assert seen != {"online"}
        assert state() == "online"
        assert _get(f"{cap.url}/snapshot/cam0.jpg")[0] == 200
        assert feed.connects >= 2 and sim.stats()["cam0"]["connections"] >= 2
        viewer.join(20)
        assert not viewer.is_alive()  # the viewer kept its stream through the outage


def test_opencv_reader(redis_url, tmp_path):
    cfg = replace(FAST, opencv_max_fps=4)
    with camsim(fps=8) as (_, base), capture(cameras(base, 1, kind=CameraKind.HLS), redis_url,
                                             tmp_path, cfg=cfg) as cap:
        feed = cap.service.feeds["cam0"]
        assert not feed.direct
        wait_for(lambda: feed.seq >= 4, 10)
        ts, jpeg = feed.latest()
        idx, stamp = camframes.read_stamp(decode(jpeg))
        assert 0 <= ts - stamp < 1.0  # re-encoded by OpenCV, stamp still readable
        assert feed.fps(time.time(), 1.0) <= 5


@pytest.mark.parametrize("path", ["/snapshot/cam0.png", "/nothing", "/stream/../x.mjpg"])
def test_unknown_paths(redis_url, tmp_path, path):
    with capture(cameras("http://127.0.0.1:9", 1), redis_url, tmp_path) as cap:
        assert _get(cap.url + path)[0] == 404
