"""Wall soak: a rotating city wall against a demo at Dongguan load for N minutes; prints the page's
JS heap (after a forced GC), DOM nodes and listeners at start, every minute and at the end.

    python -m bench.wall_soak                  # 10 minutes, real dwell (20 s)
    python -m bench.wall_soak --compressed     # dwell 3 s, a red case every 15 s and a dropped
                                               # push socket every minute: days of wall life
                                               # (rotations, takeovers, reconnects) per hour
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

from bench.common import city
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.terminal_client import TerminalClient
from tests.support import CHROMIUM, CHROMIUM_ARGS, TERMINAL_TOKEN, login, running_demo

log = logging.getLogger(__name__)

MB = 1024 * 1024


def send_red(gateway_url: str, ctx, rng: np.random.Generator, n: int) -> None:  # noqa: ANN001
    """One new fire case (red) from a random officer, through the gateway."""
    oid = list(ctx.roster)[int(rng.integers(len(ctx.roster)))]
    lon, lat = GridIndex(ctx.city).random_point(ctx.roster[oid].grid, rng)
    wlon, wlat = to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")
    msg = {"type": "incident", "msg_id": f"soak-{n}", "incident_id": f"SOAK-{n}",
           "officer_id": oid, "ts": time.time(), "lat": wlat, "lon": wlon,
           "category": "fire", "title": f"soak red case {n}"}

    async def go() -> None:
        c = TerminalClient(gateway_url, TERMINAL_TOKEN)
        try:
            await c.send(msg)
        finally:
            await c.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result(30)


def measure(cdp, page) -> dict[str, float]:  # noqa: ANN001
    """JS heap after a full GC, DOM counters and the wall's own bounded structures."""
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    dom = cdp.send("Memory.getDOMCounters")
    wall = page.evaluate("""() => ({trail: gridwatch.wall.trail.length,
        seen: gridwatch.wall.seen.size, queue: gridwatch.wall.queue.length,
        officers: gridwatch.live.officers.size, incidents: gridwatch.live.incidents.size,
        frames: gridwatch.live.stats.frames})""")
    return {"heap_mb": heap["usedSize"] / MB, "nodes": dom["nodes"],
            "listeners": dom["jsEventListeners"], "documents": dom["documents"], **wall}


def line(label: str, t: float, m: dict[str, float]) -> str:
    """One row of the report."""
    return (f"{label:>6} t={t:7.0f}s heap={m['heap_mb']:7.2f} MB nodes={m['nodes']:6d} "
            f"listeners={m['listeners']:5d} docs={m['documents']:3d} "
            f"officers={m['officers']:5d} cases={m['incidents']:4d} frames={m['frames']:6d} "
            f"trail={m['trail']:3d} seen={m['seen']:3d}")


def soak(minutes: float, compressed: bool, data_dir: Path) -> None:
    """Run the demo and one wall page; print the figures."""
    city_dir, ctx = city()
    dwell = 3 if compressed else 20
    rng = np.random.default_rng(5)
    with running_demo(city_dir, data_dir, "--history-days", "0", timeout=300) as demo, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, demo.url)
        page.goto(f"{demo.url}/?wall=1&dwell={dwell}")
        page.wait_for_selector("#gw-conn.gw-conn--open", timeout=120_000)
        cdp = page.context.new_cdp_session(page)
        time.sleep(10)  # first sync applied, first layers drawn
        t0 = time.monotonic()
        start = measure(cdp, page)
        print(line("start", 0, start), flush=True)
        sent = drops = 0
        next_red, next_drop, next_report = t0 + 15, t0 + 60, t0 + 60
        end = t0 + minutes * 60
        while (now := time.monotonic()) < end:
            if compressed and now >= next_red:
                sent += 1
                send_red(demo.gateway_url, ctx, rng, sent)
                next_red = now + 15
            if compressed and now >= next_drop:  # the socket drops: the page must reconnect
                drops += page.evaluate("gridwatch.live.ws ? (gridwatch.live.ws.close(), 1) : 0")
                next_drop = now + 60
            if now >= next_report:
                print(line("", now - t0, measure(cdp, page)), flush=True)
                next_report = now + 60
            page.wait_for_timeout(1000)
        final = measure(cdp, page)
        shown = page.evaluate("gridwatch.wall.trail.length")
        conn = page.get_attribute("#gw-conn", "class")
        browser.close()
    took = time.monotonic() - t0
    print(line("end", took, final))
    growth = final["heap_mb"] - start["heap_mb"]
    print(f"wall_soak minutes={took / 60:.1f} compressed={int(compressed)} dwell_s={dwell} "
          f"heap_start_mb={start['heap_mb']:.2f} heap_end_mb={final['heap_mb']:.2f} "
          f"heap_growth_mb={growth:+.2f} ({100 * growth / start['heap_mb']:+.1f} %) "
          f"nodes {start['nodes']}->{final['nodes']} "
          f"listeners {start['listeners']}->{final['listeners']} "
          f"red_cases_sent={sent} socket_drops={drops} views_in_trail={shown} "
          f"conn_at_end={conn.split('--')[-1]} page_errors={len(errors)}")


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="soak length (default 10)")
    ap.add_argument("--compressed", action="store_true",
                    help="dwell 3 s, a red case every 15 s, a dropped socket every minute")
    ap.add_argument("--data-dir", type=Path, default=None, help="demo data dir (default: temp)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    soak(args.minutes, args.compressed,
         args.data_dir or Path(tempfile.mkdtemp(prefix="gw-wall-soak-")))


if __name__ == "__main__":
    main()
