"""Soak ("a week in a day"): the whole demo at Dongguan load with a real wall page for M
minutes, sampled every S seconds; prints metric | start | end | max | bound | ok and exits 1
when anything grew past its bound.

    python -m bench.soak --minutes 125 --csv soak.csv      # real time, Dongguan load
    python -m bench.soak --minutes 60 --speed 24            # a compressed day (see --speed)

Sampled: the RSS of every demo process (by component: gateway, worker, push, web, sim,
camsim, capture, …; Redis is covered by its own rows), Redis used_memory / used_memory_rss,
the length of every stream key (SCAN TYPE stream, grouped by the key patterns of
feeds/store/keys.py), open cases, and the wall page's JS heap (after a forced GC) and DOM
node count (CDP). Bounds, "warm" being the highest value in the first 10 % of the run:
- streams capped by MAXLEN (live, track, tasks, deadletter, audit, video:flags): the
  longest key ≤ its MAXLEN + Redis' stream-node-max-entries (approximate trims cut whole
  nodes);
- streams trimmed by age (MINID: positions 6 h, incident input 30 days, divided by
  --speed): the group ≤ the entries added to it in the last retention + one trim interval
  (60 s), + one node per key. A run shorter than the retention cannot reach the trim: the
  row then only says nothing was lost early;
- process RSS, JS heap, DOM nodes: end ≤ warm × (1 + --flat-pct/100) (+16 MB for RSS, so
  a small process' allocator arena does not count as growth); uncaught page errors: 0;
- open cases: ≤ max(warm × (1 + flat), peak hourly case rate × the longest a case lives:
  the longest resolve SLA × the simulator's late span + 10 × its median close time);
- Redis: its memory outside the streams (used_memory − Σ group entries × bytes per entry,
  MEMORY USAGE of each group's longest keys) ≤ its highest value until the idempotency keys
  (seen:*, TTL 1 h ÷ --speed) are at their steady count + 5 min, × (1 + flat) + 16 MB;
  used_memory ≤ 1.25 × the steady state projected from it: that bound + every group at
  its steady length (MINID: its add rate × the retention; MAXLEN: keys × MAXLEN) × its
  bytes per entry; --max-redis-mb overrides it. used_memory_rss ≤ 1.5 × that bound.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import psutil
import redis
from playwright.sync_api import sync_playwright

from bench.common import city
from bench.latency import component, settled_open_cases
from bench.soak_bounds import (
    DONGGUAN_CASES_PER_HOUR,
    MB,
    SIZED_KEYS,
    SIZED_MIN,
    Run,
    group_of,
    print_table,
    steady_redis_mb,
    table,
)
from bench.wall_soak import measure
from feeds.sim.config import DemoConfig
from feeds.store import keys
from tests.support import CHROMIUM, CHROMIUM_ARGS, login, running_demo

REDIS_TIMEOUT_S = 120  # a sample's SCAN and MEMORY USAGE on a loaded 2-core machine


def stream_sample(store: redis.Redis) -> dict[str, float]:
    """Per group: keys, total and longest length, entries ever added (MINID groups) and
    bytes per entry (MEMORY USAGE of its longest keys); the entries the worker has not read."""
    names = [k.decode() for k in store.scan_iter(count=10_000, _type="STREAM")]
    pipe = store.pipeline(transaction=False)
    for k in names:
        pipe.xlen(k)
    out: dict[str, float] = {}
    longest: dict[str, list[tuple[int, str]]] = {}
    for k, n in zip(names, pipe.execute(), strict=True):
        g = group_of(k)
        label = g.name if g else k
        out[f"stream:{label}:keys"] = out.get(f"stream:{label}:keys", 0) + 1
        out[f"stream:{label}:len"] = out.get(f"stream:{label}:len", 0) + n
        out[f"stream:{label}:longest"] = max(out.get(f"stream:{label}:longest", 0), n)
        if g:
            longest[g.name] = sorted([*longest.get(g.name, []), (n, k)])[-SIZED_KEYS:]
    pipe = store.pipeline(transaction=False)
    aged = [(g.name, k) for k in names if (g := group_of(k)) and g.retention_s]
    for _, k in aged:
        pipe.xinfo_stream(k)
        pipe.xinfo_groups(k)
    res = pipe.execute()
    for (name, _), info, groups in zip(aged, res[::2], res[1::2], strict=True):
        out[f"stream:{name}:added"] = out.get(f"stream:{name}:added", 0) + info["entries-added"]
        out["worker:behind"] = out.get("worker:behind", 0) + sum(
            g["lag"] or 0 for g in groups if g["name"] == keys.WORKER_GROUP.encode())
    for name, picked in longest.items():
        pipe = store.pipeline(transaction=False)
        for _, k in picked:
            pipe.memory_usage(k, samples=0)
        size, n = sum(x or 0 for x in pipe.execute()), sum(n for n, _ in picked)
        if n >= SIZED_MIN * len(picked):
            out[f"stream:{name}:bytes_per_entry"] = size / n
    return out


def demo_rss(pid: int) -> dict[str, float]:
    """RSS (MB) of the demo's processes, summed by component (Redis left out)."""
    out: dict[str, float] = {}
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            name, rss = component(proc), proc.memory_info().rss / MB
        except psutil.Error:  # ended meanwhile
            continue
        if name != "redis" and not proc.name().startswith("redis"):  # its AOF-rewrite fork
            out[f"rss_mb:{name}"] = out.get(f"rss_mb:{name}", 0.0) + rss
    return out


