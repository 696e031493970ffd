"""In Chromium: a generated MBTiles and PMTiles archive served by the dashboard and drawn under
the map; the case list shows durations as people read them (server rows and live rows)."""
from __future__ import annotations

import csv
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from werkzeug.serving import make_server

from dashboard import auth as web_auth
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role, User
from domain.regions import Level
from feeds.accounts import auth
from feeds.geo.basemap import BasemapConfig
from feeds.geo.datum import to_datum
from feeds.live.context import CityContext
from feeds.live.reads import read_open_incidents
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store import keys
from feeds.store.client import sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import free_port
from feeds.video.config import VideoConfig
from tests.browser.harness_map import QuietHandler
from tests.feeds.geo.tile_archives import make_mbtiles, make_pmtiles, tiles_over
from tests.support import CHROMIUM, SCREENSHOTS

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]
AGE_S = 3 * 86400 + 4 * 3600 + 30  # reported 3 d 4 h ago


def seed_case(ctx: CityContext, client, grid: str) -> None:  # noqa: ANN001
    """One open dispute case in `grid`, reported 3 days 4 hours ago."""
    worker = StateWorker(client, CityState.with_roster(ctx.rules, ctx.roster), ctx.towns,
                         ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    officer = next(o.officer_id for o in ctx.roster.values() if o.grid == grid)
    p = ctx.city.shapes[grid].representative_point()
    client.xadd(keys.incidents_in(grid[:9]), {"m": orjson.dumps({
        "type": "incident", "msg_id": "DUR-1", "incident_id": "DUR-1", "officer_id": officer,
        "ts": time.time() - AGE_S, "lon": p.x, "lat": p.y, "grid": grid,
        "category": "dispute", "title": "DUR-1", "severity": 0})})
    client.hset(keys.INCIDENT_TOWN, "DUR-1", grid[:9])
    ids = {s: ">" for s in worker.streams}
    for _ in range(100):  # until the worker applied it (a busy machine needs more steps)
        ids = worker.step(ids, block_ms=20)
        if any(i.incident_id == "DUR-1" for i in read_open_incidents(client, [grid[:9]])):
            return
    raise AssertionError("the seeded case was never applied")


@pytest.fixture(scope="module", params=["mbtiles", "pmtiles"])
def served(request, redis_server, city_ctx: CityContext, tmp_path_factory
           ) -> Iterator[tuple[str, str, str]]:
    """The dashboard with a generated archive over the city as its basemap, on a free port:
    (base URL, session token, town code)."""
    tmp = tmp_path_factory.mktemp(f"tiles-{request.param}")
    minx, miny, maxx, maxy = city_ctx.city.shapes[city_ctx.hierarchy.city.code].bounds
    tiles = list(tiles_over((minx - 0.3, miny - 0.3, maxx + 0.3, maxy + 0.3), range(8, 13)))
    make = make_mbtiles if request.param == "mbtiles" else make_pmtiles
    archive = make(tmp / f"city.{request.param}", tiles)
    client = sync_client(redis_server.url)
    client.flushall()
    town = city_ctx.towns[3]
    seed_case(city_ctx, client, next(city_ctx.hierarchy.descendants(town, Level.GRID)).code)
    settings = DashboardConfig(store=StoreConfig(data_dir=tmp),
                               video=VideoConfig(capture_port=free_port()),
                               basemap=BasemapConfig(tiles=archive, tiles_datum="wgs84"))
    app = create_app(settings, city_ctx, client)
    token = auth.open_session(client, User("tiles-admin", Role.ADMIN,
                                           city_ctx.hierarchy.city.code))
    port = free_port()
    srv = make_server("127.0.0.1", port, app.server, threaded=True,
                      request_handler=QuietHandler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", token, town
    finally:
        srv.shutdown()
        thread.join(10)


def open_page(browser, served, path: str):  # noqa: ANN001, ANN201
    base, token, _ = served
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    ctx.add_cookies([{"name": web_auth.SESSION_COOKIE, "value": token, "url": base}])
    page = ctx.new_page()
    tiles: list[tuple[int, str]] = []
    page.on("response", lambda r: tiles.append((r.status, r.headers.get("content-type", "")))
            if "/tiles/" in r.url else None)
    page.goto(base + path)
    return page, tiles


def test_archive_tiles_are_drawn_under_the_map(browser, served, request):
    page, seen = open_page(browser, served, "/")
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.leaflet-tile')].some(i => "
        "i.src.includes('/tiles/') && i.complete && i.naturalWidth === 256)", timeout=20_000)
    assert (200, "image/png") in seen  # served by the app, as PNG
    page.wait_for_selector(".gw-region", timeout=10_000)  # the regions drawn above the tiles
    name = request.node.callspec.id
    page.screenshot(path=str(SCREENSHOTS / f"basemap-{name}.png"))
    page.context.close()


def test_case_list_shows_human_durations(browser, served):
    page, _ = open_page(browser, served, f"/town/{served[2]}")
    cell = page.wait_for_selector("#gw-case-table .ag-row [col-id='age']", timeout=20_000)
    assert cell.inner_text().strip() == "3天4小时"
    due = page.inner_text("#gw-case-table .ag-row [col-id='due']").strip()
    assert re.fullmatch(r"超期 \d+天\d+小时|超期 \d+天", due), due
    heads = " ".join(page.eval_on_selector_all("#gw-case-table .ag-header-cell-text",
                                               "els => els.map(e => e.innerText)"))
    assert "（分）" not in heads and "已历时" in heads  # the minutes stay in the CSV only
    with page.expect_download(timeout=10_000) as dl:  # the CSV keeps the number of minutes
        page.click("#gw-case-table-export")
    csv_text = Path(dl.value.path()).read_text(encoding="utf-8-sig")
    head, row = csv_text.splitlines()[:2]
    assert "已历时（分）" in head and "3天4小时" in row
    assert str(AGE_S // 60) in next(csv.reader([row]))  # AG Grid quotes every cell
    # a live row: a push channel's sync frame (this test runs no push server), as assets/live.js
    # applies it and assets/cases.js turns it into rows
    page.evaluate("""() => { const now = Date.now() / 1000; gridwatch.live.apply({type: 'sync',
        incidents: [{id: 'DUR-1', lon: 113.7, lat: 23.0, level: 'red', category: 'dispute',
         title: 'DUR-1', status: 'new', reported_ts: now - 2 * 3600 - 15 * 60 - 5,
         due_ts: now - 5 * 3600 + 30, grid: 'g'}]}); }""")
    page.wait_for_function(
        "() => (document.querySelector(\"#gw-case-table .ag-row[row-id='DUR-1'] [col-id='age']\")"
        " || {})"
        ".innerText === '2小时15分'", timeout=10_000)
    assert page.inner_text("#gw-case-table .ag-row [col-id='due']").strip() == "超期 5小时"
    assert page.locator("#gw-case-table .ag-row").count() == 1  # the other rows removed
    page.context.close()


def test_pushed_positions_are_drawn_in_the_basemaps_datum(browser, served, city_ctx):
    """The page converts the push channel's positions as the server converts its layers."""
    page, _ = open_page(browser, served, "/")
    page.wait_for_selector(".gw-region", timeout=20_000)
    src = city_ctx.hierarchy.datum
    assert src == "gcj02"  # the demo outline; the archive is declared WGS-84
    assert page.get_attribute("#gw-root", "data-datum") == "gcj02>wgs84"
    for lon, lat in [(113.75, 23.02), (113.9171764808363, 22.540796131694766), (2.35, 48.85)]:
        want = to_datum(lon, lat, src, "wgs84")
        got = page.evaluate("([x, y]) => gridwatch.datum.toDisplay(x, y)", [lon, lat])
        assert abs(got[0] - want[0]) < 1e-7 and abs(got[1] - want[1]) < 1e-7
        back = page.evaluate("([x, y]) => gridwatch.datum.fromDisplay(x, y)", got)
        assert abs(back[0] - lon) < 1e-7 and abs(back[1] - lat) < 1e-7
    page.context.close()
