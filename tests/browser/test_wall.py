"""Wall mode end to end: a real demo, real Chromium; screenshots at 1080p and 4K, the freshness
banner when the worker stops, push reconnect, rotation inside a town and red-case takeover."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.live.context import CityContext
from tests.support import (
    ADMIN_PASSWORD,
    CHROMIUM,
    SCREENSHOTS,
    RunningDemo,
    login,
    running_demo,
    send_messages,
)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser, pytest.mark.timeout(900),
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]

TOWN = "441900101"  # 石碣镇
TOWN_USER, TOWN_PASSWORD = "wall-town", "wall-town-pass"
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """The demo with simulated positions (the feed) but no simulated cases: the test sends
    every case, so rotation and takeovers are deterministic."""
    with running_demo(demo_dir, tmp_path_factory.mktemp("wall"), "--position-interval", "60",
                      "--incidents-per-hour", "0", "--history-days", "0", timeout=300) as d:
        subprocess.run([sys.executable, "-m", "gridwatch.cli", "users", "add", TOWN_USER,
                        "--role", "viewer", "--scope", TOWN, "--data-dir", str(d.data_dir)],
                       input=TOWN_PASSWORD + "\n", text=True, check=True, capture_output=True)
        yield d


def child_pid(demo: RunningDemo, component: str) -> int:
    """The PID of one component process (`gridwatch.cli run <component>`) of the demo."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[1]) == demo.pid and b"run" in cmd and component.encode() in cmd:
            return int(entry)
    raise LookupError(f"no {component} process under the demo")


def town_villages(ctx: CityContext) -> list[str]:
    """The villages of TOWN that have officers, in code order."""
    return sorted({o.grid[:12] for o in ctx.roster.values() if o.grid.startswith(TOWN)})


_INDEX: dict[int, GridIndex] = {}


def grid_index(ctx: CityContext) -> GridIndex:
    """The point-in-grid index of the city (built once: it takes seconds on a busy machine)."""
    if id(ctx) not in _INDEX:
        _INDEX[id(ctx)] = GridIndex(ctx.city)
    return _INDEX[id(ctx)]


def case_messages(ctx: CityContext, specs: list[tuple[int, str, str]], seed: int = 7
                  ) -> list[dict]:
    """Incident messages in villages of TOWN: (village index, category, incident id)."""
    offs = sorted((o for o in ctx.roster.values() if o.grid.startswith(TOWN)),
                  key=lambda o: o.grid)
    villages = town_villages(ctx)
    index, rng, now = grid_index(ctx), np.random.default_rng(seed), time.time()
    out = []
    for vi, category, iid in specs:
        officer = next(o for o in offs if o.grid.startswith(villages[vi]))
        lon, lat = index.random_point(officer.grid, rng)
        wlon, wlat = to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")
        out.append({"type": "incident", "msg_id": f"m-{iid}", "incident_id": iid,
                    "officer_id": officer.officer_id, "ts": now, "lat": wlat, "lon": wlon,
                    "category": category, "title": f"<b>{iid}</b> 厂房冒烟 smoke"})
    return out


def send_cases(demo: RunningDemo, ctx: CityContext, specs: list[tuple[int, str, str]]) -> None:
    """Send cases through the gateway and check every one is acknowledged."""
    msgs = case_messages(ctx, specs)
    assert send_messages(demo.gateway_url, msgs) == [{"ack": m["msg_id"]} for m in msgs]


@pytest.fixture()
def open_wall(browser, demo: RunningDemo) -> Iterator:
    """Opens logged-in pages on wall URLs (once their push channel is live); closes them."""
    pages = []

    def opener(query: str, size: tuple[int, int] = (1920, 1080), user: str = "admin",
               password: str = ADMIN_PASSWORD):  # noqa: ANN202
        page = browser.new_page(bypass_csp=True, viewport={"width": size[0], "height": size[1]})
        pages.append(page)
        page.set_default_timeout(60_000)  # five other engineers share two cores
        page.gw_errors = []
        page.on("pageerror", lambda e: page.gw_errors.append(str(e)))
        login(page, demo.url, user, password)
        page.goto(demo.url + query)
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=120_000)
        page.wait_for_function("document.querySelector('#gw-wall-time').textContent.length >= 8")
        return page

    yield opener
    for page in pages:
        page.close()