def sample(store: redis.Redis, pid: int, towns: list[str], cdp, page,  # noqa: ANN001
           errors: list[str]) -> dict[str, float]:
    """Every metric, once."""
    info = store.info("memory")
    pipe = store.pipeline(transaction=False)
    for t in towns:
        pipe.zcard(keys.open_incidents(t))
    wall = measure(cdp, page)
    return {**demo_rss(pid), "redis:used_memory_mb": info["used_memory"] / MB,
            "redis:used_memory_rss_mb": info["used_memory_rss"] / MB,
            "redis:keys": store.dbsize(), "open_cases": sum(pipe.execute()),
            "page:js_heap_mb": wall["heap_mb"], "page:dom_nodes": wall["nodes"],
            "page:errors": len(errors),
            **stream_sample(store)}


@contextmanager
def csv_out(path: Path | None) -> Iterator[tuple[Any, IO[str]] | None]:
    """A CSV of every sample (t_s, metric, value), flushed as it goes; nothing without a path."""
    if path is None:
        yield None
        return
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "metric", "value"])
        yield w, f


def wall_page(p, url: str, errors: list[str]):  # noqa: ANN001, ANN201
    """A logged-in wall page at 1920x1080, connected (its uncaught errors go to `errors`);
    its CDP session."""
    browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, bypass_csp=True)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, url)
    page.goto(f"{url}/?wall=1")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=120_000)
    return page, page.context.new_cdp_session(page)


def demo_args(args: argparse.Namespace) -> list[str]:
    """The demo's flags for the load asked for."""
    interval = DemoConfig().position_interval_s / args.load
    return ["--position-interval", f"{interval:g}", "--time-scale", f"{args.speed:g}",
            "--incidents-per-hour", f"{DONGGUAN_CASES_PER_HOUR * args.load * args.speed:g}",
            "--history-days", str(round(args.history_days / args.speed))]


