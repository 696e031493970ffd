"""Camera layer and video review layouts (pure): features, cues, text-only field values."""
from __future__ import annotations

import json

import plotly

from layouts.camera_layer import CAMERAS, camera_features, camera_layer, camera_overlay
from layouts.video_view import (
    ClipTile,
    EventView,
    QueueRow,
    QueueView,
    case_video_card,
    event_page,
    queue_page,
    vt,
)


def _json(c: object) -> str:
    return json.dumps(c, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def test_camera_features_and_layer():
    fc = camera_features([{"id": "a/b", "name": "<b>x</b>", "lon": 113.7, "lat": 23.0,
                           "grid": "g", "state": "weird"},
                          {"camera_id": "c1", "name": "n", "lon": 1, "lat": 2,
                           "state": "stale"}])
    p0, p1 = (f["properties"] for f in fc["features"])
    assert p0["state"] == "offline" and p1["state"] == "stale"  # unknown → offline
    assert p0["stream"] == "/video/camera/a%2Fb.mjpg" and p1["snapshot"] == \
        "/video/camera/c1.jpg"
    (pane,) = camera_layer(fc, "en")
    layer = pane.children
    assert layer.id == CAMERAS and layer.pane == pane.name and layer.cluster
    assert layer.hideout["labels"]["state.stale"] == "Stale"
    assert "cameraPoint" in _json(layer.pointToLayer)
    assert camera_overlay(fc, "zh").name == "摄像头"


def _event(**kw: object) -> dict:
    ev = {"event_id": "ev0123456789ab", "incident_id": "C-1", "ts": 1000.0, "lon": 1, "lat": 2,
          "grid": "441900101001001", "category": "fire", "title": "<img src=x onerror=1>",
          "level": "red", "reason": "red", "by": "system", "pre_s": 10, "post_s": 10,
          "status": "ready", "cameras": ["c1"], "clips": ["cl1"], "reviewed_ts": None,
          "reviewed_by": "", "note": ""}
    ev.update(kw)
    return ev


def test_event_page_has_synced_clips_and_text_only_fields():
    tiles = [ClipTile("cl1", "c1", "东门", 12.0, "/video/clip/cl1.webm", "/video/clip/cl1.jpg",
                      0.0, 20.0), ClipTile("cl2", "c2", "西门", 30.0, "/video/clip/cl2.webm",
                                           "/video/clip/cl2.jpg", 1.5, 18.0)]
    vm = EventView(_event(), {"title": "<script>t</script>", "description": "<b>d</b>",
                              "status": "reported", "reported_ts": 900.0, "level": "red"},
                   tiles, [], 990.0, 21.5, True, "en")
    text = _json(event_page(vm))
    assert text.count('"type": "Video"') == 2 and '"data-offset": "1.500"' in text
    assert '"data-length": "21.500"' in text and '"data-flag": "10.000"' in text
    assert '"children": "<script>t</script>"' in text  # a text child, never markup
    assert "gw-video-reviewed" in text
    ro = _json(event_page(EventView(_event(status="recording"), None, [], [], 990.0, 20.0,
                                    False, "zh")))
    assert "gw-video-reviewed" not in ro and vt("review.read_only", "zh") in ro
    assert vt("event.no_clips", "zh") in ro


def test_queue_and_case_card():
    rows = [QueueRow("ev1", "C-1", "<b>t</b>", "fire", "red", "manual", "amy", 1000.0, "ready",
                     2)]
    text = _json(queue_page(QueueView(rows, "东莞市", "zh")))
    assert "/video/ev1" in text and "/case/C-1" in text and "人工标记 amy" in text
    assert vt("queue.empty", "en") in _json(queue_page(QueueView([], "x", "en")))
    card = _json(case_video_card([_event(reviewed_ts=1100.0, reviewed_by="rev")], True, "en"))
    assert "/video/ev0123456789ab?lang=en" in card and "gw-video-flag" in card
    assert "gw-video-flag\"" not in _json(case_video_card([], False, "zh"))
