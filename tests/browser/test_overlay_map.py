"""Browser test: police beats as a switchable map overlay; tooltip as text; clicks pass through."""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dash
import pytest
import shapely
from dash.development.base_component import Component
from shapely.geometry import shape
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness_map import ASSETS, CHROMIUM, FIELD_ASSETS, SCREENSHOTS, QuietHandler  # noqa: E402

from domain.regions import Level  # noqa: E402
from feeds.geo.hierarchy import region_features  # noqa: E402
from feeds.geo.overlays import overlay_features  # noqa: E402
from feeds.live.context import CityContext  # noqa: E402
from feeds.sim.overlays import demo_police_beats  # noqa: E402
from layouts import ids  # noqa: E402
from layouts.map_view import map_page  # noqa: E402
from layouts.overlay_layer import SVG_CLASS, overlay_layers  # noqa: E402
from layouts.viewmodels import Kpi, MapView  # noqa: E402

playwright_api = pytest.importorskip("playwright.sync_api")
Browser = playwright_api.Browser
Page = playwright_api.Page
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]

TOWN = "441900003"
TIMEOUT = 15_000
EVIL = "<img src=x onerror=\"window.__pwned=1\">警区"
LAYER_NAME = "警务网格"
POINT_JS = """
([points]) => {
  const map = window.gridwatch.live.leafletMap;
  const box = map.getContainer().getBoundingClientRect();
  for (const [code, lon, lat] of points) {
    const p = map.latLngToContainerPoint([lat, lon]);
    const x = box.left + p.x, y = box.top + p.y;
    const hit = document.elementFromPoint(x, y);
    if (hit && hit.matches('path.gw-region')) { return {code, x, y}; }
  }
  return null;
}
"""


def town_view(ctx: CityContext) -> MapView:
    """The town's map page: its villages as regions, no live data."""
    h = ctx.city.hierarchy
    town = h[TOWN]
    villages = region_features(ctx.city, h.children_of(TOWN))
    w, s, e, n = ctx.city.shapes[TOWN].bounds
    return MapView(region_code=TOWN, region_name=town.name, region_level="town",
                   children=villages, child_stats={}, incidents=[], kpi=Kpi(),
                   centre=((s + n) / 2, (w + e) / 2), zoom=13, live_url="", as_of=time.time(),
                   breadcrumbs=[(h.city.code, h.city.name), (TOWN, town.name)],
                   bounds=((s, w), (n, e)))


def beat_features(ctx: CityContext) -> dict[str, Any]:
    """The town's beats; the first one carries an HTML-looking name (shown as text)."""
    fc = overlay_features(demo_police_beats(ctx.city), ctx.city, within=TOWN)
    fc["features"][0]["properties"]["name"] = EVIL
    return fc


def find_map(node: Any) -> Component:
    """The dl.Map of a page."""
    if isinstance(node, Component):
        if getattr(node, "id", None) == ids.MAP:
            return node
        node = getattr(node, "children", None)
    for child in node if isinstance(node, list | tuple) else [node]:
        if isinstance(child, Component):
            found = find_map(child)
            if found is not None:
                return found
    return None


@pytest.fixture(scope="module")
def beats(city_ctx: CityContext) -> dict[str, Any]:
    """The town's beat features."""
    return beat_features(city_ctx)


