"""Command levels in Chromium: drill down and back, case actions seen live, scoped pushes."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.live.context import CityContext
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
LIVE_S = 1.0  # every other screen shows an action within a second


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with running_demo(demo_dir, tmp_path_factory.mktemp("cases"), "--no-sim") as d:
        yield d


@pytest.fixture(scope="module")
def world(demo: RunningDemo, city_ctx: CityContext) -> dict:
    """Officers on duty in one village and a green dispute case among them."""
    h = city_ctx.hierarchy
    town = city_ctx.towns[5]
    village = h.children_of(town)[1]
    grid = h.children_of(village)[0]
    officers = [o for o in city_ctx.roster.values() if o.grid.startswith(village)][:4]
    index = GridIndex(city_ctx.city)
    rng = np.random.default_rng(11)

    def here(g: str) -> tuple[float, float]:
        return to_datum(*index.random_point(g, rng), h.datum, "wgs84")

    now = time.time()
    msgs = []
    for o in officers:
        lon, lat = here(o.grid)
        msgs += [{"type": "duty", "msg_id": f"d-{o.officer_id}", "officer_id": o.officer_id,
                  "ts": now, "on_duty": True},
                 {"type": "position", "msg_id": f"p-{o.officer_id}", "officer_id": o.officer_id,
                  "ts": now, "lat": lat, "lon": lon}]
    lon, lat = here(grid)
    msgs.append({"type": "incident", "msg_id": "c-1", "incident_id": "CASE-1",
                 "officer_id": officers[0].officer_id, "ts": now, "lat": lat, "lon": lon,
                 "category": "dispute", "title": "楼道噪音纠纷 <script>alert(1)</script>"})
    assert all("ack" in r for r in send_messages(demo.gateway_url, msgs))
    return {"town": town, "village": village, "grid": grid, "officers": officers,
            "here": here}


def new_page(browser, demo: RunningDemo, path: str):  # noqa: ANN001, ANN201
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    login(page, demo.url)
    page.goto(demo.url + path)
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    return page


def test_drill_down_by_clicking_and_back_by_breadcrumbs(demo, browser, world):
    page = new_page(browser, demo, "/")
    page.click(f".gw-rlabel-in[data-code='{world['town']}']")
    page.wait_for_url(f"**/town/{world['town']}", timeout=10_000)
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=10_000)
    page.click(f".gw-rlabel-in[data-code='{world['village']}']")
    page.wait_for_url(f"**/village/{world['village']}", timeout=10_000)
    cell = page.wait_for_selector("#gw-case-table .ag-row[row-id='CASE-1'] [col-id='title']",
                                  timeout=10_000)
    assert "<script>" in cell.inner_text()  # field text shown as text
    cell.click()
    page.wait_for_url("**/case/CASE-1", timeout=10_000)
    page.wait_for_selector("#gw-case-timeline .gw-ev-reported", timeout=10_000)
    crumbs = page.locator("#gw-breadcrumbs a")
    assert crumbs.count() == 4  # city › town › village › grid
    crumbs.nth(2).click()
    page.wait_for_url(f"**/village/{world['village']}", timeout=10_000)
    page.locator("#gw-breadcrumbs a").nth(1).click()
    page.wait_for_url(f"**/town/{world['town']}", timeout=10_000)
    page.locator("#gw-breadcrumbs a").nth(0).click()
    page.wait_for_url(demo.url + "/", timeout=10_000)
    page.wait_for_selector(f".gw-rlabel-in[data-code='{world['town']}']", timeout=10_000)
    page.close()


def act_and_watch(actor, watcher, button: str, expect: str, where: str) -> float:
    """Click an action on one page; seconds until the other page shows `expect` in `where`."""
    t0 = time.monotonic()
    actor.click(f"button.gw-btn-{button}")
    watcher.wait_for_function(
        "([sel, text]) => (document.querySelector(sel) || {}).innerText?.includes(text)",
        arg=[where, expect], timeout=10_000)
    return time.monotonic() - t0


def test_every_action_reaches_the_other_screen_and_the_audit_trail(demo, browser, world):
    actor = new_page(browser, demo, "/case/CASE-1")
    watcher = new_page(browser, demo, "/case/CASE-1")
    officer = world["officers"][1]
    seconds = {}
    seconds["acknowledge"] = act_and_watch(actor, watcher, "acknowledge", "已受理",
                                           "#gw-case-details")
    actor.wait_for_selector(".gw-select")
    actor.click(".gw-select")
    actor.click(f"text={officer.name}")
    seconds["assign"] = act_and_watch(actor, watcher, "assign", officer.name, "#gw-case-details")
    seconds["escalate"] = act_and_watch(actor, watcher, "escalate", "黄色", "#gw-case-details")
    actor.fill("textarea.gw-note", "<b>已到现场</b>")
    seconds["note"] = act_and_watch(actor, watcher, "note", "<b>已到现场</b>", "#gw-case-timeline")
    seconds["resolve"] = act_and_watch(actor, watcher, "resolve", "已办结", "#gw-case-details")
    seconds["close"] = act_and_watch(actor, watcher, "close", "已结案", "#gw-case-details")
    seconds["reopen"] = act_and_watch(actor, watcher, "reopen", "已受理", "#gw-case-details")
    print("\naction → other screen (s):", {k: round(v, 3) for k, v in seconds.items()})
    slow = {k: v for k, v in seconds.items() if v > LIVE_S}
    assert len(slow) <= 1, slow  # one slow step tolerated on a loaded 2-core CI machine
    labels = ("受理", "派遣", "升级", "添加备注", "办结", "结案", "重新打开")
    actor.wait_for_function(  # the last action's audit entry follows its status by a moment
        "labels => labels.every(l => ((document.querySelector('#gw-case-audit') || {})"
        ".innerText || '').includes(l))", arg=list(labels), timeout=10_000)
    audit = actor.inner_text("#gw-case-audit")
    for label in labels:
        assert label in audit, label
    assert "admin" in audit and officer.officer_id in audit
    assert actor.query_selector("#gw-case-timeline b") is None  # the note stayed text
    SCREENSHOTS.mkdir(exist_ok=True)
    actor.screenshot(path=str(SCREENSHOTS / "case_actions.png"))
    actor.close()
    watcher.close()


def test_a_pushed_update_keeps_a_note_being_typed(demo, browser, world):
    """A duty officer half-way through a note: another desk's note arrives on the timeline,
    the draft stays in the box and is then sent as typed."""
    typist = new_page(browser, demo, "/case/CASE-1")
    other = new_page(browser, demo, "/case/CASE-1")
    typist.fill("textarea.gw-note", "草稿：住户已同意晚十点后")
    other.fill("textarea.gw-note", "社区民警已联系物业")
    act_and_watch(other, typist, "note", "社区民警已联系物业", "#gw-case-timeline")
    assert typist.input_value("textarea.gw-note") == "草稿：住户已同意晚十点后"
    act_and_watch(typist, other, "note", "草稿：住户已同意晚十点后", "#gw-case-timeline")
    assert "已提交" in typist.inner_text("#gw-action-msg")
    typist.close()
    other.close()


def test_village_page_receives_no_other_villages_deltas(demo, browser, world, city_ctx):
    h = city_ctx.hierarchy
    other_village = h.children_of(world["town"])[2]
    other_grid = h.children_of(other_village)[0]
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, str) else payload.decode())))
    login(page, demo.url)
    page.goto(demo.url + f"/village/{world['village']}")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    now = time.time()
    olon, olat = world["here"](other_grid)
    mlon, mlat = world["here"](world["grid"])
    reporter = world["officers"][0].officer_id
    send_messages(demo.gateway_url, [
        {"type": "incident", "msg_id": "x-other", "incident_id": "OTHER-VILLAGE", "ts": now,
         "officer_id": reporter, "lat": olat, "lon": olon, "category": "fire", "title": "别村"},
        {"type": "incident", "msg_id": "x-mine", "incident_id": "MY-VILLAGE", "ts": now,
         "officer_id": reporter, "lat": mlat, "lon": mlon, "category": "fire", "title": "本村"}])
    page.wait_for_selector("[data-id='MY-VILLAGE']", timeout=10_000)
    page.wait_for_timeout(1000)
    assert any("MY-VILLAGE" in f for f in frames)
    assert not any("OTHER-VILLAGE" in f for f in frames)
    assert page.query_selector("[data-id='OTHER-VILLAGE']") is None
    page.close()


def test_track_playback_around_a_case(demo, browser, world, city_ctx):
    """Past fixes of the grid's officers play back around a case; who was near is listed."""
    grid = world["grid"]
    officers = [o for o in city_ctx.roster.values() if o.grid == grid]
    now = time.time()
    msgs = []
    for k in range(40):  # 20 minutes of fixes every 30 s, walking a little
        for j, o in enumerate(officers):
            lon, lat = world["here"](grid)
            msgs.append({"type": "position", "msg_id": f"tr-{o.officer_id}-{k}",
                         "officer_id": o.officer_id, "ts": now - 1200 + 30 * k + j,
                         "lat": lat, "lon": lon})
    lon, lat = world["here"](grid)
    msgs.append({"type": "incident", "msg_id": "tr-case", "incident_id": "TRACK-CASE",
                 "officer_id": officers[0].officer_id, "ts": now - 600, "lat": lat, "lon": lon,
                 "category": "public_order", "title": "可疑人员"})
    assert all("ack" in r for r in send_messages(demo.gateway_url, msgs))
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    login(page, demo.url)
    page.goto(demo.url + "/case/TRACK-CASE")
    page.click("a.gw-track-link")
    page.wait_for_url("**/track?at=TRACK-CASE", timeout=10_000)
    table = page.wait_for_selector(".gw-track-stats", timeout=10_000).inner_text()
    for o in officers:
        assert o.name in table
    assert page.locator(".gw-near li").count() >= 1  # officers near the case at its time
    start = page.inner_text("#gw-track-clock")
    page.select_option("#gw-track-speed", "300")
    page.click("#gw-track-play")
    page.wait_for_function("document.querySelectorAll('.leaflet-gwOfficers-pane path').length"
                           f" >= {len(officers)}", timeout=10_000)
    page.wait_for_function(f"document.getElementById('gw-track-clock').textContent !== "
                           f"{start!r}", timeout=10_000)
    page.wait_for_function("Number(document.getElementById('gw-track-slider').value) > 0",
                           timeout=10_000)
    page.click("#gw-track-play")  # pause
    paused = page.inner_text("#gw-track-clock")
    page.wait_for_timeout(800)
    assert page.inner_text("#gw-track-clock") == paused
    page.check("#gw-track-follow input")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "track_playback.png"))
    page.close()