def font_px(page, selector: str) -> float:  # noqa: ANN001
    """The largest computed font size of the elements matching selector (0 if none)."""
    return page.eval_on_selector_all(selector, "es => Math.max(0, ...es.map("
                                     "e => parseFloat(getComputedStyle(e).fontSize) || 0))")


def trail(page) -> list[dict]:  # noqa: ANN001
    """The views the wall has shown, oldest first (bounded in wall.js)."""
    return page.evaluate("gridwatch.wall.trail")


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_wall_screenshots_are_readable_at_1080p_and_4k(demo, open_wall, city_ctx, size):
    send_cases(demo, city_ctx, [(0, "dispute", f"SHOT-G-{size[0]}"),
                                (1, "safety_hazard", f"SHOT-Y-{size[0]}"),
                                (2, "fire", f"SHOT-R-{size[0]}")])
    scale = size[1] / 1080
    views = (("city", "/?wall=1&rotate=off"), ("town", f"/town/{TOWN}?wall=1&rotate=off"))
    for name, query in views:
        page = open_wall(query, size)
        page.wait_for_function("document.querySelector('#gw-kpi-red').textContent.trim() !== '0'",
                               timeout=10_000)
        time.sleep(1.5)  # map tiles of labels settle
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"wall_{name}_{size[0]}x{size[1]}.png"),
                        timeout=180_000)  # a 4K capture is slow on a busy machine
        # no desk chrome on a wall
        for sel in (".gw-crumbs", ".gw-side", "#gw-lang-link", ".leaflet-control-zoom"):
            assert page.query_selector(sel) is None, sel
        # type for 3 m: grows with the screen
        assert font_px(page, "#gw-wall-time") >= 40 * scale
        assert font_px(page, "#gw-kpi-red") >= 40 * scale
        assert font_px(page, ".gw-kpi-label") >= 16 * scale
        assert font_px(page, ".gw-region-name") >= 26 * scale
        assert font_px(page, "#gw-map") >= 18 * scale  # region labels and map text
        # nothing spills off the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        # the clock shows the local (Asia/Shanghai) time now
        shown = page.inner_text("#gw-wall-time").strip()
        now = datetime.now(UTC).astimezone(SHANGHAI)
        allowed = {(now + timedelta(seconds=d)).strftime("%H:%M") for d in (-60, 0, 60)}
        assert shown[:5] in allowed, shown
        assert page.is_hidden("#gw-wall-banner")
        assert page.gw_errors == []


def test_town_wall_rotates_within_its_town_and_jumps_to_a_new_red_case(demo, open_wall,
                                                                      city_ctx):
    send_cases(demo, city_ctx, [(3, "dispute", "ROT-G-1"), (4, "safety_hazard", "ROT-Y-1")])
    page = open_wall("/?wall=1&dwell=8", user=TOWN_USER, password=TOWN_PASSWORD)
    assert page.get_attribute("#gw-wall", "data-home") == TOWN
    page.wait_for_function("gridwatch.wall.trail.length >= 4", timeout=90_000)
    shown = trail(page)
    paths = [s["path"] for s in shown]
    assert all(p in (f"/town/{TOWN}",) or p.startswith(f"/village/{TOWN}") for p in paths), paths
    assert len({p for p in paths if p.startswith("/village/")}) >= 2, paths
    assert page.evaluate("location.pathname").startswith((f"/town/{TOWN}", f"/village/{TOWN}"))
    page.wait_for_function("document.querySelector('#gw-wall-now').textContent.length > 0")

    # a new red case in the town interrupts the rotation and is shown first
    send_cases(demo, city_ctx, [(5, "fire", "ROT-R-NEW")])
    t0 = time.monotonic()
    card = page.wait_for_selector(".gw-takeover[data-id='ROT-R-NEW']", timeout=30_000)
    took = time.monotonic() - t0
    assert "<b>ROT-R-NEW</b>" in card.inner_text()  # field text shown as text
    assert page.query_selector(".gw-takeover b") is None
    village = town_villages(city_ctx)[5]
    page.wait_for_function(f"location.pathname === '/village/{village}'", timeout=30_000)
    page.wait_for_selector(".gw-inc-red [data-id='ROT-R-NEW']", timeout=30_000)
    page.wait_for_function("gridwatch.live.leafletMap.getZoom() >= 15", timeout=30_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "wall_takeover_1920x1080.png"))
    # ... then the rotation resumes by itself
    page.wait_for_selector(".gw-takeover[data-id='ROT-R-NEW']", state="detached", timeout=60_000)
    page.wait_for_function("gridwatch.wall.trail.length > 0 && "
                           "gridwatch.wall.trail[gridwatch.wall.trail.length - 1].id !== "
                           "'ROT-R-NEW'", timeout=60_000)
    assert took < 15, took
    assert page.gw_errors == []


