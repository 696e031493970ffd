"""Send → screen latency: a case sent to the gateway until its marker is on the city map."""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from bench.common import city
from feeds.datum import to_datum
from feeds.locate import GridIndex
from feeds.terminal_client import TerminalClient
from tests.support import CHROMIUM, CHROMIUM_ARGS, TERMINAL_TOKEN, login, running_demo

WATCH = """() => { window.__seen = {};
  new MutationObserver(ms => { const t = Date.now();
    for (const m of ms) for (const n of m.addedNodes) {
      if (!n.querySelectorAll) continue;
      for (const e of [n, ...n.querySelectorAll('[data-id]')]) {
        const id = e.getAttribute && e.getAttribute('data-id');
        if (id && id.startsWith('LAT-') && !(id in window.__seen)) window.__seen[id] = t; } } })
  .observe(document.body, {childList: true, subtree: true}); }"""


def send_one(url: str, msg: dict) -> float:
    """Send one message; returns the wall-clock ms at which it was sent."""
    async def go() -> float:
        c = TerminalClient(url, TERMINAL_TOKEN)
        await c.open()
        t = time.time() * 1000
        await c.send(msg)
        await c.close()
        return t
    return asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--gap", type=float, default=1.3, help="seconds between cases")
    args = ap.parse_args()
    data_dir, ctx = city()
    index = GridIndex(ctx.city)
    rng = np.random.default_rng(5)
    officers = list(ctx.roster.values())
    run_dir = Path(tempfile.mkdtemp(prefix="gw-latency-"))
    with running_demo(data_dir, run_dir, "--incidents-per-hour", "300",
                      "--history-days", "0") as demo, \
            sync_playwright() as p, ThreadPoolExecutor(1) as pool:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        login(page, demo.url)
        page.goto(demo.url + "/")
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=30_000)
        time.sleep(15)  # let the simulator reach its steady Dongguan load
        page.evaluate(WATCH)
        sent: dict[str, float] = {}
        for i in range(args.samples):
            o = officers[int(rng.integers(len(officers)))]
            lon, lat = to_datum(*index.random_point(o.grid, rng), ctx.hierarchy.datum, "wgs84")
            iid = f"LAT-{i}"
            msg = {"type": "incident", "msg_id": f"lat-{i}", "incident_id": iid,
                   "officer_id": o.officer_id, "ts": time.time(), "lat": lat, "lon": lon,
                   "category": "fire", "title": f"延迟测试 {i}"}
            sent[iid] = pool.submit(send_one, demo.gateway_url, msg).result(30)
            page.wait_for_timeout(args.gap * 1000)
        page.wait_for_timeout(3000)
        seen = page.evaluate("window.__seen")
        health = page.evaluate("fetch('/health').then(r => r.json())")
        browser.close()
    lat_ms = sorted(seen[k] - sent[k] for k in sent if k in seen)
    missing = len(sent) - len(lat_ms)
    q = statistics.quantiles(lat_ms, n=100, method="inclusive") if len(lat_ms) > 1 else lat_ms * 99
    print(f"send → marker on screen, {len(lat_ms)} cases at Dongguan load "
          f"(9,756 officers / 10 s ≈ 976 positions/s + simulated cases): "
          f"p50 {statistics.median(lat_ms):.0f} ms, p99 {q[98]:.0f} ms, max {lat_ms[-1]:.0f} ms, "
          f"missing {missing}; slowest {[round(x) for x in lat_ms[-5:]]}")
    print(f"feed lag at the end: {health.get('feed_lag_s')} s, "
          f"worker backlog {health.get('worker_pending')}")


if __name__ == "__main__":
    main()
