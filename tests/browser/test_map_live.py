"""Browser test: map_page in headless Chromium receives WebSocket sync/delta frames and updates."""
from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness_map import (  # noqa: E402
    CHROMIUM,
    RED_CASE,
    SCREENSHOTS,
    Harness,
    red_delta,
    running,
)

playwright_api = pytest.importorskip("playwright.sync_api")
Browser = playwright_api.Browser
Page = playwright_api.Page
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]

RED_SEL = f".gw-inc-red .gw-inc-shape[data-id='{RED_CASE['id']}']"
TIMEOUT = 15_000


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    """The Dash app and push server."""
    with running() as h:
        yield h


@pytest.fixture
def page(browser: Browser, harness: Harness) -> Iterator[Page]:
    """A 1920x1080 page on the map, connected to the push server; page errors fail the test."""
    ctx = browser.new_context(bypass_csp=True,
                              viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(harness.url)
    pg.wait_for_selector("#gw-conn.gw-conn--open", timeout=TIMEOUT)
    pg.wait_for_function("window.gridwatch.live.stats.flushes > 0", timeout=TIMEOUT)
    yield pg
    ctx.close()
    assert not errors, errors


def label_count(pg: Page, code: str, level: str) -> str:
    """The count shown for a level on a region's label."""
    return pg.inner_text(f".gw-rlabel-in[data-code='{code}'] .gw-cnt-{level} .gw-cnt-n")


def test_delta_updates_markers_kpis_and_labels(page: Page, harness: Harness) -> None:
    """A delta with a new red case: marker, KPI red count and region labels all update."""
    assert page.locator(".gw-inc").count() == 5
    assert page.inner_text("#gw-kpi-red") == "1"
    assert label_count(page, "441900102", "red") == "0"
    assert page.locator(RED_SEL).count() == 0
    assert harness.push.broadcast(red_delta(harness.vm)) >= 1
    page.wait_for_selector(RED_SEL, timeout=TIMEOUT)
    page.wait_for_function("document.getElementById('gw-kpi-red').textContent === '2'",
                           timeout=TIMEOUT)
    assert page.inner_text("#gw-kpi-new-today") == "5"
    # region colours and counts follow within half a second (paced: every frame carries them)
    page.wait_for_selector(".gw-rlabel-red .gw-rlabel-in[data-code='441900102']",
                           timeout=TIMEOUT)
    assert label_count(page, "441900102", "red") == "1"
    assert label_count(page, "441900101", "green") == "0"
    assert page.locator(".gw-rlabel-red .gw-rlabel-in[data-code='441900102']").count() == 1
    assert page.locator("path.gw-region-red").count() == 2
    assert page.locator(".gw-inc-shape[data-id='I-001']").count() == 0  # closed
    assert page.locator(".gw-inc").count() == 5
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / "map_live.png"))


def test_a_change_redraws_only_its_own_case(page: Page, harness: Harness) -> None:
    """A delta that re-levels one case replaces that marker alone; the other cases' markers
    stay the same DOM nodes (no flicker, no rebuild of the whole layer), also across a resync."""
    tag = """(ids) => ids.forEach(id => {
        document.querySelector(`.gw-inc-shape[data-id='${id}']`).dataset.probe = 'kept'; })"""
    page.evaluate(tag, ["I-001", "I-002", "I-003", "I-004", "I-005"])
    escalated = dict(next(d for d in (m.as_dict() for m in harness.vm.incidents)
                          if d["id"] == "I-003"),
                     level="red", status="dispatched")
    harness.push.broadcast({"type": "delta", "as_of": time.time(), "incidents": [escalated]})
    page.wait_for_selector(".gw-inc-red .gw-inc-shape[data-id='I-003']", timeout=TIMEOUT)
    kept = page.evaluate("""() => [...document.querySelectorAll('.gw-inc-shape')]
        .filter(e => e.dataset.probe === 'kept').map(e => e.dataset.id).sort()""")
    assert kept == ["I-001", "I-002", "I-004", "I-005"]
    assert page.locator(".gw-inc").count() == 5
    harness.push.drop_all()  # the reconnect's sync carries the same cases: nothing is redrawn
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=TIMEOUT)
    page.wait_for_function("window.gridwatch.live.changed.size === 0", timeout=TIMEOUT)
    kept = page.evaluate("""() => [...document.querySelectorAll('.gw-inc-shape')]
        .filter(e => e.dataset.probe === 'kept').map(e => e.dataset.id).sort()""")
    assert kept == ["I-001", "I-002", "I-004", "I-005"]
    assert page.locator(".gw-inc-green .gw-inc-shape[data-id='I-003']").count() == 1  # synced
    assert page.locator(".gw-inc").count() == 5


