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
import fnmatch
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil
import redis
from playwright.sync_api import sync_playwright

from bench.common import city
from bench.latency import component, settled_open_cases
from bench.wall_soak import MB, measure
from feeds.ingest.gateway import DEAD_LETTER_MAXLEN, SEEN_TTL_S
from feeds.live.commands import AUDIT_MAXLEN
from feeds.live.tasks import TASK_MAXLEN
from feeds.live.worker import INCIDENT_RETENTION_S, LIVE_MAXLEN, POSITION_RETENTION_S, TRACK_MAXLEN
from feeds.sim.casework import CLOSE_MIN, HARD_SPAN, HOURLY
from feeds.sim.config import DemoConfig
from feeds.store import keys
from feeds.store import video_keys as vk
from feeds.video.store import FLAGS_MAXLEN
from tests.support import CHROMIUM, CHROMIUM_ARGS, login, running_demo

TRIM_EVERY_S = 60  # the worker's trim interval (feeds/live/worker.py chores)
SIZED_KEYS = 3  # longest keys of a group whose MEMORY USAGE gives its bytes per entry
SIZED_MIN = 1000  # … once they hold this many entries on average (a node's overhead spread)
WARM_SHARE = 0.1  # the first 10 % of the run is its warm-up
RSS_FLOOR_MB = 16.0
REDIS_MARGIN = 1.25
RSS_OVER_USED = 1.5
DONGGUAN_CASES_PER_HOUR = 300  # bench.latency's Dongguan load


@dataclass(frozen=True)
class StreamGroup:
    """Stream keys of one pattern of feeds/store/keys.py and how they are trimmed."""

    name: str
    pattern: str
    maxlen: int | None = None  # MAXLEN cap per key
    retention_s: float | None = None  # MINID age trim (real seconds, before --speed)


GROUPS = (
    StreamGroup("pos", keys.positions("*"), retention_s=POSITION_RETENTION_S),
    StreamGroup("inc", keys.incidents_in("*"), retention_s=INCIDENT_RETENTION_S),
    StreamGroup("live", keys.live("*"), maxlen=LIVE_MAXLEN),
    StreamGroup("track", keys.track("*", "*"), maxlen=TRACK_MAXLEN),
    StreamGroup("tasks", keys.tasks("*", "*"), maxlen=TASK_MAXLEN),
    StreamGroup("deadletter", keys.DEAD_LETTER, maxlen=DEAD_LETTER_MAXLEN),
    StreamGroup("audit", keys.AUDIT, maxlen=AUDIT_MAXLEN),
    StreamGroup("video-flags", vk.FLAGS, maxlen=FLAGS_MAXLEN),
)


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    metric: str
    start: float
    end: float
    peak: float
    bound: float | None

    @property
    def ok(self) -> bool:
        """Within its bound (a row without a bound is informative)."""
        return self.bound is None or self.end <= self.bound


def group_of(key: str) -> StreamGroup | None:
    """The group a stream key belongs to (None: a stream no pattern knows)."""
    return next((g for g in GROUPS if fnmatch.fnmatchcase(key, g.pattern)), None)


def stream_sample(store: redis.Redis) -> dict[str, float]:
    """Per group: keys, total and longest length, entries ever added (MINID groups) and
    bytes per entry (MEMORY USAGE of its longest keys)."""
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
    for (name, _), info in zip(aged, pipe.execute(), strict=True):
        out[f"stream:{name}:added"] = out.get(f"stream:{name}:added", 0) + info["entries-added"]
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
        if name != "redis":
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


@dataclass(frozen=True)
class Run:
    """What the bounds are derived from: the samples and the run's settings."""

    samples: list[tuple[float, dict[str, float]]]
    speed: float
    load: float
    flat_pct: float
    node_entries: int
    max_redis_mb: float | None = None

    def series(self, metric: str) -> list[float]:
        """A metric's values (0 where a sample lacks it)."""
        return [s.get(metric, 0.0) for _, s in self.samples]

    def warm_index(self) -> int:
        """The last sample of the warm-up: the first 10 % of the run, two samples at least."""
        return min(max(self.index_at(WARM_SHARE * self.samples[-1][0]), 1),
                   len(self.samples) - 1)

    def warm(self, metric: str) -> float:
        """The highest value of a metric during the warm-up."""
        return max(self.series(metric)[:self.warm_index() + 1])

    def index_at(self, t: float) -> int:
        """The index of the last sample taken at or before `t` (-1: none)."""
        return max((i for i, (ts, _) in enumerate(self.samples) if ts <= t), default=-1)

    def added_within(self, metric: str, window_s: float) -> float:
        """Entries added to a group within the last `window_s` of the run (all of them
        when the run is shorter)."""
        i = self.index_at(self.samples[-1][0] - window_s)
        end = self.samples[-1][1].get(metric, 0.0)
        return end - (self.samples[i][1].get(metric, 0.0) if i >= 0 else 0.0)


