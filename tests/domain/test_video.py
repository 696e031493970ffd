"""Pure video rules: health, red transitions, review order, retention, resampling, tickets."""
from __future__ import annotations

from domain.video import (
    Camera,
    CameraKind,
    Clip,
    EventStatus,
    FlaggedEvent,
    Health,
    Resampler,
    check_ticket,
    clip_fps,
    distance_m,
    health_state,
    nearest,
    red_transitions,
    retention_victims,
    review_order,
    sign_ticket,
    valid_camera_id,
)


def test_health_states():
    now = 1000.0
    assert health_state(None, False, now, now) is Health.OFFLINE
    assert health_state(999.0, True, now, now) is Health.ONLINE
    assert health_state(990.0, True, now, now) is Health.STALE  # frames stopped
    assert health_state(997.0, False, now, now) is Health.STALE  # link just dropped
    assert health_state(990.0, False, now, now) is Health.OFFLINE
    assert health_state(960.0, True, now, now) is Health.OFFLINE
    assert health_state(999.0, True, 900.0, now) is Health.OFFLINE  # worker silent
    # read on demand and idle: online while its last probe answered (no frames needed)
    assert health_state(None, False, now, now, answered_ts=now - 200) is Health.ONLINE
    assert health_state(None, False, now, now, answered_ts=now - 400) is Health.OFFLINE
    assert health_state(None, False, 900.0, now, answered_ts=now) is Health.OFFLINE


def test_red_transitions_flag_once_and_forget_closed():
    cases = [{"incident_id": "a", "level": "yellow", "status": "reported"},
             {"incident_id": "b", "level": "red", "status": "reported"}]
    flagged, levels = red_transitions({}, cases)
    assert [c["incident_id"] for c in flagged] == ["b"]
    flagged, levels = red_transitions(levels, [{"id": "a", "level": "red"},
                                               {"incident_id": "b", "level": "red"}])
    assert [c["id"] for c in flagged] == ["a"]
    _, levels = red_transitions(levels, [{"incident_id": "a", "level": "red",
                                          "status": "closed"}])
    assert "a" not in levels


def _ev(eid: str, ts: float, level: str, reviewed: float | None = None) -> FlaggedEvent:
    return FlaggedEvent(eid, "i", ts, 113.7, 23.0, "441900101001001", "fire", "t", level,
                        "red", "system", 10, 10, reviewed_ts=reviewed)


def test_review_order_unreviewed_red_newest_first():
    evs = [_ev("old-red", 1, "red"), _ev("new-yellow", 5, "yellow"), _ev("new-red", 4, "red"),
           _ev("done", 9, "red", reviewed=10)]
    assert [e.event_id for e in review_order(evs)] == ["new-red", "old-red", "new-yellow", "done"]


def test_event_and_camera_round_trip():
    ev = _ev("e", 1, "red")
    assert FlaggedEvent.from_json(ev.to_json()) == ev
    assert ev.status is EventStatus.PENDING
    cam = Camera("c-1", "名", 113.7, 23.0, "441900101001001", "rtsp://h/s", CameraKind.RTSP)
    assert Camera.from_json(cam.to_json()) == cam and cam.town == "441900101"


def _clip(cid: str, created: float, size: int) -> Clip:
    return Clip(cid, "e", "c", "n", "441900101001001", 0, 1, 10, 10, 320, 240, size, created)


def test_retention_by_age_then_size():
    clips = [_clip("a", 100, 50), _clip("b", 90, 50), _clip("c", 80, 50), _clip("old", 1, 1)]
    victims = retention_victims(clips, now=110, max_bytes=100, max_age_s=50)
    assert sorted(c.clip_id for c in victims) == ["c", "old"]


def test_resampler_keeps_wall_clock_slots():
    r: Resampler[str] = Resampler(start=10.0, end=12.0, fps=2.0)
    out = r.push([(10.0, "a"), (10.9, "b")], upto=11.0)
    assert out == ["a", "a", "b"]  # slots 10.0, 10.5 (a), 11.0 (b)
    out = r.push([(11.7, "c"), (12.5, "late")], upto=12.0)
    assert out == ["b", "c"]  # slots 11.5 (b), 12.0 (c); a frame after the end is ignored
    assert r.slots == 5 and r.slot_ts(r.slots - 1) == 12.0


def test_clip_fps_and_nearest():
    assert clip_fps([0, 0.5, 1.0, 1.5, 2.0], 10) == 2.0
    assert clip_fps([0.0, 0.01, 0.02], 10) == 10.0
    assert clip_fps([5.0], 10) == 1.0
    cams = [Camera(f"c{i}", "n", 113.70 + i * 0.01, 23.0, "441900101001001", "http://h/x")
            for i in range(4)]
    got = nearest(cams, 113.70, 23.0, 2, 1500)
    assert [c.camera_id for c, _ in got] == ["c0", "c1"]
    assert abs(got[1][1] - distance_m(113.70, 23.0, 113.71, 23.0)) < 1e-6 and got[1][1] < 1100


def test_tickets():
    secret = b"k" * 32
    t = sign_ticket(secret, "cam1", "stream", 2000)
    assert check_ticket(secret, "cam1", "stream", t, now=1000)
    assert not check_ticket(secret, "cam1", "stream", t, now=2001)  # expired
    assert not check_ticket(secret, "cam2", "stream", t, now=1000)  # other camera
    assert not check_ticket(secret, "cam1", "snapshot", t, now=1000)  # other kind
    assert not check_ticket(secret, "cam1", "stream", "9999999999.00", now=1000)
    assert not check_ticket(secret, "cam1", "stream", "", now=1000)


def test_camera_ids():
    assert valid_camera_id("cam-441900101001001-1")
    for bad in ("", "../x", "a/b", "-x", "a b", "x" * 65, "摄像头"):
        assert not valid_camera_id(bad)
