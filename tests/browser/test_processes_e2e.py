"""End to end with two processes of each server: the page survives its push process's death."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from tests.conftest import ON_CLUSTER
from tests.support import CHROMIUM, login, running_demo, send_messages

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium"),
              # ten server processes take about a minute to start on two cores: run this once,
              # in the deployment-like pass (make test-cluster; CI runs both passes)
              pytest.mark.skipif(not ON_CLUSTER, reason="runs in make test-cluster")]


def push_holding(demo_pid: int, port: int) -> list[int]:
    """PIDs of the demo's push processes holding an established connection on `port`."""
    out = []
    for p in psutil.Process(demo_pid).children(recursive=True):
        try:
            cmd = p.cmdline()
            if "push" in cmd and "--process-index" in cmd and any(
                    c.status == "ESTABLISHED" and c.laddr.port == port
                    for c in p.net_connections(kind="tcp")):
                out.append(p.pid)
        except psutil.NoSuchProcess:
            continue
    return out


def push_processes(demo_pid: int) -> list[int]:
    """PIDs of the demo's push processes (children of the push supervisor)."""
    out = []
    for p in psutil.Process(demo_pid).children(recursive=True):
        try:
            cmd = p.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "push" in cmd and "--process-index" in cmd and p.status() != psutil.STATUS_ZOMBIE:
            out.append(p.pid)
    return out


def wait_for(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (got := cond()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return got


def case(ctx, index: GridIndex, n: int) -> list[dict]:
    officer = ctx.roster["O000042"]
    lon, lat = index.random_point(officer.grid, np.random.default_rng(n))
    wlon, wlat = to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")
    return [{"type": "incident", "msg_id": f"proc-i{n}", "incident_id": f"PROC-FIRE-{n}",
             "officer_id": officer.officer_id, "ts": time.time(), "lat": wlat, "lon": wlon,
             "category": "fire", "title": f"火情 {n}"}]


def test_page_keeps_updating_after_its_push_process_is_killed(
        redis_url, demo_dir: Path, tmp_path: Path, browser, city_ctx):
    index = GridIndex(city_ctx.city)
    with running_demo(demo_dir, tmp_path / "demo", "--no-sim", "--history-days", "0",
                      "--processes", "2", "--redis-url", redis_url, timeout=180) as demo:
        page = browser.new_page(bypass_csp=True, viewport={"width": 1600, "height": 900})
        login(page, demo.url)
        page.goto(demo.url + "/")
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=30_000)
        assert send_messages(demo.gateway_url, case(city_ctx, index, 1)) == [{"ack": "proc-i1"}]
        page.wait_for_selector(".gw-inc-red [data-id='PROC-FIRE-1']", timeout=10_000)

        (victim,) = wait_for(lambda: push_holding(demo.pid, demo.live_port), 20,
                             "the push process holding the page's socket")
        os.kill(victim, signal.SIGKILL)  # returns before the kernel has torn it down
        wait_for(lambda: victim not in push_holding(demo.pid, demo.live_port), 10,
                 "the killed push process to let go of its sockets")
        holder = wait_for(lambda: push_holding(demo.pid, demo.live_port), 60,
                          "the page to reconnect to a push process")
        assert victim not in holder
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=30_000)

        assert send_messages(demo.gateway_url, case(city_ctx, index, 2)) == [{"ack": "proc-i2"}]
        page.wait_for_selector(".gw-inc-red [data-id='PROC-FIRE-2']", timeout=10_000)
        assert page.query_selector(".gw-inc-red [data-id='PROC-FIRE-1']") is not None
        page.close()
        wait_for(lambda: len(push_processes(demo.pid)) == 2 and victim not in push_processes(
            demo.pid), 60, "the supervisor to start the killed push process again")