def stream_bound(run: Run, metric: str) -> float | None:
    """The documented bound of a stream metric (None: informative only)."""
    _, label, what = metric.split(":")
    g = next((g for g in GROUPS if g.name == label), None)
    end = run.samples[-1][1]
    nkeys = end.get(f"stream:{label}:keys", 0.0)
    if g is None or what in ("keys", "added"):
        return None
    if g.maxlen is not None:
        return g.maxlen + run.node_entries if what == "longest" else None
    if what != "len" or g.retention_s is None:
        return None
    window = g.retention_s / run.speed + TRIM_EVERY_S
    return run.added_within(f"stream:{label}:added", window) + nkeys * run.node_entries


def steady_len(run: Run, g: StreamGroup) -> float:
    """A group's entries once it is at its steady length: MINID groups their add rate over
    the run × the retention, MAXLEN groups keys × MAXLEN at most."""
    (t0, first), (t1, last) = run.samples[0], run.samples[-1]
    n = last.get(f"stream:{g.name}:len", 0.0)
    if g.retention_s is not None:
        rate = (last.get(f"stream:{g.name}:added", 0.0)
                - first.get(f"stream:{g.name}:added", 0.0)) / max(t1 - t0, 1.0)
        return max(n, rate * g.retention_s / run.speed)
    return max(n, last.get(f"stream:{g.name}:keys", 0.0) * (g.maxlen or 0))


def per_entry(s: dict[str, float], g: StreamGroup) -> float:
    """A group's bytes per entry; for a group whose keys are still short, the highest of
    the groups measured."""
    return s.get(f"stream:{g.name}:bytes_per_entry") or max(
        (v for k, v in s.items() if k.endswith(":bytes_per_entry")), default=0.0)


def stream_mb(s: dict[str, float], lengths: dict[str, float] | None = None) -> float:
    """MB the entries of the known stream groups take in one sample (or would at
    `lengths`)."""
    return sum((lengths or {}).get(g.name, s.get(f"stream:{g.name}:len", 0.0))
               * per_entry(s, g) for g in GROUPS) / MB


def other_series(run: Run) -> list[float]:
    """Redis used_memory outside the streams (MB): the idempotency keys, state hashes…"""
    return [s["redis:used_memory_mb"] - stream_mb(s) for _, s in run.samples]


def other_bound(run: Run) -> float | None:
    """Memory outside the streams, once the idempotency keys are at their steady count
    (their TTL, divided by --speed, + 5 min, or the warm-up if later): the highest value
    until then × the flat margin + the RSS floor. None when that point is past 60 % of the
    run."""
    t_end = run.samples[-1][0]
    settled = max(WARM_SHARE * t_end, SEEN_TTL_S / run.speed + 300)
    i = run.index_at(settled)
    if settled > 0.6 * t_end or i < 0:
        return None
    return max(other_series(run)[:i + 1]) * (1 + run.flat_pct / 100) + RSS_FLOOR_MB


def steady_redis_mb(run: Run) -> float:
    """Redis used_memory (MB) once every stream is at its steady length, projected: the
    memory outside the streams (its bound, or its end value) + each group's steady length ×
    its bytes per entry."""
    last = run.samples[-1][1]
    other = other_bound(run) or other_series(run)[-1]
    return other + stream_mb(last, {g.name: steady_len(run, g) for g in GROUPS})


def redis_bound(run: Run) -> float:
    """The projected steady-state used_memory (MB) with its margin, or --max-redis-mb."""
    return REDIS_MARGIN * steady_redis_mb(run) if run.max_redis_mb is None else run.max_redis_mb


def case_bound(run: Run, rules_max_resolve_s: float, cases_per_hour: float) -> float:
    """Open cases: the warm-up's count with the flat margin, or Little's law at the peak
    hour (rate × the longest a case lives), whichever is higher."""
    life_s = (rules_max_resolve_s * HARD_SPAN[1] + 10 * CLOSE_MIN * 60) / run.speed
    little = cases_per_hour * run.speed * float(HOURLY.max()) / 3600 * life_s
    return max(run.warm("open_cases") * (1 + run.flat_pct / 100), little)


