"""Send → screen latency: a case sent to the gateway until the city desk shows it.

`python -m bench.latency [--load F]` runs the whole demo at F times Dongguan load (9,756
officers sending a fix every 10/F s, 300·F simulated cases an hour, after a past of
`--history-per-hour` 100), opens the city map in headless Chromium, sends cases one at a time
and times each until the desk shows it: its marker in the DOM (red ones: city zoom draws only
those) or its row in the case list, whichever first.
The cases' categories follow the simulator's mix, so few are red: each red case is flagged
for video review and cut into clips, which at one case a second would be ~50× the real
rate of red cases and measure the clip encoder rather than the map.
It also prints where the time went (gateway, worker, push, page: from the streams' entry ids
and the page's frame arrivals), the positions/s the gateway really stored meanwhile, the
page's long tasks and the CPU each part of the run used.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import redis
import requests
from playwright.sync_api import sync_playwright

from bench.common import city
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.terminal_client import TerminalClient
from feeds.sim.simulator import WEIGHTS
from feeds.store import keys
from tests.support import CHROMIUM, CHROMIUM_ARGS, TERMINAL_TOKEN, login, running_demo

WATCH = """() => { window.__seen = {};
  new MutationObserver(ms => { const t = Date.now();
    for (const m of ms) for (const n of m.addedNodes) {
      if (!n.querySelectorAll) continue;
      for (const e of [n, ...n.querySelectorAll('[data-id]')]) {
        const id = e.getAttribute && e.getAttribute('data-id');
        if (id && id.startsWith('LAT-') && !(id in window.__seen)) window.__seen[id] = t; } } })
  .observe(document.body, {childList: true, subtree: true});
  window.__arrived = {};  // when a frame carrying the case reached the page
  const live = window.gridwatch.live, apply = live.apply;
  live.apply = function (f) {
    const t = Date.now();
    for (const inc of (f && f.incidents) || []) {
      const id = inc && String(inc.id);
      if (id && id.startsWith('LAT-') && !(id in window.__arrived)) window.__arrived[id] = t; }
    return apply(f); };
  // at city zoom only red cases get markers: the others show as a row of the desk's case list
  const grids = window.gridwatch.grids, sync = grids.syncRows;
  grids.syncRows = function (id, rows, tries) {
    const tx = sync(id, rows, tries), t = Date.now();
    for (const r of (tx && tx.add) || []) {
      const rid = String(r.id);
      if (rid.startsWith('LAT-') && !(rid in window.__seen)) window.__seen[rid] = t; }
    return tx; };
  window.__long = [];
  new PerformanceObserver(l => { for (const e of l.getEntries()) window.__long.push(e.duration); })
  .observe({entryTypes: ['longtask']}); }"""


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


def stored_positions(client: redis.Redis, towns: list[str]) -> int:
    """Entries now in the towns' position streams (trimmed by age: hours, so a count)."""
    pipe = client.pipeline(transaction=False)
    for t in towns:
        pipe.xlen(keys.positions(t))
    return sum(pipe.execute())