@pytest.fixture(scope="module")
def url(city_ctx: CityContext, beats: dict[str, Any]) -> Iterator[str]:
    """A Dash app serving the town page with the beats overlay, on a free loopback port."""
    page = map_page(town_view(city_ctx))
    find_map(page).children += overlay_layers([("police_beats", LAYER_NAME, beats)], "zh")
    app = dash.Dash(__name__, assets_folder=str(ASSETS), assets_path_ignore=[FIELD_ASSETS],
                    serve_locally=True, title="Gridwatch")
    app.layout = page
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="dash-overlay", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[Page]:
    """A 1920x1080 page on the town map; page errors fail the test."""
    ctx = browser.new_context(bypass_csp=True,
                              viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("path.gw-region", timeout=TIMEOUT)
    pg.wait_for_selector(".leaflet-control-layers-overlays label", timeout=TIMEOUT)
    yield pg
    ctx.close()
    assert not errors, errors


def inside_points(beats: dict[str, Any]) -> list[list[Any]]:
    """A point well inside every beat: [code, lon, lat]."""
    out = []
    for f in beats["features"]:
        geom = shape(f["geometry"])
        p = shapely.get_point(shapely.maximum_inscribed_circle(geom, 1e-5), 0)
        out.append([f["properties"]["code"], p.x, p.y])
    return out


def switch_on(page: Page) -> None:
    """Tick the layer in the layers control."""
    label = page.locator(".leaflet-control-layers-overlays label", has_text=LAYER_NAME)
    assert label.inner_text().strip() == LAYER_NAME
    label.locator("input").check()


def test_layer_switches_on_and_draws_dashed_outlines(page: Page, beats: dict[str, Any]) -> None:
    """Off at first; ticked in the control, one dashed, unfilled, violet outline per beat."""
    units = page.locator(f"path.{SVG_CLASS}")
    assert units.count() == 0
    switch_on(page)
    page.wait_for_function(f"document.querySelectorAll('path.{SVG_CLASS}').length === "
                           f"{len(beats['features'])}", timeout=TIMEOUT)
    first = units.first
    assert first.get_attribute("stroke-dasharray") == "8 6"
    assert first.get_attribute("fill") == "none"
    assert first.get_attribute("stroke") == "#c18cff"
    assert page.locator(f".leaflet-gwOverlays-pane path.{SVG_CLASS}").count() == units.count()
    label = page.locator(".leaflet-control-layers-overlays label input")
    label.uncheck()
    page.wait_for_function(f"document.querySelectorAll('path.{SVG_CLASS}').length === 0",
                           timeout=TIMEOUT)


def test_hover_shows_the_beat_name_as_text_and_clicks_reach_the_region(
        page: Page, beats: dict[str, Any], city_ctx: CityContext) -> None:
    """Hovering inside a beat shows its name (text, never HTML); a click still drills down."""
    switch_on(page)
    page.wait_for_selector(f"path.{SVG_CLASS}", timeout=TIMEOUT)
    names = {f["properties"]["code"]: f["properties"]["name"] for f in beats["features"]}
    evil_code = beats["features"][0]["properties"]["code"]
    points = inside_points(beats)
    points.sort(key=lambda p: p[0] != evil_code)  # try the HTML-named beat first
    hit = page.evaluate(POINT_JS, [points])
    assert hit is not None, "no beat interior free of labels"
    page.mouse.move(hit["x"] - 3, hit["y"] - 3)
    page.mouse.move(hit["x"], hit["y"])
    tip = page.wait_for_selector(".gw-ovtip .gw-ovtip-name", timeout=TIMEOUT)
    assert tip.text_content() == names[hit["code"]]
    meta = page.inner_text(".gw-ovtip .gw-ovtip-meta")
    assert LAYER_NAME in meta and "个基础网格" in meta
    assert page.locator(".gw-ovtip img").count() == 0
    assert page.evaluate("window.__pwned") is None
    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "overlay.png"))
    # the outline pane takes no pointer: the click lands on the village below and drills down
    village = hit["code"].split("-")[0]
    assert city_ctx.city.hierarchy[village].level == Level.VILLAGE
    page.mouse.click(hit["x"], hit["y"])
    page.wait_for_url(f"**/village/{village}", timeout=TIMEOUT)


def test_tooltip_leaves_when_the_pointer_leaves_the_beats(page: Page,
                                                          beats: dict[str, Any]) -> None:
    """Moving off every beat (outside the town) closes the tooltip."""
    switch_on(page)
    page.wait_for_selector(f"path.{SVG_CLASS}", timeout=TIMEOUT)
    hit = page.evaluate(POINT_JS, [inside_points(beats)])
    page.mouse.move(hit["x"], hit["y"])
    page.wait_for_selector(".gw-ovtip", timeout=TIMEOUT)
    page.mouse.move(1900, 1070)  # the map's far corner, outside the town
    page.wait_for_selector(".gw-ovtip", state="detached", timeout=TIMEOUT)