def bound_of(run: Run, metric: str, max_resolve_s: float, cases_per_hour: float
             ) -> float | None:
    """The bound of any metric."""
    flat = 1 + run.flat_pct / 100
    if metric.startswith("stream:"):
        return stream_bound(run, metric)
    if metric.startswith("rss_mb:"):
        return run.warm(metric) * flat + RSS_FLOOR_MB
    if metric == "page:errors":
        return 0.0
    if metric.startswith("page:"):
        return run.warm(metric) * flat
    if metric == "open_cases":
        return case_bound(run, max_resolve_s, cases_per_hour)
    if metric == "redis:other_mb":
        return other_bound(run)
    if metric == "redis:used_memory_mb":
        return redis_bound(run)
    if metric == "redis:used_memory_rss_mb":
        return RSS_OVER_USED * redis_bound(run)
    return None


def table(run: Run, max_resolve_s: float, cases_per_hour: float) -> list[Row]:
    """Every metric seen, with start, end, max and bound."""
    names = sorted({k for _, s in run.samples for k in s} | {"redis:other_mb"})
    series = {m: other_series(run) if m == "redis:other_mb" else run.series(m) for m in names}
    return [Row(m, v[0], v[-1], max(v), bound_of(run, m, max_resolve_s, cases_per_hour))
            for m, v in series.items()]


def print_table(rows: list[Row]) -> None:
    """The table, one metric a line."""
    print(f"{'metric':<32} {'start':>14} {'end':>14} {'max':>14} {'bound':>14}  ok")
    for r in rows:
        bound = "-" if r.bound is None else f"{r.bound:14,.1f}"
        ok = "-" if r.bound is None else ("yes" if r.ok else "NO")
        print(f"{r.metric:<32} {r.start:14,.1f} {r.end:14,.1f} {r.peak:14,.1f} {bound:>14}  {ok}")


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
    return ["--position-interval", f"{interval:g}",
            "--incidents-per-hour", f"{DONGGUAN_CASES_PER_HOUR * args.load:g}",
            "--history-days", str(args.history_days)]


def soak(args: argparse.Namespace, data_dir: Path) -> Run:
    """Run the demo and the wall page; sample until the time is up."""
    city_dir, ctx = city()
    samples: list[tuple[float, dict[str, float]]] = []
    with running_demo(city_dir, data_dir, *demo_args(args), timeout=600) as demo, \
            sync_playwright() as p, csv_out(args.csv) as out:
        store = redis.Redis.from_url((data_dir / "redis.url").read_text().strip())
        settled_open_cases(store, ctx.towns, args.history_days > 0, timeout_s=1800)
        errors: list[str] = []
        page, cdp = wall_page(p, demo.url, errors)
        node = int(store.config_get("stream-node-max-entries")["stream-node-max-entries"])
        page.wait_for_timeout(10_000)  # first sync applied, first layers drawn
        t0 = time.monotonic()
        end = t0 + args.minutes * 60
        while True:
            t = time.monotonic() - t0
            s = sample(store, demo.pid, ctx.towns, cdp, page, errors)
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


def main() -> None:
    """Command line; exit 1 when a metric is past its bound."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=125.0, help="run length (default 125)")
    ap.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    ap.add_argument("--speed", type=float, default=1.0, help="time compression (1: real time)")
    ap.add_argument("--load", type=float, default=1.0, help="times Dongguan load")
    ap.add_argument("--history-days", type=int, default=30, help="days of past cases first")
    ap.add_argument("--flat-pct", type=float, default=25.0,
                    help="growth allowed after the warm-up for RSS, JS heap and DOM nodes")
    ap.add_argument("--max-redis-mb", type=float, default=None,
                    help="fail when Redis used_memory ends above this (default: projected)")
    ap.add_argument("--csv", type=Path, default=None, help="write every sample here")
    ap.add_argument("--data-dir", type=Path, default=None, help="demo data dir (default: temp)")
    args = ap.parse_args()
    if args.every <= 0 or args.minutes <= 0 or args.load <= 0:
        ap.error("--minutes, --every and --load must be positive")
    if args.speed != 1.0:
        ap.error("--speed: only real time (1) so far")
    run = soak(args, args.data_dir or Path(tempfile.mkdtemp(prefix="gw-soak-")))
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
