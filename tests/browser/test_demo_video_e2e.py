"""The demo run the way `make demo` runs it (the console script in the checkout, `--data-dir
data`, relative): the camera registry is there as soon as /health answers, and a red case sent
through the gateway gets clips from the cameras within 300 m that play in Chromium, with their
posters and distances — fetched from the platform's recordings (the synthetic server's
playback interface), so no camera is read for them; while nobody watches, no camera is read
(their health comes from probes)."""
from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path

import orjson
import pytest

from feeds.geo.datum import to_datum
from feeds.sim.config import DemoConfig
from feeds.sim.main import registry_cameras
from tests.support import ADMIN_BASIC, CHROMIUM, login, running_demo, send_messages
from tests.video_support import wait_for

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]
PLAYING = ("[...document.querySelectorAll('video.gw-vclip')].length === {n} && "
           "[...document.querySelectorAll('video.gw-vclip')].every(v => v.readyState >= 2)")
POSTERS = """async () => Promise.all([...document.querySelectorAll('video.gw-vclip')].map(
  v => new Promise(ok => { const i = new Image(); i.onload = () => ok(i.naturalWidth);
                           i.onerror = () => ok(0); i.src = v.poster; })))"""


def get_json(url: str) -> dict:
    req = urllib.request.Request(url, headers={"Authorization": ADMIN_BASIC})
    with urllib.request.urlopen(req, timeout=10) as r:
        return orjson.loads(r.read())


def capture_health(port: int) -> dict | None:
    """The capture worker's counts (cameras, fresh, viewers, reading), None while it starts."""
    try:
        return get_json(f"http://127.0.0.1:{port}/health")
    except OSError:
        return None


def test_make_demo_red_case_gets_clips_that_play(demo_dir: Path, tmp_path: Path, browser,
                                                 city_ctx):
    with running_demo(demo_dir, tmp_path / "data", "--no-sim", "--history-days", "0",
                      cwd=tmp_path) as demo:
        listed = get_json(demo.url + "/api/v1/cameras")["cameras"]  # the moment /health is 200
        expected = registry_cameras(demo_dir / "city.geojson", DemoConfig())
        assert len(expected) == 2958  # one per grid
        assert {c["id"] for c in listed} == {c.camera_id for c in expected}
        idle = wait_for(lambda: capture_health(demo.capture_port), 60, 0.5)
        assert idle["cameras"] == 2958 and idle["reading"] == 0  # nobody watches: none read

        def states() -> set[str]:
            return {c["state"] for c in get_json(demo.url + "/api/v1/cameras")["cameras"]}

        assert wait_for(lambda: states() == {"online"}, 30, 1.0)  # probed, not streamed
        cam = expected[len(expected) // 2 + 1]
        lon, lat = to_datum(cam.lon + 4e-4, cam.lat, city_ctx.hierarchy.datum, "wgs84")
        officer = next(iter(city_ctx.roster.values()))
        msg = {"type": "incident", "msg_id": "mk-1", "incident_id": "MAKE-FIRE-1",
               "officer_id": officer.officer_id, "ts": time.time(), "lat": lat, "lon": lon,
               "category": "fire", "title": "仓库冒烟"}
        assert send_messages(demo.gateway_url, [msg]) == [{"ack": "mk-1"}]
        events = f"{demo.url}/api/v1/video/events?region={cam.town}"

        def ready() -> object:
            evs = [e for e in get_json(events)["events"] if e["incident_id"] == "MAKE-FIRE-1"]
            return evs and evs[0]["state"] in ("ready", "failed") and evs[0]

        ev = wait_for(ready, 90, 0.5)
        assert ev["state"] == "ready" and ev["source"] == "red", ev
        clips = [c for c in ev["clips"] if c["state"] == "ready"]
        assert cam.camera_id in {c["camera_id"] for c in clips}
        assert all(c["distance_m"] <= 300 for c in ev["clips"])  # the cameras that saw it
        # recorded by the platform (the synthetic server's /get): H.264 MP4, no camera read
        assert all(c["url"].endswith(".mp4") for c in clips), clips
        assert capture_health(demo.capture_port)["reading"] == 0
        page = browser.new_page(bypass_csp=True, viewport={"width": 1500, "height": 950})
        login(page, demo.url)
        page.goto(f"{demo.url}/video/{ev['event_id']}")
        page.wait_for_function(PLAYING.format(n=len(clips)), timeout=30_000)
        assert all(w > 0 for w in page.evaluate(POSTERS))
        shown = page.locator(".gw-vtile .gw-near-dist").all_inner_texts()
        assert shown == [f"{c['distance_m']:.0f} m" for c in clips], shown
        page.close()
    log = (demo.data_dir / "demo.log").read_text(errors="replace")
    assert "FileNotFoundError" not in log and "Traceback" not in log