def soak(args: argparse.Namespace, data_dir: Path) -> Run:
    """Run the demo and the wall page; sample until the time is up."""
    city_dir, ctx = city()
    samples: list[tuple[float, dict[str, float]]] = []
    with running_demo(city_dir, data_dir, *demo_args(args), timeout=600) as demo, \
            sync_playwright() as p, csv_out(args.csv) as out:
        store = redis.Redis.from_url((data_dir / "redis.url").read_text().strip(),
                                     socket_timeout=REDIS_TIMEOUT_S)
        settled_open_cases(store, ctx.towns, demo, args.history_days > 0, timeout_s=1800)
        errors: list[str] = []
        page, cdp = wall_page(p, demo.url, errors)
        node = int(store.config_get("stream-node-max-entries")["stream-node-max-entries"])
        page.wait_for_timeout(10_000)  # first sync applied, first layers drawn
        t0 = time.monotonic()
        end = t0 + args.minutes * 60
        while True:
            t = time.monotonic() - t0
            try:
                s = sample(store, demo.pid, ctx.towns, cdp, page, errors)
            except redis.RedisError as e:  # Redis too busy to answer (a loaded machine)
                print(f"t={t:6.0f}s sample skipped: {e}", flush=True)
                if time.monotonic() >= end and samples:
                    break
                page.wait_for_timeout(1000 * args.every)
                continue
            samples.append((t, s))
            if out:
                out[0].writerows([f"{t:.0f}", k, f"{v:g}"] for k, v in sorted(s.items()))
                out[1].flush()
            print(f"t={t:6.0f}s used_memory={s['redis:used_memory_mb']:.1f} MB "
                  f"pos={s.get('stream:pos:len', 0):,.0f} open={s['open_cases']:,.0f} "
                  f"heap={s['page:js_heap_mb']:.1f} MB nodes={s['page:dom_nodes']:,.0f}",
                  flush=True)
            if time.monotonic() >= end:
                break
            page.wait_for_timeout(1000 * max(0.0, min(args.every, end - time.monotonic())))
        page.context.browser.close()
    for e in errors[:5]:
        print(f"page error: {e}")
    return Run(samples, args.speed, args.load, args.flat_pct, node, args.max_redis_mb)


def read_samples(path: Path) -> list[tuple[float, dict[str, float]]]:
    """The samples of a --csv file (a run still going: those written so far)."""
    by_t: dict[float, dict[str, float]] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            by_t.setdefault(float(r["t_s"]), {})[r["metric"]] = float(r["value"])
    if not by_t:
        raise SystemExit(f"{path}: no samples")
    return sorted(by_t.items())


def main() -> None:
    """Command line; exit 1 when a metric is past its bound."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=125.0, help="run length (default 125)")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--speed", type=float, default=1.0,
                    help="compressed time: the demo's live.time_scale (SLA deadlines, age trims, "
                         "track cap ÷ K), K× the case rate, history-days ÷ K (1: real time)")
    ap.add_argument("--load", type=float, default=1.0, help="times Dongguan load")
    ap.add_argument("--history-days", type=int, default=30, help="days of past cases first")
    ap.add_argument("--flat-pct", type=float, default=25.0,
                    help="growth allowed after the warm-up for RSS, JS heap and DOM nodes")
    ap.add_argument("--max-redis-mb", type=float, default=None,
                    help="fail when Redis used_memory ends above this (default: projected)")
    ap.add_argument("--csv", type=Path, default=None, help="write every sample here")
    ap.add_argument("--data-dir", type=Path, default=None, help="demo data dir (default: temp)")
    ap.add_argument("--from-csv", type=Path, default=None,
                    help="no run: the table of the samples a --csv run wrote (with the same "
                         "--speed and --load)")
    ap.add_argument("--node-entries", type=int, default=100,
                    help="with --from-csv: the run's Redis stream-node-max-entries")
    args = ap.parse_args()
    if args.every <= 0 or args.minutes <= 0 or args.load <= 0:
        ap.error("--minutes, --every and --load must be positive")
    if not 1 <= args.speed <= 1000:
        ap.error("--speed must be between 1 (real time) and 1000 (live.time_scale's bounds)")
    run = Run(read_samples(args.from_csv), args.speed, args.load, args.flat_pct,
              args.node_entries, args.max_redis_mb) if args.from_csv else \
        soak(args, args.data_dir or Path(tempfile.mkdtemp(prefix="gw-soak-")))
    _, ctx = city()
    max_resolve = max(r.resolve_sla_s for r in ctx.rules.values())
    rows = table(run, max_resolve, DONGGUAN_CASES_PER_HOUR * args.load)
    print_table(rows)
    bad = [r.metric for r in rows if not r.ok]
    print(f"soak minutes={run.samples[-1][0] / 60:.1f} speed={args.speed:g} load={args.load:g} "
          f"samples={len(run.samples)} steady_redis_used_memory_mb={steady_redis_mb(run):,.0f} "
          f"past_bound={','.join(bad) or 'none'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
