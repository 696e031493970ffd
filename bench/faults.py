"""Fault benchmark: the demo's components at twice Dongguan's load while Redis is killed (-9)
and restarted, the gateway, a worker and the push channel are killed and restarted; a real
Chromium page must keep updating without a reload. Ends with `sent=N acked=N stored=N lost=N`
(lost = acked messages missing from Redis afterwards) and exits 1 if anything failed.
`--store cluster` runs on 3 masters with a replica each (phase `master-failover`: kill -9
the master of the busiest town), `--store sentinel` on a primary with a replica behind 3
sentinels (phase `sentinel-failover`); acks wait for a replica there (store.wait_replicas
auto). `--phases` picks phases.

    python -m bench.faults [--seconds-per-phase 20] [--load 2] [--store single|cluster|sentinel]
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from playwright.async_api import Page, async_playwright

from bench.common import TOKEN, city
from bench.failover import PHASES, STORES, master_failover, sentinel_failover, start_store
from bench.faultkit import (
    Child,
    Driver,
    Tally,
    caught_up,
    consumer_pending,
    input_streams,
    state_missing,
    stored_ids,
)
from dashboard.config import PushConfig, WebConfig
from domain.access import Role
from feeds.accounts import auth
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.config import IngestConfig
from feeds.live.config import LiveConfig
from feeds.live.context import CityContext
from feeds.sim.config import DemoConfig
from feeds.sim.simulator import SimConfig, Simulator
from feeds.store.client import sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import free_port
from feeds.video.config import VideoConfig
from gridwatch.components import command
from gridwatch.config import TREE_ENV, GridwatchConfig, child_env
from tests.support import CHROMIUM, CHROMIUM_ARGS

log = logging.getLogger("bench.faults")

FAULTS = PHASES["single"]
PASSWORD = "faults-bench-pass"
PAGE_STATE = """() => { const l = window.gridwatch && window.gridwatch.live;
  return {frames: l ? l.stats.frames : 0, conn: l ? l.conn : '', asOf: l ? l.asOf : 0,
          marker: window.__faultsMarker === 1}; }"""


@dataclass
class Phase:
    """What happened in one phase."""

    name: str
    tally: Tally
    outage_s: float = 0.0  # from the kill until the component answered again (restart time)
    screen_s: float | None = None  # from the kill until the page showed fresh data
    reloaded: bool = False


@dataclass
class Stack:
    """Redis and the component processes of one run."""

    redis: Any  # EmbeddedRedis, LocalCluster or LocalSentinel: `.url`, `.stop()`
    children: dict[str, Child]
    tree: GridwatchConfig  # what the children run with
    kind: str = "single"

    def stop(self) -> None:
        """Stop every child by PID, then Redis."""
        for c in reversed(list(self.children.values())):
            c.stop()
        self.redis.stop()


def make_stack(data_dir: Path, ctx: CityContext, kind: str = "single"
               ) -> tuple[Stack, GridwatchConfig]:
    """Start Redis (AOF, fsync always; or a cluster or a Sentinel setup with replicas), the
    admin user and gateway, worker, push, web."""
    r = start_store(kind, data_dir)
    client = sync_client(r.url)
    auth.add_user(client, "admin", PASSWORD, Role.ADMIN, ctx.hierarchy.city.code)
    client.close()
    s = GridwatchConfig(
        store=StoreConfig(data_dir=data_dir, redis_url=r.url), web=WebConfig(port=free_port()),
        ingest=IngestConfig(gateway_port=free_port(), osmand_port=free_port(),
                            terminal_token=TOKEN),
        push=PushConfig(port=free_port()), video=VideoConfig(capture_port=free_port()),
        sim=DemoConfig(camsim_port=free_port(), history_days=0, simulate=False),
        live=LiveConfig(worker_name="worker-1"))
    env = child_env(s)
    ports = {"worker": None, "gateway": s.ingest.gateway_port, "push": s.push.port,
             "web": s.web.port}
    children = {n: Child(n, command(n), env, data_dir, p) for n, p in ports.items()}
    stack = Stack(r, children, s, kind)
    try:
        for c in children.values():
            c.start()
    except BaseException:
        stack.stop()
        raise
    return stack, s


def make_driver(ctx: CityContext, s: GridwatchConfig, load: float, cases_per_hour: float) -> Driver:
    """A simulator of the whole roster at `load` × Dongguan's position rate."""
    index = GridIndex(ctx.city)
    datum = ctx.hierarchy.datum
    sim = Simulator(officers=list(ctx.roster.values()), random_point=index.random_point,
                    to_wgs84=lambda lon, lat: to_datum(lon, lat, datum, "wgs84"), rules=ctx.rules,
                    config=SimConfig(position_interval_s=10.0 / load,
                                     incidents_per_hour=cases_per_hour))
    return Driver(sim, f"ws://127.0.0.1:{s.ingest.gateway_port}/terminal", TOKEN)


