"""Push fan-out: 200 concurrent WebSocket clients (city / town / village subscriptions) at
Dongguan load; bytes per client per second, messages/s, push CPU, whether anyone fell behind.

By default the push process (`gridwatch run push`) runs alone over a private Redis and the
benchmark writes the worker's live frames itself at Dongguan's rate (9,756 officers, a fix per
10 s each, 300 cases/h), so the figures are the push channel's own; `--demo` runs the whole
demo (gateway, simulator, worker, cameras) instead, which needs a machine to itself."""
from __future__ import annotations

import argparse
import asyncio
import contextvars
import http.cookiejar
import os
import re
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import redis
from websockets.asyncio.client import connect

from bench.common import city, component, redis_server
from dashboard.config import WebConfig
from domain.access import Role, User
from feeds.accounts import auth
from feeds.store import keys
from layouts.map_view import fit_zoom
from tests.support import ADMIN_PASSWORD, running_demo

BEHIND_S = 2.0  # a client whose newest frame is older than this has fallen behind


@dataclass
class Stats:
    """What one client received."""

    level: str
    region: str
    view: dict | None = None  # a map page's viewport (None: the row-by-row API subscription)
    wall: bool = False  # a wall (no case list): the cases its zoom draws (cases=view)
    sync_bytes: int = 0
    bytes: int = 0
    frames: int = 0
    officer_rows: int = 0
    max_lag_s: float = 0.0
    lags: list[float] = field(default_factory=list)
    error: str = ""


def session_cookie(base: str, user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    """Log in through the form (CSRF cookie + field); returns the session cookie's value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": user, "password": password, "csrf": csrf})
    opener.open(f"{base}/login", form.encode()).read()
    return next(c.value for c in jar if c.name == "gw_session")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(parent: int, word: str) -> int:
    """The PID of the child of `parent` whose command line has `run <word>`."""
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if ppid == parent and b"run" in cmd and word.encode() in cmd:
            return int(d.name)
    raise RuntimeError(f"no '{word}' child of {parent}")


LEVEL_MIX = (("green", 0.75), ("yellow", 0.2), ("red", 0.05))  # the demo's open cases, about


def open_cases(ctx, n: int, rng: np.random.Generator) -> dict[str, list[dict]]:  # noqa: ANN001
    """n open cases, as the demo's city holds (~200 after its history), in live-frame form by
    town: levels in LEVEL_MIX, titles as long as the simulator's."""
    officers = list(ctx.roster.values())
    levels = rng.choice([lv for lv, _ in LEVEL_MIX], size=n, p=[p for _, p in LEVEL_MIX])
    out: dict[str, list[dict]] = {}
    for k in range(n):
        o = officers[int(rng.integers(len(officers)))]
        lon, lat = ctx.hierarchy[o.grid].centre
        out.setdefault(o.grid[:9], []).append({
            "id": f"OPEN{k}", "grid": o.grid, "category": "dispute", "level": str(levels[k]),
            "status": "dispatched", "lon": lon, "lat": lat, "title": f"楼道堆物占用消防通道 {k}",
            "reported_ts": time.time() - 3600, "assignee": o.officer_id})
    return out


async def feed(url: str, ctx, stop: asyncio.Event, fix_s: float = 10.0,  # noqa: ANN001
               cases_per_h: float = 300.0, tick_s: float = 0.25, held: int = 200) -> None:
    """Write live frames as the worker does: `held` open cases first, then each officer moves
    once per `fix_s`, a case now and then, per-town counts; one frame per town per tick."""
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(url)
    rng = np.random.default_rng(11)
    for town, cases in open_cases(ctx, held, rng).items():
        await client.xadd(keys.live(town), {"m": orjson.dumps({"ts": time.time(), "town": town,
                                                               "incidents": cases})})
    by_town: dict[str, list[str]] = {}
    for o in ctx.roster.values():
        by_town.setdefault(o.grid[:9], []).append(o.officer_id)
    officers = list(ctx.roster.values())
    per_tick = len(officers) * tick_s / fix_s
    i, case_n, due = 0, 0, 0.0
    while not stop.is_set():
        now = time.time()
        n = int(per_tick + rng.random())
        moved = [officers[(i + k) % len(officers)] for k in range(n)]
        i += n
        due += cases_per_h * tick_s / 3600
        frames: dict[str, dict] = {t: {"ts": now, "town": t} for t in ctx.towns}
        for o in moved:
            frames[o.grid[:9]].setdefault("officers", []).append(
                [o.officer_id, 113.5 + rng.random() * 0.6, 22.6 + rng.random() * 0.5, 1])
        while due >= 1:
            due -= 1
            case_n += 1
            o = officers[int(rng.integers(len(officers)))]
            frames[o.grid[:9]].setdefault("incidents", []).append({
                "id": f"SYN{case_n}", "grid": o.grid, "category": "dispute", "level": "green",
                "status": "reported", "lon": 113.7, "lat": 22.9, "title": f"案件 {case_n}",
                "reported_ts": now})
            frames[o.grid[:9]]["counts"] = {f"{o.grid[:9]}|green": case_n}
        pipe = client.pipeline(transaction=False)
        for t, f in frames.items():
            if len(f) > 2:
                pipe.xadd(keys.live(t), {"m": orjson.dumps(f)}, maxlen=1000, approximate=True)
        await pipe.execute()
        await asyncio.sleep(max(0.0, tick_s - (time.time() - now)))
    await client.aclose()


async def client(url: str, cookie: str, st: Stats, start: asyncio.Event,
                 stop: asyncio.Event) -> None:
    """Subscribe (as a page of the dashboard: its origin), read the sync frame, then count
    delta bytes between start and stop."""
    try:
        async with connect(url, additional_headers={"Cookie": f"gw_session={cookie}"},
                           origin=ORIGIN.get(), max_size=None, compression=None,
                           open_timeout=60) as ws:
            st.sync_bytes = len(await ws.recv(decode=False))
            if st.view:  # as the page does once its map is placed
                await ws.send(orjson.dumps({"type": "view", **st.view}).decode())
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(decode=False), 1.0)
                except TimeoutError:
                    continue
                if not start.is_set():
                    continue
                frame = orjson.loads(raw)
                st.bytes += len(raw)  # every frame counts, heartbeats ("beat") too
                st.frames += 1
                if frame.get("type") != "delta":
                    continue
                lag = time.time() - frame["as_of"]
                st.officer_rows += len(frame["officers"]) + len(frame.get("officer_view") or ())
                st.lags.append(lag)
                st.max_lag_s = max(st.max_lag_s, lag)
    except Exception as e:  # noqa: BLE001  (reported in the figures)
        st.error = f"{type(e).__name__}: {e}"


