"""Shared set-up of the benchmarks: a demo city on disk, Redis, a gateway process."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import redis

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.live.context import CityContext
from feeds.sim.citygen import ensure_demo_city
from feeds.store.embedded import APPENDFSYNC, EmbeddedRedis, free_port, wait_port

TOKEN = "bench-token"


def city(data_dir: Path | None = None) -> tuple[Path, CityContext]:
    """The demo city files (made in a temp dir unless given) and their context."""
    d = data_dir or Path(tempfile.mkdtemp(prefix="gw-bench-"))
    ensure_demo_city(d)
    return d, CityContext.load(d / "city.geojson", d / "officers.csv", None)


def officer_points(ctx: CityContext, n: int, seed: int = 1) -> list[tuple[str, float, float]]:
    """n (officer_id, WGS-84 lon, lat) fixes inside each officer's grid."""
    index = GridIndex(ctx.city)
    rng = np.random.default_rng(seed)
    ids = list(ctx.roster)
    out = []
    for i in range(n):
        oid = ids[i % len(ids)]
        lon, lat = index.random_point(ctx.roster[oid].grid, rng)
        out.append((oid, *to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")))
    return out


@contextmanager
def component(name: str, data_dir: Path, redis_url: str, pids: list[int] | None = None,
              **ports: int) -> Iterator[int]:
    """Run one `gridwatch run NAME` process; yields its main port; stops it by PID
    (appended to `pids` while it runs, if given)."""
    port = ports.get("port") or free_port()
    args = [sys.executable, "-m", "gridwatch.cli", "run", name, "--data-dir", str(data_dir),
            "--redis-url", redis_url]
    flag = {"gateway": "--gateway-port", "push": "--live-port", "web": "--port"}.get(name)
    if flag:
        args += [flag, str(port)]
    if name == "gateway":
        args += ["--osmand-port", str(free_port())]
    for k, v in ports.items():
        if k != "port":
            args += [f"--{k.replace('_', '-')}", str(v)]
    env = dict(os.environ, GRIDWATCH_TERMINAL_TOKEN=TOKEN)
    log = open(data_dir / f"{name}.log", "ab")  # noqa: SIM115  (kept for a look afterwards)
    proc = subprocess.Popen(args, env=env, stderr=log, stdout=log)
    if pids is not None:
        pids.append(proc.pid)
    try:
        if flag:
            wait_port(port)
        yield port
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


@contextmanager
def redis_server(appendfsync: str = APPENDFSYNC) -> Iterator[EmbeddedRedis]:
    """A private redis-server for one benchmark run."""
    with EmbeddedRedis(Path(tempfile.mkdtemp(prefix="gw-bench-redis-")),
                       appendfsync=appendfsync) as r:
        yield r


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def redis_cpu(client: redis.Redis) -> float:
    """CPU seconds the redis-server has used so far (INFO cpu)."""
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])