def test_region_layers_redraw_only_when_their_counts_change(page: Page, harness: Harness) -> None:
    """Every delta carries the region counts; the same counts again redraw nothing, new counts
    redraw the regions once."""
    sync = harness.push.sync
    drawn = "window.gridwatch.live.stats.regionsDrawn"
    page.wait_for_timeout(600)
    before = page.evaluate(drawn)
    for _ in range(5):
        harness.push.broadcast({"type": "delta", "as_of": time.time(), "regions": sync["regions"],
                                "kpi": sync["kpi"]})
    page.wait_for_timeout(1200)
    assert page.evaluate(drawn) == before
    harness.push.broadcast(red_delta(harness.vm))
    page.wait_for_selector(".gw-rlabel-red .gw-rlabel-in[data-code='441900102']",
                           timeout=TIMEOUT)
    page.wait_for_timeout(600)
    assert page.evaluate(drawn) == before + 1


def test_a_red_case_pulses_for_a_while_not_for_ever(page: Page, harness: Harness) -> None:
    """A new red case's ring pulses a few times and stops (hundreds pulsing for ever would keep
    a wall PC compositing every frame and say nothing new)."""
    harness.push.broadcast(red_delta(harness.vm))
    page.wait_for_selector(RED_SEL, timeout=TIMEOUT)
    timing = page.evaluate("""() => document.getAnimations()
        .filter(a => a.animationName === 'gw-pulse')
        .map(a => [a.effect.getTiming().iterations, a.effect.getComputedTiming().endTime])""")
    assert len(timing) == page.locator(".gw-inc-red").count() >= 2
    assert all(iterations != float("inf") and end <= 12_000 for iterations, end in timing)


def test_popup_shows_title_as_text(page: Page, harness: Harness) -> None:
    """The popup of the new case shows its <script> title as text, with category and status."""
    harness.push.broadcast(red_delta(harness.vm))
    page.wait_for_selector(RED_SEL, timeout=TIMEOUT)
    page.click(RED_SEL)
    popup = page.wait_for_selector(".gw-popup .gw-pop-title", timeout=TIMEOUT)
    assert popup.text_content() == RED_CASE["title"]
    assert page.locator(".gw-popup script, .gw-popup img").count() == 0
    body = page.inner_text(".gw-popup")
    assert "消防" in body and "已上报" in body and "红色" in body
    assert re.search(r"(?<!\d)([5-9]|\d\d)分(?!钟)", body)  # 5 min before the module began
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "map_popup.png"))
    # while the popup is open the case layer is held, so the popup does not vanish
    harness.push.broadcast({"type": "delta", "as_of": time.time(), "closed": ["I-002"]})
    page.wait_for_timeout(1800)
    assert page.locator(".gw-popup").count() == 1
    assert page.locator(".gw-inc-shape[data-id='I-002']").count() == 1
    page.click(".gw-popup .leaflet-popup-close-button")
    page.wait_for_selector(".gw-inc-shape[data-id='I-002']", state="detached", timeout=TIMEOUT)


def test_updates_wait_for_the_end_of_a_pan(page: Page, harness: Harness) -> None:
    """While the user drags the map, layer updates are held (KPIs are not); moveend applies them."""
    page.mouse.move(300, 300)  # empty map background, outside the towns
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(300 + 20 * step, 300 + 10 * step)
    page.wait_for_function("window.gridwatch.live.movingSince > 0", timeout=TIMEOUT)
    harness.push.broadcast(red_delta(harness.vm))
    page.wait_for_function("document.getElementById('gw-kpi-red').textContent === '2'",
                           timeout=TIMEOUT)
    page.wait_for_timeout(1500)
    assert page.locator(RED_SEL).count() == 0
    page.mouse.up()
    page.wait_for_selector(RED_SEL, timeout=TIMEOUT)
    page.wait_for_function("window.gridwatch.live.movingSince === 0", timeout=TIMEOUT)


def test_reconnects_after_a_drop(page: Page, harness: Harness) -> None:
    """When the server drops the socket the page shows it, reconnects and resyncs."""
    before = harness.push.connections
    harness.push.drop_all()
    page.wait_for_selector("#gw-conn.gw-conn--closed, #gw-conn.gw-conn--connecting",
                           timeout=TIMEOUT)
    assert page.inner_text("#gw-conn") in ("已断开", "连接中")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=TIMEOUT)
    assert harness.push.connections > before
    assert page.inner_text("#gw-conn") == "已连接"


def test_click_region_drills_down(page: Page, harness: Harness) -> None:
    """Clicking a region label, or the region itself, goes to /town/<code>."""
    page.click(".gw-rlabel-in[data-code='441900103']")
    page.wait_for_url("**/town/441900103", timeout=TIMEOUT)
    page.goto(harness.url)
    page.wait_for_selector("path.gw-region", timeout=TIMEOUT)
    page.locator("path.gw-region").first.dispatch_event("click")
    page.wait_for_url("**/town/441900101", timeout=TIMEOUT)
