"""City view first paint in headless Chromium with 2,958 grids and 10,000 officers: first
contentful paint, map ready (towns drawn + officers layer loaded), bytes transferred, long tasks."""
from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

from bench.common import city
from bench.push_clients import session_cookie, wait_placed
from domain.regions import Level
from tests.support import CHROMIUM, CHROMIUM_ARGS, running_demo

# Installed before any page script: long tasks, and the moment the map is ready (every town
# polygon and label drawn, officers' layer holding markers or clusters), checked each frame.
WATCH = """(towns) => {
  window.__gw = {longtasks: [], ready: null, towns: 0, officers: 0, ws: 0};
  const Socket = window.WebSocket;  // push bytes until ready
  window.WebSocket = function (url, protocols) {
    const ws = new Socket(url, protocols);
    ws.addEventListener('message', m => { if (window.__gw.ready === null) {
      window.__gw.ws += typeof m.data === 'string' ? new Blob([m.data]).size : m.data.size; } });
    return ws;
  };
  window.WebSocket.prototype = Socket.prototype; Object.assign(window.WebSocket, Socket);
  try {
    new PerformanceObserver(l => l.getEntries().forEach(e => window.__gw.longtasks.push(
      [e.startTime, e.duration]))).observe({type: 'longtask', buffered: true});
  } catch (e) {}
  function check() {
    const labels = document.querySelectorAll('.leaflet-gwLabels-pane [data-code]').length;
    const polys = document.querySelectorAll('.leaflet-overlay-pane path').length;
    const offs = document.querySelectorAll('.leaflet-gwOfficers-pane > *').length;
    window.__gw.towns = Math.min(labels, polys); window.__gw.officers = offs;
    if (labels >= towns && polys >= towns && offs > 0) {
      window.__gw.ready = performance.now(); return; }
    requestAnimationFrame(check);
  }
  requestAnimationFrame(check);
}"""


def roster_of(data_dir: Path, n: int) -> int:
    """Grow (or keep) the demo roster to n officers, spread over the grids; returns the count."""
    path = data_dir / "officers.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    grids = sorted({r["grid"] for r in rows})
    for i in range(len(rows), n):
        rows.append({"officer_id": f"O{i + 1:06d}", "name": f"网格员{i + 1}",
                     "grid": grids[(i * 37) % len(grids)]})
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["officer_id", "name", "grid"])
        w.writeheader()
        w.writerows(rows)
    return len(rows)


# What moved over HTTP until the map was ready: the document and every resource that ended by
# then (compressed bytes with headers; 0 for what came from the browser's cache).
UNTIL_READY = """() => [performance.getEntriesByType('navigation')[0],
  ...performance.getEntriesByType('resource')].filter(e => e.responseEnd <= window.__gw.ready)
  .reduce((n, e) => n + (e.transferSize || 0), 0)"""
# The same, resource by resource: [path, bytes], largest first.
RESOURCES = """() => [performance.getEntriesByType('navigation')[0],
  ...performance.getEntriesByType('resource')].filter(e => e.responseEnd <= window.__gw.ready)
  .map(e => [new URL(e.name).pathname, e.transferSize || 0]).sort((a, b) => b[1] - a[1])"""