def test_a_wall_stays_inside_the_users_scope(demo, open_wall):
    page = open_wall(f"/town/{TOWN}?wall=1&rotate=off", user=TOWN_USER,
                     password=TOWN_PASSWORD)
    other = "441900003"
    status = page.evaluate(f"fetch('/wall/playlist.json?home={other}').then(r => r.status)")
    assert status == 403
    items = page.evaluate(f"fetch('/wall/playlist.json?home={TOWN}').then(r => r.json())")
    assert items["items"] and all(i["code"].startswith(TOWN) for i in items["items"])
    # a foreign ?home= is ignored: the wall's home stays the page's own region
    page.goto(f"{demo.url}/town/{TOWN}?wall=1&rotate=off&home={other}")
    page.wait_for_selector("#gw-wall", timeout=20_000)
    assert page.get_attribute("#gw-wall", "data-home") == TOWN


def test_stale_banner_when_the_worker_stops_and_cleared_when_it_resumes(demo, open_wall):
    page = open_wall(f"/town/{TOWN}?wall=1&rotate=off&stale=6")
    time.sleep(3)
    assert page.is_hidden("#gw-wall-banner")
    worker = child_pid(demo, "worker")
    os.kill(worker, signal.SIGSTOP)  # the socket stays open; only the feed stops
    try:
        t0 = time.monotonic()
        page.wait_for_selector("#gw-wall-banner", state="visible", timeout=25_000)
        went_stale = time.monotonic() - t0
        assert page.evaluate("document.body.classList.contains('gw-wall-stale')")
        assert page.get_attribute("#gw-conn", "class").endswith("gw-conn--open")
        grey = page.eval_on_selector(".gw-mapwrap", "e => getComputedStyle(e).filter")
        assert "grayscale" in grey
        time.sleep(2)
        page.screenshot(path=str(SCREENSHOTS / "wall_stale_1920x1080.png"))
        age = page.inner_text("#gw-wall-age")
        assert any(ch.isdigit() for ch in age)
    finally:
        os.kill(worker, signal.SIGCONT)
    page.wait_for_selector("#gw-wall-banner", state="hidden", timeout=25_000)
    assert not page.evaluate("document.body.classList.contains('gw-wall-stale')")
    assert 2 <= went_stale < 30, went_stale
    assert page.gw_errors == []


def test_push_channel_reconnects_by_itself_after_the_connection_drops(demo, open_wall,
                                                                     city_ctx):
    # short dwell: the sync after reconnecting replays the red cases of the last two minutes
    # (earlier tests sent some), each shown before the new one
    page = open_wall(f"/town/{TOWN}?wall=1&rotate=off&stale=6&dwell=3")
    page.wait_for_function("gridwatch.live.beatAt > 0")  # the server is known to beat
    push = child_pid(demo, "push")
    os.kill(push, signal.SIGSTOP)  # a frozen server: the socket is open but silent
    try:
        page.wait_for_selector("#gw-wall-banner", state="visible", timeout=25_000)
        # the silent socket is given up and a new one tried (the page's own watchdog)
        page.wait_for_function("!document.querySelector('#gw-conn')"
                               ".classList.contains('gw-conn--open')", timeout=30_000)
    finally:
        os.kill(push, signal.SIGCONT)
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=60_000)
    page.wait_for_selector("#gw-wall-banner", state="hidden", timeout=60_000)
    # and the new connection carries live data again
    send_cases(demo, city_ctx, [(6, "fire", "RECONNECT-R-1")])
    page.wait_for_selector(".gw-takeover[data-id='RECONNECT-R-1']", timeout=45_000)
    assert page.gw_errors == []
