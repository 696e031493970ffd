"""AG Grid case lists in Chromium: sort by a column, filter, the grid's own CSV export, a live
row changed in place by the push channel, zh-CN/en grid text, nothing from the internet."""
from __future__ import annotations

import csv
import io
import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.live.context import CityContext
from layouts.case_view import audit_label
from layouts.i18n import t
from tests.support import (
    ADMIN_BASIC,
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
TITLES = {"GRID-A": "甲 楼道堆物", "GRID-B": "乙 噪音扰民", "GRID-C": "=1+2 丙 占道经营",
          "GRID-D": "丁 <b>违章</b>搭建"}
GRID = "#gw-case-table"


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with running_demo(demo_dir, tmp_path_factory.mktemp("grids"), "--no-sim") as d:
        yield d


@pytest.fixture(scope="module")
def village(demo: RunningDemo, city_ctx: CityContext) -> str:
    """Four open cases in one village, reported 10, 20, 30 and 40 minutes ago."""
    h = city_ctx.hierarchy
    village = h.children_of(city_ctx.towns[3])[0]
    grid = h.children_of(village)[0]
    officer = next(o for o in city_ctx.roster.values() if o.grid.startswith(village))
    rng = np.random.default_rng(5)
    now = time.time()
    msgs = []
    for k, (case_id, title) in enumerate(TITLES.items()):
        lon, lat = to_datum(*GridIndex(city_ctx.city).random_point(grid, rng), h.datum, "wgs84")
        msgs.append({"type": "incident", "msg_id": f"g-{case_id}", "incident_id": case_id,
                     "officer_id": officer.officer_id, "ts": now - 600 * (k + 1), "lat": lat,
                     "lon": lon, "category": "dispute", "title": title})
    assert all("ack" in r for r in send_messages(demo.gateway_url, msgs))
    return village


def open_list(browser, demo: RunningDemo, path: str, outside: list[str] | None = None):  # noqa: ANN001, ANN201
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    if outside is not None:  # every request that leaves our origin
        page.on("request", lambda r: None if r.url.startswith(demo.url) or r.url.startswith(
            ("data:", "blob:", "ws://127.0.0.1")) else outside.append(r.url))
    login(page, demo.url)
    page.goto(demo.url + path)
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    page.wait_for_function(f"() => document.querySelectorAll(\"{GRID} .ag-row[row-id^='GRID-']\")"
                           f".length === {len(TITLES)}", timeout=20_000)
    return page


def column_text(page, col: str) -> list[str]:  # noqa: ANN001
    """The shown cells of a column, top to bottom (rows by their row-index)."""
    return page.evaluate("""([sel, col]) => [...document.querySelectorAll(
          sel + ' .ag-center-cols-container .ag-row')]
        .sort((a, b) => Number(a.getAttribute('row-index')) - Number(b.getAttribute('row-index')))
        .map(r => (r.querySelector(`[col-id='${col}']`) || {}).innerText || '')""", [GRID, col])


def test_sort_by_a_column_and_filter(demo, browser, village):
    outside: list[str] = []
    page = open_list(browser, demo, f"/village/{village}", outside)
    shown = [t for t in column_text(page, "title") if t in TITLES.values()]
    assert shown == list(TITLES.values())[::-1]  # worst level, then the nearest deadline
    page.click(f"{GRID} .ag-header-cell[col-id='age'] .ag-header-cell-label")
    ages = [t for t, i in zip(column_text(page, "age"), column_text(page, "id"), strict=True)
            if i in TITLES]
    assert ages == ["10分", "20分", "30分", "40分"], ages  # by the minutes, not by the text
    page.click(f"{GRID} .ag-header-cell[col-id='title'] .ag-header-cell-label")
    titles = [t for t in column_text(page, "title") if t in TITLES.values()]
    assert titles == sorted(TITLES.values()), titles
    assert "<b>违章</b>" in page.inner_text(GRID) and page.query_selector(f"{GRID} b") is None
    box = page.locator("#gw-case-table-filter")
    assert box.get_attribute("placeholder") == t("list.filter")
    box.fill("噪音")
    page.wait_for_function(f"() => document.querySelectorAll('{GRID} .ag-center-cols-container"
                           " .ag-row').length === 1", timeout=5_000)
    assert column_text(page, "id") == ["GRID-B"]
    assert "页" in page.inner_text(f"{GRID} .ag-paging-panel")  # AG Grid's own words, in zh-CN
    box.fill("")
    page.wait_for_function(f"() => document.querySelectorAll(\"{GRID} .ag-row[row-id^='GRID-']\")"
                           f".length === {len(TITLES)}", timeout=5_000)
    assert outside == [], outside  # nothing loaded from the internet
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "grids_village_1920.png"))
    page.close()


