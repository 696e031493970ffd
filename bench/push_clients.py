"""Push fan-out: 200 concurrent WebSocket clients (city / town / village subscriptions) on a demo
at Dongguan load; bytes per client per second, messages/s, push CPU, whether anyone fell behind."""
from __future__ import annotations

import argparse
import asyncio
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

import orjson
from websockets.asyncio.client import connect

from bench.common import city
from tests.support import ADMIN_PASSWORD, running_demo

BEHIND_S = 2.0  # a client whose newest frame is older than this has fallen behind


@dataclass
class Stats:
    """What one client received."""

    level: str
    region: str
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


async def client(url: str, cookie: str, st: Stats, start: asyncio.Event,
                 stop: asyncio.Event) -> None:
    """Subscribe, read the sync frame, then count delta bytes between start and stop."""
    try:
        async with connect(url, additional_headers={"Cookie": f"gw_session={cookie}"},
                           max_size=None, compression=None, open_timeout=60) as ws:
            st.sync_bytes = len(await ws.recv(decode=False))
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(decode=False), 1.0)
                except TimeoutError:
                    continue
                if not start.is_set():
                    continue
                frame = orjson.loads(raw)
                lag = time.time() - frame["as_of"]
                st.bytes += len(raw)
                st.frames += 1
                st.officer_rows += len(frame["officers"])
                st.lags.append(lag)
                st.max_lag_s = max(st.max_lag_s, lag)
    except Exception as e:  # noqa: BLE001  (reported in the figures)
        st.error = f"{type(e).__name__}: {e}"


def subscriptions(ctx, n: int, mix: tuple[int, int, int]) -> list[tuple[str, str]]:
    """n (level, region) pairs in the ratio city:town:village, spread over the regions."""
    h = ctx.hierarchy
    villages = [v for t in ctx.towns for v in h.children_of(t)]
    total = sum(mix)
    counts = [n * m // total for m in mix]
    counts[2] += n - sum(counts)
    out = [("city", h.city.code)] * counts[0]
    out += [("town", ctx.towns[i % len(ctx.towns)]) for i in range(counts[1])]
    out += [("village", villages[(i * 7) % len(villages)]) for i in range(counts[2])]
    return out


async def run_clients(live_url: str, cookie: str, subs: list[tuple[str, str]], settle_s: float,
                      secs: float, push_pid: int) -> tuple[list[Stats], float, float]:
    """Connect every client, let them settle, measure for `secs`; returns stats, push and own
    CPU %."""
    start, stop = asyncio.Event(), asyncio.Event()
    stats = [Stats(level, region) for level, region in subs]
    tasks = [asyncio.create_task(client(f"{live_url}?region={s.region}", cookie, s, start,
                                        stop)) for s in stats]
    await asyncio.sleep(settle_s)
    cpu0, own0, t0 = cpu_seconds(push_pid), time.process_time(), time.monotonic()
    start.set()
    await asyncio.sleep(secs)
    stop.set()
    wall = time.monotonic() - t0
    push_cpu = (cpu_seconds(push_pid) - cpu0) / wall * 100
    own_cpu = (time.process_time() - own0) / wall * 100
    await asyncio.gather(*tasks)
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
          f"officer updates seen by a city client: "
          f"{statistics.mean(city_rows) if city_rows else 0:.0f}/s")
    print(f"frame age on arrival: p50 {statistics.median(lags) * 1000:.0f} ms, "
          f"p99 {lags[int(0.99 * (len(lags) - 1))] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms")
    print(f"push process CPU {push_cpu:.0f} % of one core; bench clients {own_cpu:.0f} %")
    errors = [s.error for s in stats if s.error]
    print(f"fell behind (a frame older than {BEHIND_S:.0f} s): {len(behind)} clients; "
          f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--mix", default="1:4:5", help="city:town:village subscriptions")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--warmup", type=float, default=20,
                    help="seconds the demo runs before the clients connect")
    ap.add_argument("--settle", type=float, default=5,
                    help="seconds after connecting before measuring")
    args = ap.parse_args()
    mix = tuple(int(x) for x in args.mix.split(":"))
    data_dir, ctx = city()
    run_dir = Path(tempfile.mkdtemp(prefix="gw-push-"))
    with running_demo(data_dir, run_dir, "--history-days", "0") as demo:
        cookie = session_cookie(demo.url)
        push_pid = child_pid(demo.pid, "push")
        subs = subscriptions(ctx, args.clients, mix)  # type: ignore[arg-type]
        time.sleep(args.warmup)  # the simulator places every officer once per 10 s
        stats, push_cpu, own_cpu = asyncio.run(run_clients(
            f"ws://127.0.0.1:{demo.live_port}/live", cookie, subs, args.settle, args.seconds,
            push_pid))
    print(f"demo at Dongguan load: {len(ctx.roster):,} officers, one fix per 10 s each, "
          "300 simulated cases/h, push flush every 0.2 s")
    report(stats, args.seconds, push_cpu, own_cpu)


if __name__ == "__main__":
    main()