async def open_page(pw, s: GridwatchConfig) -> Page:
    """Log in with headless Chromium and open the city view; mark the page (a reload would
    lose the mark)."""
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = await browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
    base = f"http://127.0.0.1:{s.web.port}"
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", "admin")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_load_state()
    await page.goto(f"{base}/city")
    await page.wait_for_function("() => window.gridwatch && window.gridwatch.live.conn === "
                                 "'open' && window.gridwatch.live.stats.frames > 0", timeout=90_000)
    await page.evaluate("() => { window.__faultsMarker = 1; }")
    return page


async def screen_back(page: Page, since: float, timeout: float = 90.0) -> tuple[float | None,
                                                                                 bool]:
    """Seconds after `since` (epoch) when the page, not reloaded, got a frame with data newer
    than `since`; None if it did not in `timeout`. Also whether the page was reloaded."""
    start = await page.evaluate(PAGE_STATE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = await page.evaluate(PAGE_STATE)
        if not st["marker"]:
            return None, True
        if st["conn"] == "open" and st["frames"] > start["frames"] and st["asOf"] > since:
            return time.time() - since, False
        await asyncio.sleep(0.2)
    return None, False


async def inject(fault: str, stack: Stack, streams: list[str], ctx: CityContext
                 ) -> tuple[float, str]:
    """Cause one fault and bring the component back; returns (kill time, a note)."""
    killed = time.time()
    note = ""
    if fault in ("master-failover", "sentinel-failover"):
        note = await (master_failover(stack.redis, ctx) if fault == "master-failover"
                      else sentinel_failover(stack.redis))
        return killed, note
    if fault == "redis-kill9":
        stack.redis.kill()
        await asyncio.sleep(1.0)
        await asyncio.to_thread(stack.redis.start, 120.0)
        return killed, note
    child = stack.children[fault.split("-")[0]]
    if fault == "worker-kill9":
        pend = await asyncio.to_thread(kill_mid_batch, child, stack.redis.url, streams)
        killed = time.time()
        note = f"killed with pending entries {pend}; restarted as worker-{child.starts + 1}"
        tree = stack.tree.replace("live", worker_name=f"worker-{child.starts + 1}")
        child.with_env(**{TREE_ENV: tree.tree_json()})
    else:
        child.kill()
    await asyncio.to_thread(child.start)
    return killed, note


def kill_mid_batch(worker: Child, url: str, streams: list[str], within_s: float = 10.0
                   ) -> dict[str, int]:
    """SIGKILL the worker while it holds read-but-unacked entries if that happens within
    `within_s` (else anyway); returns the pending entries per consumer at the kill."""
    client = sync_client(url)
    deadline = time.monotonic() + within_s
    pend = consumer_pending(client, streams)
    while not sum(pend.values()) and time.monotonic() < deadline:
        pend = consumer_pending(client, streams)
    worker.kill()
    client.close()
    return pend


async def run_phases(stack: Stack, s: GridwatchConfig, driver: Driver, seconds: float,
                     streams: list[str], ctx: CityContext, faults: tuple[str, ...]
                     ) -> list[Phase]:
    """The baseline, then each fault in turn, each at least `seconds` long."""
    phases = []
    async with async_playwright() as pw:
        page = await open_page(pw, s)
        for name in ("baseline", *faults):
            driver.phase = name
            before, began = driver.tally(), time.monotonic()
            killed, note = (time.time(), "") if name == "baseline" else await inject(
                name, stack, streams, ctx)
            outage = time.time() - killed if name != "baseline" else 0.0
            back, reloaded = await screen_back(page, killed if name == "baseline"
                                               else time.time())
            screen = None if back is None else back + (0 if name == "baseline" else outage)
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
            phases.append(Phase(name, driver.tally().minus(before), outage, screen, reloaded))
            log.info("phase %s done %s", name, note)
            if note:
                print(f"  {name}: {note}", flush=True)
    return phases


def settle(client: redis.Redis, streams: list[str], timeout: float = 180.0) -> float:
    """Wait until the worker group has applied and acked every entry; seconds waited."""
    started = time.monotonic()
    while not caught_up(client, streams):
        if time.monotonic() - started > timeout:
            raise RuntimeError("the worker did not catch up")
        time.sleep(0.5)
    return time.monotonic() - started


def report(phases: list[Phase], driver: Driver, stack: Stack, ctx: CityContext,
           streams: list[str]) -> int:
    """Count what Redis holds (after a last kill -9 and restart) and print; the exit code."""
    client = sync_client(stack.redis.url)
    waited = settle(client, streams)
    if stack.kind == "single":
        stack.redis.kill()  # whatever was acked must survive one more crash
        stack.redis.start(120.0)
        client = sync_client(stack.redis.url)
    occurs = stored_ids(client, streams)
    acked = driver.acked_ids
    lost_ids = [m for m in acked if m not in occurs]
    dups = sum(1 for m, n in occurs.items() if n > 1 and m in driver.sent)
    sent, got, lost = (Counter(driver.phase_of[m] for m in ids)
                       for ids in (driver.sent, acked, lost_ids))
    print(f"phase=warm-up sent={sent['start']} acked={got['start']} lost={lost['start']} "
          "(while the browser opened)")
    ok = True
    for p in phases:
        t = p.tally
        screen = "NOT RECOVERED" if p.screen_s is None else f"fresh data {p.screen_s:.1f} s after"
        if p.reloaded:
            screen += " (page was reloaded!)"
        print(f"phase={p.name} sent={sent[p.name]} acked={got[p.name]} lost={lost[p.name]} "
              f"resent={t.resent} gave_up={t.given_up} down={p.outage_s:.1f}s screen: {screen}")
        ok = ok and p.screen_s is not None and not p.reloaded
    refused = Counter(e for c in driver.clients for e in c.errors)
    print(f"refused by the gateway: {sum(c.nacked for c in driver.clients)} "
          f"{dict(refused.most_common(3))}")
    missing = state_missing(client, ctx.towns, {m: driver.sent[m] for m in acked},
                            {o.officer_id: o.grid[:9] for o in ctx.roster.values()})
    print(f"worker: caught up {waited:.1f} s after the load stopped; consumers' pending "
          f"{consumer_pending(client, streams)}; acked messages its state misses: {missing}")
    wlog = stack.children["worker"].log_dir / "worker.log"
    taken = re.findall(r"(took over|reclaimed) (\d+) (?:pending )?entries",
                       wlog.read_text(errors="replace"))
    print(f"worker log: {', '.join(f'{k} {n}' for k, n in taken) or 'no entries taken over'}; "
          f"duplicates stored: {dups}")
    print(f"sent={len(driver.sent)} acked={len(acked)} stored={len(acked) - len(lost_ids)} "
          f"lost={len(lost_ids)}", flush=True)
    return 0 if ok and not lost_ids and not dups and not missing else 1


async def main_async(args: argparse.Namespace) -> int:
    data_dir, ctx = city(Path(tempfile.mkdtemp(prefix="gw-faults-")))
    stack, s = await asyncio.to_thread(make_stack, data_dir, ctx, args.store)
    streams = input_streams(ctx.towns)
    try:
        driver = make_driver(ctx, s, args.load, args.cases_per_hour)
        stop = asyncio.Event()
        task = asyncio.create_task(driver.run(stop))
        print(f"load: {len(ctx.roster)} officers, a fix every {10 / args.load:.1f} s "
              f"(≈{len(ctx.roster) * args.load / 10:,.0f} positions/s), "
              f"{args.cases_per_hour:.0f} cases/h; logs in {data_dir}", flush=True)
        faults = tuple(args.phases.split(",")) if args.phases else PHASES[args.store]
        phases = await run_phases(stack, s, driver, args.seconds_per_phase, streams, ctx,
                                  faults)
        stop.set()
        await task
        return await asyncio.to_thread(report, phases, driver, stack, ctx, streams)
    finally:
        await asyncio.to_thread(stack.stop)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds-per-phase", type=float, default=30.0)
    ap.add_argument("--load", type=float, default=2.0, help="× Dongguan's position rate")
    ap.add_argument("--cases-per-hour", type=float, default=3600.0)
    ap.add_argument("--store", choices=STORES, default="single",
                    help="one Redis, a cluster with replicas, or Sentinel with a replica")
    ap.add_argument("--phases", default="", help="comma-separated phases (default: the "
                    "store's: " + "; ".join(f"{k}: {','.join(v)}" for k, v in PHASES.items())
                    + ")")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("feeds.ingest.terminal_client").setLevel(
        logging.ERROR)  # retries are expected
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