def settled_open_cases(client: redis.Redis, towns: list[str], demo, history: bool,
                       timeout_s: float = 600.0) -> int:
    """Wait until the demo's history is in (the simulator has sent it and the worker's backlog
    is down to a few seconds of live load); the open cases then."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        sent = not history or (demo.data_dir / ".history-sent").exists()
        if sent and worker_pending(demo) < 20_000:
            return sum(client.zcard(keys.open_incidents(t)) for t in towns)
        time.sleep(0.5)
    raise RuntimeError(f"the demo's history did not settle in {timeout_s:.0f} s")


def first_seen(store: redis.Redis, stream_keys: list[str], since_ms: int,
               ids: list[str]) -> dict[str, float]:
    """When (ms, from the entry id) each case id first appears in the given streams."""
    out: dict[str, float] = {}
    want = {f'"{i}"'.encode(): i for i in ids}
    for key in stream_keys:
        for eid, fields in store.xrange(key, min=str(since_ms)):
            blob = b"".join(fields.values())
            for quoted, iid in want.items():
                if quoted in blob:
                    t = float(eid.split(b"-")[0])
                    out[iid] = min(out.get(iid, t), t)
    return out


def component(proc: psutil.Process) -> str:
    """A process's part in the run: a Gridwatch component, Redis, Chromium, or the bench
    itself (this script and its Playwright driver)."""
    args = proc.cmdline()
    if "run" in args and args.index("run") + 1 < len(args):
        return args[args.index("run") + 1]
    if args and "redis-server" in args[0]:
        return "redis"
    if args and "chrom" in Path(args[0]).name:
        return "chromium"
    return "demo" if "demo" in args else "bench"


def cpu_seconds() -> dict[str, float]:
    """CPU seconds so far by part, over this process's tree (the demo it started and its
    children, Redis among them; the Playwright driver and Chromium)."""
    out: dict[str, float] = {}
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        try:
            name, t = component(proc), proc.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        out[name] = out.get(name, 0.0) + t.user + t.system
    return out


def send_cases(page, pool: ThreadPoolExecutor, demo, ctx, args: argparse.Namespace
               ) -> dict[str, float]:
    """Send `args.samples` cases of the simulator's category mix, one every `args.gap` s;
    when each was sent (ms since the epoch, as the page's clock), by case id."""
    index = GridIndex(ctx.city)
    rng = np.random.default_rng(5)
    officers = list(ctx.roster.values())
    sent: dict[str, float] = {}
    cats = list(WEIGHTS)
    share = np.array([WEIGHTS[c] for c in cats], dtype=float)
    for i in range(args.samples):
        o = officers[int(rng.integers(len(officers)))]
        lon, lat = to_datum(*index.random_point(o.grid, rng), ctx.hierarchy.datum, "wgs84")
        iid = f"LAT-{i}"
        msg = {"type": "incident", "msg_id": f"lat-{i}", "incident_id": iid,
               "officer_id": o.officer_id, "ts": time.time(), "lat": lat, "lon": lon,
               "category": cats[int(rng.choice(len(cats), p=share / share.sum()))],
               "title": f"延迟测试 {i}"}
        sent[iid] = pool.submit(send_one, demo.gateway_url, msg).result(30)
        page.wait_for_timeout(args.gap * 1000)
    return sent


def worker_pending(demo) -> int:
    """Entries the worker has read and not yet applied (GET /health)."""
    return int(requests.get(demo.url + "/health", timeout=10).json()["worker_pending"])


def watch_backlog(demo, stop: threading.Event, out: list[int]) -> None:
    """Sample the worker's backlog each second until `stop`."""
    while not stop.wait(1.0):
        out.append(worker_pending(demo))


def drained_after(demo, timeout_s: float = 10.0) -> float | None:
    """Seconds until the backlog is seen at 0 (the load still running), None if not in time."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if worker_pending(demo) == 0:
            return time.monotonic() - start
        time.sleep(0.05)
    return None


def measure(page, demo, store: redis.Redis, ctx, args: argparse.Namespace) -> dict:
    """Send the cases and collect what the page, Redis and the process tree saw meanwhile."""
    page.evaluate(WATCH)
    count0, t0 = stored_positions(store, ctx.towns), time.perf_counter()
    cpu0, t0_wall = cpu_seconds(), time.time()
    drawn0 = page.evaluate("window.gridwatch.live.stats.casesDrawn")
    stop, backlog = threading.Event(), []
    sampler = threading.Thread(target=watch_backlog, args=(demo, stop, backlog), daemon=True)
    sampler.start()
    with ThreadPoolExecutor(1) as pool:
        sent = send_cases(page, pool, demo, ctx, args)
    stop.set()
    elapsed = time.perf_counter() - t0
    run = {"sent": sent, "elapsed": elapsed, "cpu0": cpu0, "cpu1": cpu_seconds(),
           "stored": (stored_positions(store, ctx.towns) - count0) / elapsed,
           "drawn": page.evaluate("window.gridwatch.live.stats.casesDrawn") - drawn0,
           "backlog": backlog or [0], "drained": drained_after(demo)}
    page.wait_for_timeout(3000)
    run.update(seen=page.evaluate("window.__seen"), arrived=page.evaluate("window.__arrived"),
               long_tasks=sorted(page.evaluate("window.__long")),
               health=page.evaluate("fetch('/health').then(r => r.json())"))
    since = int(t0_wall * 1000)
    run["stored_at"] = first_seen(store, [keys.incidents_in(t) for t in ctx.towns], since,
                                  list(sent))
    run["live_at"] = first_seen(store, [keys.live(t) for t in ctx.towns], since, list(sent))
    return run


def report(run: dict, ctx, args: argparse.Namespace, open_cases: int) -> None:
    """Print send → screen percentiles, the stages, long tasks and CPU by part."""
    sent, seen, elapsed = run["sent"], run["seen"], run["elapsed"]
    lat_ms = sorted(seen[k] - sent[k] for k in sent if k in seen)
    missing = len(sent) - len(lat_ms)
    q = statistics.quantiles(lat_ms, n=100, method="inclusive") if len(lat_ms) > 1 else lat_ms * 99
    print(f"send → marker on screen, {len(lat_ms)} cases at {args.load:g}× Dongguan load "
          f"({len(ctx.roster):,} officers every {10 / args.load:g} s, {300 * args.load:g} "
          f"cases/h, {open_cases:,} open on the map; stored {run['stored']:,.0f} positions/s "
          f"meanwhile): p50 {statistics.median(lat_ms):.0f} ms, p99 {q[98]:.0f} ms, max "
          f"{lat_ms[-1]:.0f} ms, missing {missing}; slowest {[round(x) for x in lat_ms[-5:]]}")
    stages = [("send → stored by the gateway", sent, run["stored_at"]),
              ("stored → published by the worker", run["stored_at"], run["live_at"]),
              ("published → frame in the page (push)", run["live_at"], run["arrived"]),
              ("frame → marker drawn", run["arrived"], seen)]
    for name, start, end in stages:
        d = sorted(end[k] - start[k] for k in sent if k in start and k in end)
        if d:
            print(f"  {name}: p50 {statistics.median(d):.0f} ms, max {d[-1]:.0f} ms")
    print(f"case markers drawn meanwhile: {run['drawn']:,} ({run['drawn'] / elapsed:.1f}/s)")
    long_tasks = run["long_tasks"]
    print(f"page long tasks: {len(long_tasks)}, longest {[round(x) for x in long_tasks[-5:]]} ms")
    cpu0, cpu1 = run["cpu0"], run["cpu1"]
    use = sorted(((cpu1[k] - cpu0.get(k, 0.0)) / elapsed, k) for k in cpu1)[::-1]
    print("CPU while measuring (cores): " + ", ".join(f"{k} {v:.2f}" for v, k in use if v >= 0.01)
          + f"; total {sum(v for v, _ in use):.2f} of {os.cpu_count()}")
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores")
    backlog, drained = run["backlog"], run["drained"]
    print(f"worker backlog (read, not yet applied) each second: median "
          f"{statistics.median(backlog):,.0f}, max {max(backlog):,}; at the end "
          + (f"0 within {drained:.1f} s (the load still running)" if drained is not None
             else "never 0 in 10 s: the worker is behind")
          + f"; feed lag {run['health'].get('feed_lag_s')} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--samples", type=int, default=40)
    ap.add_argument("--gap", type=float, default=1.3, help="seconds between cases")
    ap.add_argument("--load", type=float, default=1.0, help="times Dongguan load (1 to 10)")
    ap.add_argument("--history-days", type=int, default=30,
                    help="days of history the demo sends first")
    ap.add_argument("--history-per-hour", type=float, default=100,
                    help="the history's cases an hour (100: the demo's; open cases on the map "
                         "grow with it)")
    args = ap.parse_args()
    data_dir, ctx = city()
    run_dir = Path(tempfile.mkdtemp(prefix="gw-latency-"))
    with running_demo(data_dir, run_dir, "--incidents-per-hour", str(300 * args.load),
                      "--position-interval", str(10 / args.load),
                      "--history-days", str(args.history_days),
                      "--history-per-hour", str(args.history_per_hour)) as demo, \
            sync_playwright() as p:
        store = redis.Redis.from_url((run_dir / "redis.url").read_text().strip())
        open_cases = settled_open_cases(store, ctx.towns, demo, args.history_days > 0)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        login(page, demo.url)
        page.goto(demo.url + "/")
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=30_000)
        time.sleep(15)  # let the simulator reach its steady Dongguan load
        run = measure(page, demo, store, ctx, args)
        browser.close()
    report(run, ctx, args, open_cases)


if __name__ == "__main__":
    main()