def test_csv_export_keeps_the_minutes(demo, browser, village):
    page = open_list(browser, demo, f"/village/{village}")
    with page.expect_download(timeout=10_000) as dl:
        page.click("#gw-case-table-export")
    assert dl.value.suggested_filename == "case-table.csv"
    raw = Path(dl.value.path()).read_bytes()
    print("CSV starts", raw[:12])
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    head = rows[0]
    title, age = head.index(t("case.title")), head.index(t("list.age"))
    assert head[:2] == [t("case.level"), t("case.category")]
    assert head[-2:] == ["已历时（分）", "时限（分）"]  # the numbers, hidden on screen
    by_id = {r[head.index("ID")]: r for r in rows[1:]}
    assert set(TITLES) <= set(by_id)
    a = by_id["GRID-A"]
    assert (a[title], a[age], a[head.index("已历时（分）")]) == (TITLES["GRID-A"], "10分", "10")
    assert by_id["GRID-D"][title] == TITLES["GRID-D"]  # markup stays as typed
    assert by_id["GRID-C"][title] == "'" + TITLES["GRID-C"]  # never run as a formula
    assert by_id["GRID-A"][head.index("时限（分）")].lstrip("-").isdigit()  # numbers as numbers
    page.close()


def act(demo: RunningDemo, case_id: str, action: str) -> None:
    """A case action through the actions API (the command path), as the admin."""
    req = urllib.request.Request(f"{demo.url}/api/v1/incidents/{case_id}/actions",
                                 data=json.dumps({"action": action}).encode(), method="POST",
                                 headers={"Authorization": ADMIN_BASIC,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 202


def test_a_live_row_changes_in_place(demo, browser, village):
    """A case is acknowledged elsewhere: its row shows it within seconds while the grid and the
    other rows' DOM nodes stay the same (marked beforehand)."""
    page = open_list(browser, demo, f"/village/{village}")
    page.evaluate(f"""() => {{
        document.querySelector("{GRID} .ag-root-wrapper").dataset.marker = 'grid';
        document.querySelector("{GRID} .ag-row[row-id='GRID-B']").dataset.marker = 'row-b'; }}""")
    act(demo, "GRID-A", "acknowledge")
    page.wait_for_function(f"""() => (document.querySelector(
        "{GRID} .ag-row[row-id='GRID-A'] [col-id='status']") || {{}}).innerText === '已受理'""",
                           timeout=10_000)
    assert page.evaluate(f"""() => [
        document.querySelector("{GRID} .ag-root-wrapper").dataset.marker,
        document.querySelector("{GRID} .ag-row[row-id='GRID-B']").dataset.marker]""") == [
        "grid", "row-b"]
    page.close()


def test_a_row_click_opens_the_case_and_english_grid_text(demo, browser, village):
    page = open_list(browser, demo, f"/village/{village}?lang=en")
    assert "Page" in page.inner_text(f"{GRID} .ag-paging-panel")
    assert page.inner_text("#gw-case-table-export") == "Export CSV"
    page.click(f"{GRID} .ag-row[row-id='GRID-C'] [col-id='title']")
    page.wait_for_url(f"{demo.url}/case/GRID-C?lang=en", timeout=10_000)  # our origin
    page.wait_for_selector("#gw-case-timeline .gw-ev-reported", timeout=10_000)
    page.close()


def test_admin_lists_are_grids(demo, browser, village, city_ctx):
    """The audit log and the dead letters: AG Grid lists (newest first, filterable); a click
    on a dead letter shows its editor."""
    officer = next(iter(city_ctx.roster.values())).officer_id
    [nack] = send_messages(demo.gateway_url, [  # refused: a negative speed
        {"type": "position", "msg_id": "grid-bad", "officer_id": officer, "ts": time.time(),
         "lat": 23.0, "lon": 113.7, "speed_mps": -1}])
    assert "nack" in nack
    act(demo, "GRID-D", "acknowledge")
    page = open_list(browser, demo, f"/town/{village[:9]}")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "grids_town_1920.png"))
    page.goto(demo.url + "/admin/audit")
    page.wait_for_selector("#gw-audit-table .ag-row", timeout=15_000)
    rows = page.eval_on_selector_all(
        "#gw-audit-table .ag-center-cols-container .ag-row", "rs => rs.map(r => r.innerText)")
    assert any("GRID-D" in r and audit_label("case.acknowledge", "zh") in r for r in rows)
    when = page.eval_on_selector_all("#gw-audit-table .ag-row [col-id='when']",
                                     "cs => cs.map(c => c.innerText)")
    assert len(when) > 1 and when == sorted(when, reverse=True)  # newest first
    page.screenshot(path=str(SCREENSHOTS / "grids_audit_1920.png"))
    page.goto(demo.url + "/admin/deadletters")
    row = page.wait_for_selector("#gw-dl-grid .ag-row", timeout=15_000)
    assert "grid-bad" in page.inner_text("#gw-dl-grid")
    row.click()
    page.wait_for_selector(".gw-dl.gw-dl--focus textarea.gw-dl-raw:focus", timeout=5_000)
    assert "grid-bad" in page.input_value(".gw-dl--focus textarea.gw-dl-raw")
    page.screenshot(path=str(SCREENSHOTS / "grids_deadletters_1920.png"))
    page.close()


