"""End to end: a case sent through the gateway appears on the city map in Chromium."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from tests.support import (
    CHROMIUM,
    SCREENSHOTS,
    RunningDemo,
    login,
    running_demo,
    send_messages,
)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """The whole demo without the simulator, so the map holds only what the test sends."""
    with running_demo(demo_dir, tmp_path_factory.mktemp("e2e"), "--no-sim") as d:
        yield d


def test_incident_sent_through_the_gateway_appears_on_the_city_map(demo, browser, city_ctx):
    page = browser.new_page(bypass_csp=True, viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, demo.url)
    page.goto(demo.url + "/")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    assert page.inner_text("#gw-kpi-red").strip() == "0"

    officer = city_ctx.roster["O000042"]
    lon, lat = GridIndex(city_ctx.city).random_point(officer.grid, np.random.default_rng(3))
    wlon, wlat = to_datum(lon, lat, city_ctx.hierarchy.datum, "wgs84")
    now = time.time()
    title = "<img src=x onerror=alert(1)>仓库冒烟"
    replies = send_messages(demo.gateway_url, [
        {"type": "duty", "msg_id": "e2e-d", "officer_id": officer.officer_id, "ts": now,
         "on_duty": True},
        {"type": "position", "msg_id": "e2e-p", "officer_id": officer.officer_id, "ts": now,
         "lat": wlat, "lon": wlon},
        {"type": "incident", "msg_id": "e2e-i", "incident_id": "E2E-FIRE-1",
         "officer_id": officer.officer_id, "ts": now, "lat": wlat, "lon": wlon,
         "category": "fire", "title": title}])
    assert replies == [{"ack": "e2e-d"}, {"ack": "e2e-p"}, {"ack": "e2e-i"}]

    marker = page.wait_for_selector(".gw-inc-red [data-id='E2E-FIRE-1']", timeout=5_000)
    assert marker is not None
    page.wait_for_function("document.querySelector('#gw-kpi-red').textContent.trim() === '1'",
                           timeout=5_000)
    town = officer.grid[:9]
    label = page.wait_for_selector(f"[data-code='{town}']", timeout=5_000)
    assert "1" in label.inner_text()
    # the hostile title is shown as text, never run as HTML
    marker.click()
    popup = page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
    assert title in popup.inner_text()
    assert page.query_selector(".leaflet-popup-content img") is None
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "city_e2e.png"))
    assert errors == []
    page.close()


def test_pages_need_login_and_api_is_scoped(demo):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(demo.url + "/api/v1/summary")
    assert err.value.code == 401
    req = urllib.request.Request(demo.url + "/", method="GET")
    with urllib.request.urlopen(req) as r:  # redirected to the login form
        assert "/login" in r.url
