"""End to end on a city brought in as `gridwatch city` brings it (DataV districts with a hole,
an enclave and an island imported, trial streets, communities and grids subdivided, a roster):
`gridwatch demo` on its five levels (市 → 区 → 街道 → 社区 → 网格), every level's view in
Chromium with drill-down and breadcrumbs, the dispatch queue at the street, a district-scoped
user's 403s, a position landing in its grid, the API per level."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from feeds.geo import importer as im
from feeds.geo.datum import to_datum
from feeds.geo.hierarchy import CityGeo, save_hierarchy
from feeds.geo.locate import GridIndex
from feeds.geo.roster import load_officers, save_officers
from feeds.geo.sources import read_source
from feeds.sim import subdivide as sd
from feeds.sim.citygen import generate_officers
from tests.feeds.geo import city_files as cf
from tests.support import (
    ADMIN_PASSWORD,
    CHROMIUM,
    SCREENSHOTS,
    RunningDemo,
    login,
    running_demo,
    send_messages,
)
from tests.video_support import wait_for

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("pyogrio")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]

USER, PW = "dora", "district-duty-pw-1"


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CityGeo]:
    """深圳市 from DataV districts, subdivided 2 × 2 × 2, 3 officers a grid: its files."""
    d = tmp_path_factory.mktemp("imported")
    src = cf.datav(d / "districts.json", cf.districts(), cf.CITY)
    res = im.import_level(None, read_source(src, None),
                          im.ImportOptions("district", city_name="深圳市"))
    assert res.city is not None and res.problems == ()
    plan = sd.plan(res.city, "district", im.level_specs("street,community,grid"), (2,))
    city = sd.subdivide(res.city, plan)
    save_hierarchy(city, d / "city.geojson")
    save_officers(generate_officers(city, 3 * len(city.hierarchy.at_level("grid"))),
                  d / "officers.csv")
    return d, city


@pytest.fixture(scope="module")
def demo(five, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """The demo on the five-level city, without the simulator."""
    with running_demo(five[0], tmp_path_factory.mktemp("five"), "--no-sim") as d:
        subprocess.run([sys.executable, "-m", "gridwatch.cli", "users", "add", USER, "--role",
                        "duty", "--scope", world_of(five[1])["district"], "--data-dir",
                        str(d.data_dir)], input=PW + "\n", text=True, check=True, timeout=60,
                       capture_output=True)
        yield d


def world_of(city: CityGeo) -> dict[str, str]:
    """A grid of the first district and its ancestors; the second district and a street of it."""
    h = city.hierarchy
    districts = h.children_of(h.city.code)
    street = h.children_of(districts[0])[0]
    community = h.children_of(street)[0]
    other = districts[1]
    return {"district": districts[0], "street": street, "community": community,
            "grid": h.children_of(community)[0], "other": other,
            "other_street": h.children_of(other)[0]}


@pytest.fixture(scope="module")
def world(demo: RunningDemo, five) -> dict[str, str]:
    """An officer on duty in the grid, and a fire reported there."""
    city = five[1]
    w = world_of(city)
    lon, lat = to_datum(*GridIndex(city).random_point(w["grid"], np.random.default_rng(5)),
                        city.hierarchy.datum, "wgs84")
    now = time.time()
    officer = next(o.officer_id for o in load_officers(five[0] / "officers.csv")
                   if o.grid == w["grid"])
    replies = send_messages(demo.gateway_url, [
        {"type": "duty", "msg_id": "5l-d", "officer_id": officer, "ts": now, "on_duty": True},
        {"type": "position", "msg_id": "5l-p", "officer_id": officer, "ts": now,
         "lat": lat, "lon": lon},
        {"type": "incident", "msg_id": "5l-i", "incident_id": "FIVE-1", "officer_id": officer,
         "ts": now, "lat": lat, "lon": lon, "category": "fire", "title": "仓库冒烟"}])
    assert replies == [{"ack": "5l-d"}, {"ack": "5l-p"}, {"ack": "5l-i"}]
    return {**w, "officer": officer}


def api(demo: RunningDemo, path: str, user: str = "admin",
        password: str = ADMIN_PASSWORD) -> tuple[int, dict]:
    """(status, JSON) of an API GET with Basic credentials."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    req = urllib.request.Request(demo.url + path, headers={"Authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


