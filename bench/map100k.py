"""Map at province scale: 100,000 officers streaming positions, the city map in Chromium.

`python -m bench.map100k` writes a roster of 100,000 officers over the demo city's grids,
runs the whole demo with it (the simulator sends every officer's fix every 10 s, about
10,000 positions/s), opens the city map in headless Chromium and records, while positions
stream: long tasks (main-thread blocks over 50 ms), gaps between animation frames and the
officer layer's update time; then the same during pans and zooms. Responsive means no long
task over 200 ms.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import redis
from playwright.sync_api import Page, sync_playwright

from bench.common import city
from bench.latency import stored_positions
from domain.model import Officer
from feeds.geo.roster import save_officers
from tests.support import CHROMIUM, CHROMIUM_ARGS, login, running_demo

WATCH = """() => { window.__long = []; window.__gaps = [];
  new PerformanceObserver(l => { for (const e of l.getEntries())
    window.__long.push([e.startTime, e.duration]); }).observe({entryTypes: ['longtask']});
  let last = performance.now();
  const tick = t => { window.__gaps.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
RESET = "() => { window.__long = []; window.__gaps = []; }"
PANS = """async () => { const map = window.gridwatch.live.leafletMap;
  const wait = ms => new Promise(r => setTimeout(r, ms));
  const steps = [[300, 0], [0, 250], [-300, 0], [0, -250]];
  for (let round = 0; round < 2; round++) {
    for (const [x, y] of steps) { map.panBy([x, y], {animate: false}); await wait(700); }
    map.zoomIn(1, {animate: false}); await wait(900);
    map.panBy([200, 150], {animate: false}); await wait(700);
    map.zoomIn(1, {animate: false}); await wait(900);
    map.zoomOut(2, {animate: false}); await wait(900); } }"""


def roster(data_dir: Path, n: int) -> list[Officer]:
    """n officers spread evenly over the city's grids (ids O000001…), written to the dir."""
    _, ctx = city(data_dir)
    grids = sorted({o.grid for o in ctx.roster.values()})
    officers = [Officer(f"O{i + 1:06d}", f"警员{i + 1}", grids[i % len(grids)]) for i in range(n)]
    save_officers(officers, data_dir / "officers.csv")
    return officers


def sample(page: Page, seconds: float) -> dict[str, float]:
    """Long tasks and frame gaps over the next `seconds` (the page keeps streaming)."""
    page.evaluate(RESET)
    page.wait_for_timeout(seconds * 1000)
    return summary(page)


def summary(page: Page) -> dict[str, float]:
    """Figures from what the page recorded since the last reset."""
    longs = sorted(d for _, d in page.evaluate("window.__long"))
    gaps = sorted(page.evaluate("window.__gaps"))
    stats = page.evaluate("window.gridwatch.live.stats")
    shown = page.evaluate("""() => { const v = window.gridwatch.live.officerView;
      const fs = v || Array.from(window.gridwatch.live.officers.values());
      return [fs.length, fs.reduce((n, f) => n + (f.properties.point_count || 1), 0)]; }""")
    return {"long_tasks": len(longs), "longest_ms": longs[-1] if longs else 0.0,
            "over_200ms": sum(1 for d in longs if d > 200),
            "frame_gap_p95_ms": gaps[int(0.95 * (len(gaps) - 1))] if gaps else 0.0,
            "frame_gap_max_ms": gaps[-1] if gaps else 0.0,
            "officer_layer_ms": float(stats.get("officersMs", 0.0)),
            "frames": float(stats.get("frames", 0)), "features": shown[0], "officers": shown[1]}


def line(name: str, s: dict[str, float]) -> str:
    """One printed line of figures."""
    return (f"{name}: {s['long_tasks']:.0f} long tasks, longest {s['longest_ms']:.0f} ms, "
            f"{s['over_200ms']:.0f} over 200 ms; frame gaps p95 {s['frame_gap_p95_ms']:.0f} ms, "
            f"max {s['frame_gap_max_ms']:.0f} ms; last officer-layer update "
            f"{s['officer_layer_ms']:.0f} ms ({s['features']:,} features for "
            f"{s['officers']:,} officers)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--officers", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=30, help="streaming sample length")
    ap.add_argument("--position-interval", type=float, default=10.0)
    args = ap.parse_args()
    city_dir = Path(tempfile.mkdtemp(prefix="gw-map100k-city-"))
    officers = roster(city_dir, args.officers)
    run_dir = Path(tempfile.mkdtemp(prefix="gw-map100k-"))
    with running_demo(city_dir, run_dir, "--history-days", "0", "--position-interval",
                      str(args.position_interval), timeout=300) as demo, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        login(page, demo.url)
        page.evaluate(WATCH)
        started = time.perf_counter()
        page.goto(demo.url + "/")
        page.evaluate(WATCH)
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=120_000)
        page.wait_for_function("window.gridwatch.live.stats.flushes > 0", timeout=120_000)
        load_s = time.perf_counter() - started
        first = summary(page)
        page.wait_for_function(f"""() => {{ const l = window.gridwatch.live;
          const fs = l.officerView || Array.from(l.officers.values());
          return fs.reduce((n, f) => n + (f.properties.point_count || 1), 0) >=
            {int(0.9 * args.officers)}; }}""", timeout=900_000, polling=2000)
        live_s = time.perf_counter() - started
        page.wait_for_timeout(5_000)
        store = redis.Redis.from_url((run_dir / "redis.url").read_text().strip())
        towns = sorted({o.grid[:9] for o in officers})
        count0, t0 = stored_positions(store, towns), time.perf_counter()
        streaming = sample(page, args.seconds)
        stored = (stored_positions(store, towns) - count0) / (time.perf_counter() - t0)
        page.evaluate(RESET)
        page.evaluate(PANS)
        pans = summary(page)
        layer = page.evaluate("document.querySelectorAll('.leaflet-marker-icon, "
                              "path.leaflet-interactive').length")
        browser.close()
    print(f"{args.officers:,} officers, a fix each every {args.position_interval:g} s "
          f"({args.officers / args.position_interval:,.0f} positions/s offered, {stored:,.0f}/s "
          f"stored while streaming); "
          f"city map open and live in {load_s:.1f} s, 90 % of officers on it after "
          f"{live_s:.0f} s")
    print(line("page load", first))
    print(line(f"streaming {args.seconds:g} s", streaming))
    print(line("pans and zooms", pans))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores")
    print(f"layer: per-viewport clusters; "
          f"markers and shapes on the map at the end: {layer}; "
          f"all long tasks ≤ 200 ms: {max(streaming['longest_ms'], pans['longest_ms']) <= 200}")


if __name__ == "__main__":
    main()