def test_a_wall_never_loads_the_grid_and_a_desk_draws_its_list_after_the_map(demo, browser,
                                                                             village):
    """AG Grid's scripts (0.6 MB) are named but not run by the index: a wall never fetches them;
    a desk fetches them once its map's labels are drawn, then shows its live list."""
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    fetched: list[tuple[float, str]] = []
    page.on("request", lambda r: fetched.append((time.monotonic(), r.url)))
    login(page, demo.url)
    page.goto(f"{demo.url}/village/{village}?wall=1&rotate=off")
    page.wait_for_selector(".leaflet-gwLabels-pane [data-code]", timeout=20_000)
    page.wait_for_selector("#gw-conn.gw-conn--open", state="attached", timeout=20_000)
    page.wait_for_timeout(1500)
    assert not [u for _, u in fetched if "ag_grid" in u or "ag-grid" in u]
    assert page.evaluate("() => window.dash_ag_grid === undefined")
    fetched.clear()
    page.add_init_script("""(function look() {  // when the first region label is on the map
        if (document.querySelector('.leaflet-gwLabels-pane [data-code]')) {
            window.__labelsAt = performance.now(); return; }
        requestAnimationFrame(look); })()""")
    page.goto(f"{demo.url}/village/{village}")
    page.wait_for_function(f"() => document.querySelectorAll(\"{GRID} .ag-row[row-id^='GRID-']\")"
                           f".length === {len(TITLES)}", timeout=20_000)
    assert len([u for _, u in fetched if "/dash_ag_grid/dash_ag_grid" in u]) == 1
    labels_at, grid_at = page.evaluate("""() => [window.__labelsAt, performance
        .getEntriesByType('resource').find(e => e.name.includes('/dash_ag_grid/')).startTime]""")
    assert grid_at >= labels_at - 20  # after the map (a frame's leeway)
    assert not [u for _, u in fetched if "dash_table" in u]  # no page uses DataTable
    page.close()
