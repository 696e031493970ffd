"""Browser test: the real push process is killed (-9) and restarted; the open page reconnects,
resyncs and shows new live data without a reload."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from domain.access import Role
from feeds.accounts import auth
from feeds.store import keys
from feeds.store.client import sync_client
from feeds.store.embedded import free_port, wait_port
from tests.support import ADMIN_PASSWORD, CHROMIUM, login

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]
TIMEOUT = 30_000


def start(name: str, data_dir: Path, redis_url: str, port: int, live_port: int,
          log: Path) -> subprocess.Popen:
    """`gridwatch run NAME` as a child process, waited for on its port."""
    args = [sys.executable, "-m", "gridwatch.cli", "run", name, "--data-dir", str(data_dir),
            "--redis-url", redis_url, "--port", str(port), "--live-port", str(live_port)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    wait_port(live_port if name == "push" else port, 90)
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, sig)
        proc.wait(20)


@pytest.fixture()
def web_and_push(demo_dir: Path, redis_url: str, tmp_path: Path) -> Iterator[dict]:
    """The web app and the push channel as their own processes on free ports."""
    client = sync_client(redis_url)
    auth.add_user(client, "admin", ADMIN_PASSWORD, Role.ADMIN, "441900")
    port, live_port = free_port(), free_port()
    procs = {"web": start("web", demo_dir, redis_url, port, live_port, tmp_path / "web.log")}
    try:
        procs["push"] = start("push", demo_dir, redis_url, port, live_port,
                              tmp_path / "push.log")
        yield {"procs": procs, "url": f"http://127.0.0.1:{port}", "live_port": live_port,
               "port": port,
               "log": tmp_path / "push.log"}
    finally:
        for p in procs.values():
            stop(p)


# the page's officers are the push channel's per-viewport clusters: at city zoom, a count per
# town of the officers placed there
STATE = "() => ({frames: window.gridwatch.live.stats.frames, conn: window.gridwatch.live.conn," \
        " marker: window.__mark === 1, placed: ((window.gridwatch.live.officerView || [])" \
        ".find(f => f.properties.code === '%s') || {properties: {point_count: 0}})" \
        ".properties.point_count})"


def test_page_reconnects_and_resyncs_after_the_push_process_restarts(
        browser, web_and_push, demo_dir, redis_url, city_ctx):
    officer = city_ctx.roster["O000040"]
    town = officer.grid[:9]
    client = sync_client(redis_url)
    client.hdel(keys.officers(town), officer.officer_id)  # not placed until the test moves it
    page = browser.new_page(bypass_csp=True)
    login(page, web_and_push["url"])
    page.goto(web_and_push["url"] + "/city")
    page.wait_for_function("window.gridwatch.live.conn === 'open' && "
                           "window.gridwatch.live.stats.frames > 0", timeout=TIMEOUT)
    page.evaluate("() => { window.__mark = 1; }")
    procs = web_and_push["procs"]
    stop(procs["push"], signal.SIGKILL)
    page.wait_for_function("window.gridwatch.live.conn !== 'open'", timeout=TIMEOUT)
    before = page.evaluate(STATE % town)
    # the web port too: the push channel accepts only the dashboard's origin
    procs["push"] = start("push", demo_dir, redis_url, web_and_push["port"],
                          web_and_push["live_port"],
                          web_and_push["log"])
    page.wait_for_function("window.gridwatch.live.conn === 'open'", timeout=60_000)
    lon = 113.7512
    client.xadd(keys.live(town), {"m": orjson.dumps({
        "ts": time.time(), "town": town, "officers": [[officer.officer_id, lon, 23.02, 1]]})})
    page.wait_for_function(f"({STATE % town})().placed === {before['placed'] + 1}",
                           timeout=TIMEOUT)  # the officer, placed now, counted in its town
    after = page.evaluate(STATE % town)
    assert after["marker"], "the page was reloaded"
    assert after["frames"] >= before["frames"] + 2  # the resync and the delta
    page.close()