def load_once(browser: Browser, url: str, cookie: str, towns: int) -> dict[str, Any]:
    """One cold load of the city view in a fresh context, then a warm one (the browser's cache
    kept, as a wall's second load); returns the cold load's figures and the warm one's."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    ctx.add_cookies([{"name": "gw_session", "value": cookie, "url": url}])
    got = load_in(ctx, url, towns)
    warm = load_in(ctx, url, towns)
    ctx.close()
    return {**got, "warm_ready": warm["ready"], "warm_http_ready": warm["http_ready"],
            "warm_ws_ready": warm["ws_ready"]}


def load_in(ctx: Any, url: str, towns: int) -> dict[str, Any]:
    """One load of the city view in a browser context; returns its figures."""
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    wire = {"http": 0, "ws": 0}
    cdp.on("Network.loadingFinished",
           lambda e: wire.__setitem__("http", wire["http"] + e["encodedDataLength"]))
    cdp.on("Network.webSocketFrameReceived",
           lambda e: wire.__setitem__("ws", wire["ws"] + len(e["response"]["payloadData"])))
    page.add_init_script(f"({WATCH})({towns})")
    page.goto(url)
    page.wait_for_function("window.__gw && window.__gw.ready !== null", timeout=120_000,
                           polling=100)
    page.wait_for_selector("#gw-conn.gw-conn--open", state="attached", timeout=60_000)
    page.wait_for_timeout(1500)  # let the push sync land and the tasks after it run
    got = page.evaluate("""() => ({
      fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
      dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
      ready: window.__gw.ready,
      server: Math.max(0, ...performance.getEntriesByType('resource')
        .filter(e => e.name.includes('_dash-update-component')
                     && e.responseEnd <= window.__gw.ready)
        .map(e => e.responseEnd)), towns: window.__gw.towns, officers: window.__gw.officers,
      longtasks: window.__gw.longtasks, ws_ready: window.__gw.ws,
      heap: performance.memory ? performance.memory.usedJSHeapSize : 0})""")
    got.update(wire, http_ready=page.evaluate(UNTIL_READY), resources=page.evaluate(RESOURCES))
    page.close()
    return got


def summarise(runs: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over the runs of the figures of each load."""
    def med(f: Any) -> float:
        return statistics.median(f(r) for r in runs)
    before = [[d for s, d in r["longtasks"] if s <= r["ready"]] for r in runs]
    return {
        "fcp": med(lambda r: r["fcp"] or 0), "dcl": med(lambda r: r["dcl"]),
        "ready": med(lambda r: r["ready"]), "http": med(lambda r: r["http"]),
        "server": med(lambda r: r["server"]),
        "ws": med(lambda r: r["ws"]), "heap": med(lambda r: r["heap"]),
        "http_ready": med(lambda r: r["http_ready"]), "ws_ready": med(lambda r: r["ws_ready"]),
        "warm_ready": med(lambda r: r["warm_ready"]),
        "warm_http_ready": med(lambda r: r["warm_http_ready"]),
        "warm_ws_ready": med(lambda r: r["warm_ws_ready"]),
        "lt_n": statistics.median(len(b) for b in before),
        "lt_sum": statistics.median(sum(b) for b in before),
        "lt_max": statistics.median(max(b, default=0) for b in before),
        "tbt": statistics.median(sum(max(0, d - 50) for d in b) for b in before),
        "lt_all": statistics.median(sum(d for _, d in r["longtasks"]) for r in runs),
        "officers": med(lambda r: r["officers"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--officers", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--wall", action="store_true", help="the city wall instead of the desk")
    ap.add_argument("--resources", action="store_true",
                    help="list what the first cold load moved until the map was ready")
    args = ap.parse_args()
    data_dir, ctx = city()
    officers = roster_of(data_dir, args.officers)
    grids = len(ctx.hierarchy.at_level(Level.GRID))
    run_dir = Path(tempfile.mkdtemp(prefix="gw-paint-"))
    with running_demo(data_dir, run_dir, "--history-days", "1", timeout=180) as demo, \
            sync_playwright() as p:
        cookie = session_cookie(demo.url)
        wait_placed(demo.url, officers)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = demo.url + ("/?wall=1&rotate=off" if args.wall else "/")
        runs = [load_once(browser, page, cookie, len(ctx.towns)) for _ in range(args.reps)]
        browser.close()
    s = summarise(runs)
    if args.resources:
        for path, size in runs[0]["resources"]:
            print(f"{size / 1024:8.1f} KB  {path}")
    print(f"city {'wall' if args.wall else 'view (desk)'}, {grids:,} grids, {officers:,} "
          f"officers (simulated, all placed), 1920×1080, cold cache, median of {len(runs)} loads")
    print(f"first contentful paint {s['fcp']:.0f} ms; DOMContentLoaded {s['dcl']:.0f} ms; "
          f"map ready (33 towns drawn + officers layer shown) {s['ready']:.0f} ms, of which "
          f"waiting for the page's Dash callback answers until {s['server']:.0f} ms")
    print(f"moved until map ready: {s['http_ready'] / 1024:.0f} KB over HTTP (compressed, with "
          f"headers) + {s['ws_ready'] / 1024:.0f} KB of push = "
          f"{(s['http_ready'] + s['ws_ready']) / 1024:.0f} KB")
    print(f"until the push is connected + 1.5 s: {s['http'] / 1024:.0f} KB over HTTP, "
          f"{s['ws'] / 1024:.0f} KB of push WebSocket messages (sync + deltas); "
          f"JS heap {s['heap'] / 2**20:.0f} MB")
    print(f"warm load (the browser's cache kept): map ready {s['warm_ready']:.0f} ms, "
          f"{(s['warm_http_ready'] + s['warm_ws_ready']) / 1024:.0f} KB moved until then")
    print(f"main-thread long tasks before map ready: {s['lt_n']:.0f}, {s['lt_sum']:.0f} ms in all, "
          f"longest {s['lt_max']:.0f} ms, blocking time {s['tbt']:.0f} ms; "
          f"until the push is connected + 1.5 s {s['lt_all']:.0f} ms")


if __name__ == "__main__":
    main()
