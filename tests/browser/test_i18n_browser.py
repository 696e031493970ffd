"""The language switch in Chromium: it keeps the page, is remembered for the signed-in user
(a new browser signs in to English), ?lang= still wins, and scripts write the page's language."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from layouts.i18n import catalogue
from tests.support import CHROMIUM, RunningDemo, login, running_demo, send_messages

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]

PW = "ana-password-1"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """The whole demo without the simulator."""
    with running_demo(demo_dir, tmp_path_factory.mktemp("i18n"), "--no-sim") as d:
        yield d


def cli(demo: RunningDemo, *args: str, stdin: str = "") -> str:
    """Run `gridwatch` against the running demo's store."""
    out = subprocess.run([sys.executable, "-m", "gridwatch.cli", *args, "--data-dir",
                          str(demo.data_dir)], input=stdin, capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout


def test_switch_keeps_the_page_and_is_remembered_for_the_user(demo, browser, city_ctx):
    town = city_ctx.towns[2]
    village = city_ctx.hierarchy.children_of(town)[0]
    cli(demo, "users", "add", "ana", "--role", "duty", "--scope", town, stdin=PW + "\n")
    assert re.search(rf"^ana\tduty\t{town}\tzh$", cli(demo, "users", "list"), re.M)

    first = browser.new_context(bypass_csp=True, viewport={"width": 1600, "height": 900})
    page = first.new_page()
    login(page, demo.url, "ana", PW)
    page.goto(f"{demo.url}/village/{village}?wall=0")
    page.wait_for_selector("#gw-lang-link")
    assert page.inner_text("#gw-title") == "网格化指挥中心" and page.title() == "网格化指挥中心"
    page.click("#gw-lang-link")
    page.wait_for_selector("text=Open red")
    assert page.url == f"{demo.url}/village/{village}?wall=0"  # the same page
    assert page.inner_text("#gw-title") == "Gridwatch" and page.title() == "Gridwatch"
    assert page.inner_text("#gw-lang-link") == "中文"
    assert re.search(rf"^ana\tduty\t{town}\ten$", cli(demo, "users", "list"), re.M)
    page.goto(f"{demo.url}/stats/{town}?lang=zh")  # Plotly's own buttons speak Chinese too
    page.wait_for_selector(".modebar-btn[data-title='平移']", state="attached", timeout=20_000)
    first.close()

    second = browser.new_context(bypass_csp=True,
                                 viewport={"width": 1600, "height": 900})  # no cookies
    page = second.new_page()
    login(page, demo.url, "ana", PW)
    page.wait_for_selector("#gw-title")
    assert page.inner_text("#gw-title") == "Gridwatch"  # remembered with the user
    page.goto(f"{demo.url}/town/{town}?lang=zh")  # the URL wins over the saved choice
    page.wait_for_selector("#gw-title")
    assert page.inner_text("#gw-title") == "网格化指挥中心"
    page.click("#gw-lang-link")  # to English: saved, and the page loses its ?lang=zh
    page.wait_for_selector("text=Open red")
    assert page.url == f"{demo.url}/town/{town}"
    second.close()


def open_case(page, url: str, timeout: float = 20) -> None:
    """Open a case page, again while the worker has not stored the case yet."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        page.wait_for_selector("#gw-root, .gw-message")
        if page.query_selector(".gw-countdown") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    page.wait_for_selector(".gw-countdown", timeout=1_000)


def test_scripts_write_the_page_language(demo, browser, city_ctx):
    officer = city_ctx.roster["O000077"]
    lon, lat = GridIndex(city_ctx.city).random_point(officer.grid, np.random.default_rng(5))
    wlon, wlat = to_datum(lon, lat, city_ctx.hierarchy.datum, "wgs84")
    replies = send_messages(demo.gateway_url, [
        {"type": "incident", "msg_id": "i18n-i", "incident_id": "I18N-1",
         "officer_id": officer.officer_id, "ts": time.time() - 90, "lat": wlat, "lon": wlon,
         "category": "dispute", "title": "邻里噪音"}])
    assert replies == [{"ack": "i18n-i"}]
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 900})
    login(page, demo.url)
    for lang, pattern in (("en", r"^left \d+ min$"), ("zh", r"^剩余 \d+分$")):
        open_case(page, f"{demo.url}/case/I18N-1?lang={lang}")
        page.wait_for_function(  # cases.js rewrites the countdown every second
            "p => new RegExp(p).test(document.querySelector('.gw-countdown').textContent)",
            arg=pattern, timeout=10_000)
    page.goto(f"{demo.url}/village/{officer.grid[:12]}?lang=en")
    page.wait_for_selector("#gw-case-table .ag-row[row-id='I18N-1'] [col-id='title']")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    table = page.inner_text("#gw-case-table")
    assert "Dispute" in table and "Reported" in table and not CJK.search(
        table.replace("邻里噪音", ""))
    assert page.inner_text(".gw-export") == "Export CSV"
    assert page.get_attribute("#gw-case-table-filter", "placeholder") == "filter…"
    assert "Page" in page.inner_text("#gw-case-table .ag-paging-panel")  # AG Grid's own text
    page.close()


def test_scripts_take_durations_and_plural_forms_from_the_catalogue(demo, browser, city_ctx):
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 900})
    login(page, demo.url)
    town = city_ctx.towns[0]
    want = {"en": ["45 s", "2 h 15 min", "3 d 4 h", "1 base grid", "2 base grids"],
            "zh": ["45秒", "2小时15分", "3天4小时", "1 个基础网格", "2 个基础网格"]}
    for lang, texts in want.items():
        page.goto(f"{demo.url}/town/{town}?lang={lang}")
        page.wait_for_selector("#gw-root[data-i18n]", state="attached")
        got = page.evaluate(
            """forms => { const GW = window.gridwatch;  // Intl.PluralRules picks the form
                return [GW.duration(45), GW.duration(8100), GW.duration(273600),
                        GW.fill(forms, 'overlay.grids', {n: 1}),
                        GW.fill(forms, 'overlay.grids', {n: 2})]; }""",
            catalogue(lang, ("overlay.",)))
        assert got == texts, lang
    page.close()
