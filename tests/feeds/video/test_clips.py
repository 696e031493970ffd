"""Flagged events become WebM clips of the nearest cameras covering [T - pre, T + post];
red cases are flagged once; reviews and flags are checked and audited; retention."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import cv2
import orjson
import pytest
from prometheus_client import REGISTRY

from domain.access import Role, User
from domain.model import Incident
from domain.video import Clip, EventStatus
from feeds.live import reads
from feeds.live.commands import NotPermitted
from feeds.sim import camframes
from feeds.store import keys
from feeds.store import video_keys as vk
from feeds.store.client import async_client, sync_client
from feeds.video.clips import ClipConfig, ClipMaker
from feeds.video.flagger import RedFlagger
from feeds.video.store import flag_case, mark_reviewed, queue_clip, read_clips, read_event
from tests.video_support import GRID, cameras, camsim, capture, wait_for

ADMIN = User("admin", Role.ADMIN, "441900")
PRE, POST = 2.0, 2.0


def _incident(iid: str = "CASE-9", lon: float = 113.7501, lat: float = 23.0201,
              grid: str = GRID, level: str = "red") -> Incident:
    from domain.alerts import AlertLevel

    return Incident(iid, "fire", "仓库冒烟", lat, lon, grid, time.time() - 600,
                    level=AlertLevel(level))


def ready_clips() -> tuple[float, float]:
    """The clip metrics of this process: clips made, seconds of video in them."""
    return (REGISTRY.get_sample_value("gridwatch_clips_total", {"state": "ready"}) or 0.0,
            REGISTRY.get_sample_value("gridwatch_clip_seconds_sum") or 0.0)


def test_flag_makes_webm_clips_inside_the_window(redis_url, tmp_path):
    client = sync_client(redis_url)
    made0, seconds0 = ready_clips()
    with camsim(fps=8) as (_, base):
        cams = cameras(base, 2) + [replace(cameras(base, 1)[0], camera_id="far", lon=113.9,
                                           stream_url=f"{base}/cam/far.mjpg")]
        cfg = ClipConfig(cameras=3, radius_m=2000.0, step_s=0.3, grace_s=0.3)
        with capture(cams, redis_url, tmp_path, clip_cfg=cfg) as cap:
            feeds = cap.service.feeds
            wait_for(lambda: all(f.frames and f.frames[-1][0] - f.frames[0][0] > PRE + 0.3
                                 for f in feeds.values()), 10)
            ev = flag_case(client, _incident(), ADMIN, pre_s=PRE, post_s=POST)
            # 45 s: a loaded CI machine encodes slowly (the cluster pass once timed out at 15 s)
            done = wait_for(lambda: (e := read_event(client, ev.event_id)) and
                            e.status not in (EventStatus.PENDING, EventStatus.RECORDING) and e, 45)
            lag = time.time() - (ev.ts + POST)
    assert done.status is EventStatus.READY, done
    print(f"clip ready {lag:.2f} s after the post-roll")
    assert lag < 3.0, f"clip playable {lag:.2f} s after the post-roll"
    assert set(done.cameras) == {"cam0", "cam1"}  # the far camera is out of radius
    clips = read_clips(client, done.clips)
    assert len(clips) == 2
    for clip in clips:
        _check_clip(tmp_path, clip, ev.ts)
    made, seconds = ready_clips()  # /metrics counts them (the capture worker's own)
    assert made - made0 == 2
    assert seconds - seconds0 == pytest.approx(sum(c.end_ts - c.start_ts for c in clips))
    entries = reads.audit_entries(client, 10, target="CASE-9")
    assert [e["action"] for e in entries] == ["video.flag"]
    assert entries[0]["user"] == "admin" and ev.event_id in entries[0]["detail"]


def _check_clip(clips_dir, clip: Clip, t: float) -> None:
    path = clips_dir / f"{clip.clip_id}.webm"
    assert path.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM/Matroska file
    cap = cv2.VideoCapture(str(path))
    assert cap.get(cv2.CAP_PROP_FOURCC) and cap.get(cv2.CAP_PROP_FPS) == clip.fps
    stamps = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        stamps.append(camframes.read_stamp(frame))
    cap.release()
    assert len(stamps) == clip.frames >= (PRE + POST) * clip.fps * 0.8
    assert all(s is not None for s in stamps)
    ts = [s[1] for s in stamps]
    assert t - PRE <= min(ts) and max(ts) <= t + POST, (t, min(ts), max(ts))
    assert ts == sorted(ts) and max(ts) - min(ts) > (PRE + POST) * 0.8
    poster = cv2.imread(str(clips_dir / f"{clip.clip_id}.jpg"))
    assert abs(camframes.read_stamp(poster)[1] - t) < 0.2


def test_event_without_cameras(redis_url, tmp_path):
    client = sync_client(redis_url)
    with capture(cameras("http://127.0.0.1:9", 1, lon=114.2), redis_url, tmp_path) as cap:
        ev = flag_case(client, _incident(), ADMIN, pre_s=1, post_s=1)
        done = wait_for(lambda: (e := read_event(client, ev.event_id)) and
                        e.status is EventStatus.NO_CAMERAS and e, 10)
        assert done.clips == () and cap.port


def test_cases_that_turned_red_long_ago_are_not_flagged(redis_url):
    """Replayed or back-filled history turns red in the past: no footage, no flag."""
    town = GRID[:9]
    now = time.time()

    def case(iid: str, red_at: float) -> dict:
        return {"incident_id": iid, "level": "red", "status": "reported", "lon": 113.75,
                "lat": 23.02, "grid": GRID, "category": "fire", "title": "t",
                "events": [{"ts": red_at - 60, "kind": "level", "level": "green"},
                           {"ts": red_at, "kind": "level", "level": "red"}]}

    async def go() -> int:
        client = async_client(redis_url)
        f = RedFlagger(client, [town], 3, 4)
        await f.bootstrap()
        n = await f.apply({"ts": now, "cases": [case("PAST", now - 86400), case("NOW", now)]})
        await client.aclose()
        return n

    assert asyncio.run(go()) == 1
    (entry,) = sync_client(redis_url).xrange(vk.FLAGS)
    ev = read_event(sync_client(redis_url), entry[1][b"event"].decode())
    assert ev.incident_id == "NOW"


def test_red_flagger_flags_each_case_once(redis_url):
    sync = sync_client(redis_url)
    town = GRID[:9]
    sync.zadd(keys.open_incidents(town), {"OLD": 1})
    sync.hset(keys.incidents(town), "OLD", orjson.dumps({"incident_id": "OLD", "level": "red"}))

    def case(iid: str, level: str) -> dict:
        return {"incident_id": iid, "level": level, "status": "reported", "lon": 113.75,
                "lat": 23.02, "grid": GRID, "category": "fire", "title": "t"}

    async def go() -> int:
        client = async_client(redis_url)
        f = RedFlagger(client, [town], 3, 4)
        await f.bootstrap()
        n = await f.apply({"ts": 100.0, "cases": [case("A", "yellow"), case("OLD", "red")]})
        n += await f.apply({"ts": 101.0, "cases": [case("A", "red")],
                            "incidents": [{**case("A", "red"), "id": "A"}]})
        n += await f.apply({"ts": 102.0, "cases": [case("A", "yellow")]})
        n += await f.apply({"ts": 103.0, "cases": [case("A", "red")]})  # red again: once only
        await client.aclose()
        return n

    assert asyncio.run(go()) == 1
    (entry,) = sync.xrange(vk.FLAGS)
    ev = read_event(sync, entry[1][b"event"].decode())
    assert (ev.incident_id, ev.ts, ev.reason, ev.by, ev.pre_s, ev.post_s) == \
        ("A", 101.0, "red", "system", 3, 4)
    assert reads.audit_entries(sync, 5, target="A")[0]["action"] == "video.flag"


def test_flag_and_review_permissions(redis_url):
    client = sync_client(redis_url)
    inc = _incident()
    with pytest.raises(NotPermitted):
        flag_case(client, inc, User("v", Role.VIEWER, "441900"))
    with pytest.raises(NotPermitted):
        flag_case(client, inc, User("d", Role.DUTY, "441900102"))  # another town
    ev = flag_case(client, inc, User("d", Role.DUTY, GRID[:9]))
    with pytest.raises(NotPermitted):
        mark_reviewed(client, ev.event_id, User("d", Role.DUTY, "441900"), "ok")
    with pytest.raises(NotPermitted):
        mark_reviewed(client, ev.event_id, User("r", Role.REVIEWER, "441900102"), "ok")
    done = mark_reviewed(client, ev.event_id, User("r", Role.REVIEWER, GRID[:12]),
                         "  看到冒烟 <b>x</b> ")
    assert (done.reviewed_by, done.note) == ("r", "看到冒烟 <b>x</b>")
    assert read_event(client, ev.event_id).reviewed_ts == done.reviewed_ts
    audit = reads.audit_entries(client, 5, target=ev.event_id)
    assert audit[0]["action"] == "video.review" and audit[0]["user"] == "r"


def test_retention_deletes_files_and_records(redis_url, tmp_path):
    client = sync_client(redis_url)
    now = time.time()
    pipe = client.pipeline()
    for i, (age, size) in enumerate([(10, 400), (20, 400), (30, 400), (9 * 86400, 1)]):
        clip = Clip(f"cl{i:012d}", "ev", "c", "n", GRID, 0, 1, 1, 1, 1, 1, size, now - age)
        queue_clip(pipe, clip)
        for suffix in (".webm", ".jpg"):
            (tmp_path / f"{clip.clip_id}{suffix}").write_bytes(b"x")
    pipe.execute()

    async def go() -> int:
        aclient = async_client(redis_url)
        maker = ClipMaker(None, aclient, tmp_path, ClipConfig(max_bytes=1000,
                                                              max_age_s=7 * 86400))
        n = await maker.retention(now)
        await aclient.aclose()
        return n

    assert asyncio.run(go()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cl000000000000.jpg", "cl000000000000.webm", "cl000000000001.jpg",
        "cl000000000001.webm"]
    assert sorted(c.decode() for c in client.hkeys(vk.CLIP_TOWN)) == ["cl000000000000",
                                                                       "cl000000000001"]