def test_every_level_has_its_view_with_drill_down_and_breadcrumbs(demo, browser, world):
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, demo.url)
    page.goto(demo.url + "/")
    for level in ("district", "street", "community"):
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
        page.click(f".gw-rlabel-in[data-code='{world[level]}']")
        page.wait_for_url(f"**/region/{world[level]}", timeout=10_000)
        if level == "street":  # the city dispatches from its streets: the queue is here
            page.wait_for_selector("#gw-queue-table [row-id='FIVE-1']", timeout=15_000)
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    page.click(f".gw-rlabel-in[data-code='{world['grid']}']")
    page.wait_for_url(f"**/grid/{world['grid']}", timeout=10_000)
    crumbs = page.locator("#gw-breadcrumbs a")
    crumbs.first.wait_for(timeout=10_000)
    texts = crumbs.all_inner_texts()
    assert len(texts) == 4 and texts[0] == "深圳市", texts  # 市 › 区 › 街道 › 社区
    page.wait_for_selector("#gw-case-table .ag-row[row-id='FIVE-1']", timeout=15_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "five_level_grid.png"))
    crumbs.nth(1).click()
    page.wait_for_url(f"**/region/{world['district']}", timeout=10_000)
    page.wait_for_selector(f".gw-rlabel-in[data-code='{world['street']}']", timeout=15_000)
    assert errors == []
    page.close()


def test_a_district_user_sees_its_district_and_nothing_of_the_next(demo, browser, world):
    page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 1000})
    login(page, demo.url, USER, PW)
    page.goto(f"{demo.url}/region/{world['district']}")
    page.wait_for_selector(f".gw-rlabel-in[data-code='{world['street']}']", timeout=20_000)
    for path in (f"/region/{world['other']}", f"/region/{world['other_street']}", "/city"):
        page.goto(demo.url + path)
        page.wait_for_selector(".gw-message[data-status='403']", timeout=10_000)
    page.goto(demo.url + "/")  # home: the user's own district
    page.wait_for_selector(f".gw-rlabel-in[data-code='{world['street']}']", timeout=20_000)
    page.close()
    assert api(demo, f"/api/v1/regions/{world['district']}", USER, PW)[0] == 200
    for code in (world["other"], world["other_street"]):
        assert api(demo, f"/api/v1/regions/{code}", USER, PW)[0] == 403
        assert api(demo, f"/api/v1/summary?region={code}", USER, PW)[0] == 403
    assert api(demo, "/api/v1/summary", USER, PW)[1]["region"]["code"] == world["district"]


def test_the_api_counts_per_level_and_places_the_officer_in_its_grid(demo, world, five):
    h = five[1].hierarchy
    status, officer = api(demo, f"/api/v1/officers/{world['officer']}")
    assert status == 200 and officer["grid"] == world["grid"]
    status, region = api(demo, f"/api/v1/regions/{world['community']}")
    assert status == 200 and region["level"] == "community" and region["level_name"] == "社区"
    assert [r["code"] for r in region["path"]] == [h.city.code, world["district"],
                                                   world["street"], world["community"]]
    assert {c["code"] for c in region["children"]} == set(h.children_of(world["community"]))
    _, city = api(demo, "/api/v1/summary")
    assert city["counts"]["regions"] == {"city": 1, **{lv: len(h.at_level(lv)) for lv in
                                              ("district", "street", "community", "grid")}}
    def district() -> dict:
        answer = api(demo, f"/api/v1/summary?region={world['district']}")[1]
        return answer if answer["counts"]["incidents_open"]["red"] == 1 else {}

    summary = wait_for(district, 15.0, 0.3)
    assert summary, "the district's summary never counted the red fire"
    assert summary["counts"]["regions"]["district"] == 1
    assert summary["counts"]["grids"] == len(list(h.descendants(world["district"], "grid")))
    children = {c["code"]: c for c in summary["children"]}
    assert set(children) == set(h.children_of(world["district"]))
    assert children[world["street"]]["alert"] == "red"
    _, wall = api(demo, f"/wall/playlist.json?home={world['district']}")
    paths = [item["path"] for item in wall["items"]]  # the district wall's rotation
    assert paths[:2] == [f"/region/{world['district']}", f"/region/{world['street']}"], paths
    assert f"/region/{world['community']}" in paths  # the red fire, on its community's map