def page_view(ctx, code: str) -> dict[str, float]:  # noqa: ANN001
    """The viewport a 1920x1080 map page of a region shows (its bounds, the page's zoom)."""
    minx, miny, maxx, maxy = bounds = ctx.city.shapes[code].bounds
    return {"west": minx, "south": miny, "east": maxx, "north": maxy, "zoom": fit_zoom(bounds)}


def query(s: Stats) -> str:
    """The subscription's query after the region, as the page (or API client) sends it."""
    if s.view is None:
        return ""
    return "&officers=view" + (f"&cases=view&zoom={s.view['zoom']}" if s.wall else "")


def subscriptions(ctx, n: int, mix: tuple[int, int, int],  # noqa: ANN001
                  rows: bool = False, walls: bool = False) -> list[Sub]:
    """n (level, region, page viewport, wall) in the ratio city:town:village, spread over the
    regions; with `rows`, no viewport (row-by-row API subscriptions); with `walls`, walls."""
    h = ctx.hierarchy
    villages = [v for t in ctx.towns for v in h.children_of(t)]
    total = sum(mix)
    counts = [n * m // total for m in mix]
    counts[2] += n - sum(counts)
    out = [("city", h.city.code)] * counts[0]
    out += [("town", ctx.towns[i % len(ctx.towns)]) for i in range(counts[1])]
    out += [("village", villages[(i * 7) % len(villages)]) for i in range(counts[2])]
    return [(level, code, None if rows else page_view(ctx, code), walls and not rows)
            for level, code in out]


Sub = tuple[str, str, dict | None, bool]  # level, region, viewport (None: row by row), wall


async def run_clients(live_url: str, cookie: str, subs: list[Sub], settle_s: float,
                      secs: float, push_pid: int, feeder=None) -> tuple[list[Stats], float, float]:  # noqa: ANN001
    """Connect every client, let them settle, measure for `secs` (with `feeder(stop)` running
    throughout, if given); returns the clients' stats, push and own CPU %."""
    start, stop = asyncio.Event(), asyncio.Event()
    feeding = asyncio.create_task(feeder(stop)) if feeder else None
    if feeding:
        await asyncio.sleep(12)  # one whole round of fixes: every officer placed before syncs
    stats = [Stats(level, region, view, wall) for level, region, view, wall in subs]
    tasks = [asyncio.create_task(client(f"{live_url}?region={s.region}{query(s)}", cookie, s,
                                        start, stop)) for s in stats]
    await asyncio.sleep(settle_s)
    cpu0, own0, t0 = cpu_seconds(push_pid), time.process_time(), time.monotonic()
    start.set()
    await asyncio.sleep(secs)
    stop.set()
    wall = time.monotonic() - t0
    push_cpu = (cpu_seconds(push_pid) - cpu0) / wall * 100
    own_cpu = (time.process_time() - own0) / wall * 100
    await asyncio.gather(*tasks, *([feeding] if feeding else []))
    return stats, push_cpu, own_cpu


def report(stats: list[Stats], secs: float, push_cpu: float, own_cpu: float) -> None:
    """Print the figures per subscription level and overall."""
    ok = [s for s in stats if not s.error]
    print(f"{len(stats)} push clients, {len(ok)} connected, {secs:.0f} s measured")
    for level in ("city", "town", "village"):
        group = [s for s in ok if s.level == level]
        if not group:
            continue
        bps = sorted(s.bytes / secs for s in group)
        p95 = bps[min(len(bps) - 1, int(0.95 * len(bps)))]
        print(f"  {level:8s} ×{len(group):3d}: {statistics.mean(bps) / 1024:8.1f} KB/s per client "
              f"mean, p95 {p95 / 1024:8.1f} KB/s; sync frame "
              f"{statistics.mean(s.sync_bytes for s in group) / 1024:8.1f} KB; "
              f"{statistics.mean(s.frames for s in group) / secs:4.1f} frames/s")
    frames = sum(s.frames for s in ok)
    total = sum(s.bytes for s in ok)
    city_rows = [s.officer_rows / secs for s in ok if s.level == "city"]
    lags = sorted(x for s in ok for x in s.lags) or [0.0]
    behind = [s for s in ok if s.max_lag_s > BEHIND_S]
    print(f"messages: {frames / secs:.0f} frames/s in all, {total / secs / 1024 / 1024:.2f} MB/s; "
          f"officer updates (rows or clusters) seen by a city client: "
          f"{statistics.mean(city_rows) if city_rows else 0:.0f}/s")
    print(f"frame age on arrival: p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p99 {lags[int(0.99 * (len(lags) - 1))] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
    print(f"push process CPU {push_cpu:.0f} % of one core; bench clients {own_cpu:.0f} %")
    errors = [s.error for s in stats if s.error]
    print(f"fell behind (a frame older than {BEHIND_S:.0f} s): {len(behind)} clients; "
          f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


def wait_placed(base: str, officers: int, timeout: float = 180) -> None:
    """Wait until the demo's simulator has placed nearly every officer (API summary)."""
    import base64
    req = urllib.request.Request(f"{base}/api/v1/summary", headers={
        "Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(req, timeout=30) as r:
            if orjson.loads(r.read())["counts"]["officers_online"] >= 0.95 * officers:
                return
        time.sleep(2)
    raise RuntimeError("the simulator did not place the officers in time")


ORIGIN: contextvars.ContextVar[str] = contextvars.ContextVar(
    "origin", default=f"http://127.0.0.1:{WebConfig().port}")  # the push process's own web


def run_demo(ctx, data_dir: Path, args: argparse.Namespace,  # noqa: ANN001
             subs: list[Sub]) -> tuple[list[Stats], float, float]:
    """The whole demo (simulator at Dongguan load) and the clients."""
    with running_demo(data_dir, Path(tempfile.mkdtemp(prefix="gw-push-")),
                      "--history-days", "0", timeout=180) as demo:
        wait_placed(demo.url, len(ctx.roster))
        ORIGIN.set(demo.url)
        return asyncio.run(run_clients(
            f"ws://127.0.0.1:{demo.live_port}/live", session_cookie(demo.url), subs,
            args.settle, args.seconds, child_pid(demo.pid, "push")))


def run_alone(ctx, data_dir: Path, args: argparse.Namespace,  # noqa: ANN001
              subs: list[Sub]) -> tuple[list[Stats], float, float]:
    """The push process alone over a private Redis, fed live frames by this benchmark."""
    with redis_server() as r, component("push", data_dir, r.url) as port:
        cookie = auth.open_session(redis.Redis.from_url(r.url),
                                   User("bench", Role.ADMIN, ctx.hierarchy.city.code))
        return asyncio.run(run_clients(
            f"ws://127.0.0.1:{port}/live", cookie, subs, args.settle, args.seconds,
            child_pid(os.getpid(), "push"), lambda stop: feed(r.url, ctx, stop, held=args.open)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--mix", default="1:4:5", help="city:town:village subscriptions")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--settle", type=float, default=5,
                    help="seconds after connecting before measuring")
    ap.add_argument("--rows", action="store_true",
                    help="subscribe row by row (an API client) instead of as map pages do "
                         "(&officers=view, clusters for the page's viewport)")
    ap.add_argument("--walls", action="store_true",
                    help="subscribe as walls do (no case list: &cases=view, the cases the "
                         "zoom draws) instead of as desks")
    ap.add_argument("--open", type=int, default=200,
                    help="open cases the city holds before the clients connect (the demo "
                         "keeps about 200; push alone only)")
    ap.add_argument("--demo", action="store_true",
                    help="run the whole demo with its simulator instead of the push alone")
    args = ap.parse_args()
    mix = tuple(int(x) for x in args.mix.split(":"))
    data_dir, ctx = city()
    subs = subscriptions(ctx, args.clients, mix, args.rows, args.walls)  # type: ignore[arg-type]
    load0 = os.getloadavg()[0]
    stats, push_cpu, own_cpu = (run_demo if args.demo else run_alone)(ctx, data_dir, args, subs)
    print(f"{'whole demo' if args.demo else 'push process alone, live frames written by the bench'}"
          f" at Dongguan load: {len(ctx.roster):,} officers, a fix per 10 s each, 300 cases/h; "
          f"{'row-by-row (API) subscriptions' if args.rows else 'subscribed as map pages'}"
          f"{' of walls' if args.walls else ''}; {args.open} open cases at the start; "
          f"push flush every 0.2 s; load average {load0:.1f} → {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    report(stats, args.seconds, push_cpu, own_cpu)


if __name__ == "__main__":
    main()
