"""A city brought in by `gridwatch city` (DataV districts, trial streets, communities and grids,
a roster) in Chromium: drill-down through its five levels, breadcrumbs back, a district-scoped
user's 403s."""
from __future__ import annotations

import base64
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.access import Role
from feeds.accounts import auth
from feeds.geo import importer as im
from feeds.geo.hierarchy import CityGeo, save_hierarchy
from feeds.geo.roster import save_officers
from feeds.geo.sources import read_source
from feeds.sim import subdivide as sd
from feeds.sim.citygen import generate_officers
from feeds.store.client import sync_client
from tests.feeds.geo import city_files as cf
from tests.support import CHROMIUM, SCREENSHOTS, RunningDemo, login, running_demo

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("pyogrio")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]
PASSWORD = "district-pass-1"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[CityGeo, Path]:
    """深圳市 from DataV districts, subdivided 2 × 2 × 2, 3 officers a grid."""
    d = tmp_path_factory.mktemp("imported")
    src = cf.datav(d / "districts.json", cf.districts(), cf.CITY)
    res = im.import_level(None, read_source(src, None),
                          im.ImportOptions("district", city_name="深圳市"))
    assert res.city is not None
    plan = sd.plan(res.city, "district", im.level_specs("street,community,grid"), (2,))
    out = sd.subdivide(res.city, plan)
    save_hierarchy(out, d / "city.geojson")
    save_officers(generate_officers(out, 3 * len(out.hierarchy.at_level("grid"))),
                  d / "officers.csv")
    return out, d


@pytest.fixture(scope="module")
def demo(city, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with running_demo(city[1], tmp_path_factory.mktemp("run"), "--no-sim") as d:
        yield d


def _page(browser, demo: RunningDemo, user: str = "admin", password: str | None = None):  # noqa: ANN001, ANN202
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    if password is None:
        login(page, demo.url)
    else:
        login(page, demo.url, user, password)
    return page


def test_drill_down_through_five_levels_and_back_by_breadcrumbs(demo, browser, city):
    h = city[0].hierarchy
    street = h.children_of(cf.FUTIAN)[0]
    community = h.children_of(street)[0]
    grid = h.children_of(community)[0]
    page = _page(browser, demo)
    page.goto(demo.url + "/")
    for code, url in ((cf.FUTIAN, f"/region/{cf.FUTIAN}"), (street, f"/region/{street}"),
                      (community, f"/region/{community}"), (grid, f"/grid/{grid}")):
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
        page.click(f".gw-rlabel-in[data-code='{code}']", timeout=10_000)
        page.wait_for_url(f"**{url}", timeout=10_000)
    crumbs = page.locator("#gw-breadcrumbs a")
    page.wait_for_selector("#gw-breadcrumbs a", timeout=10_000)
    names = [crumbs.nth(i).inner_text() for i in range(crumbs.count())]
    assert names[:4] == ["深圳市", "福田区", h[street].name, h[community].name]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "imported_city_grid.png"))
    crumbs.nth(1).click()
    page.wait_for_url(f"**/region/{cf.FUTIAN}", timeout=10_000)
    page.wait_for_selector(f".gw-rlabel-in[data-code='{street}']", timeout=10_000)
    page.close()


def test_a_district_scoped_user_sees_its_district_and_nothing_else(demo, browser, city):
    h = city[0].hierarchy
    client = sync_client((demo.data_dir / "redis.url").read_text().strip())
    auth.add_user(client, "futian", PASSWORD, Role.VIEWER, cf.FUTIAN, "zh")
    page = _page(browser, demo, "futian", PASSWORD)
    mine = h.children_of(cf.FUTIAN)[0]
    for path, want in ((f"/region/{cf.FUTIAN}", 200), (f"/region/{mine}", 200),
                       (f"/region/{cf.LUOHU}", 403),
                       (f"/region/{h.children_of(cf.LUOHU)[0]}", 403), ("/city", 403),
                       ("/", 200)):  # home: the user's own district
        page.goto(demo.url + path)
        shown = page.wait_for_selector("[data-status], #gw-conn", timeout=15_000)
        status = shown.get_attribute("data-status") or "200"
        assert int(status) == want, path
        if want == 200:
            page.wait_for_selector(f".gw-rlabel-in[data-code^='{cf.FUTIAN}0']", timeout=10_000)
    page.close()

    basic = "Basic " + base64.b64encode(f"futian:{PASSWORD}".encode()).decode()
    req = urllib.request.Request(f"{demo.url}/api/v1/regions/{cf.LUOHU}",
                                 headers={"Authorization": basic})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 403
