"""`gridwatch demo`: Redis, the demo city and every component as one process tree."""
from __future__ import annotations

import fcntl
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from dashboard.settings import Settings
from domain.access import Role
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.sim.citygen import ensure_demo_city
from feeds.sim.overlays import ensure_demo_overlays
from feeds.store.embedded import EmbeddedRedis

log = logging.getLogger(__name__)

COMPONENTS = ("worker", "gateway", "push", "web", "cameras", "capture", "simulate")
RESTARTS_PER_MINUTE = 5  # a component that exits more often than this stops the demo
# On one shared machine the synthetic cameras and the recorder yield the CPU to the live path
# (positions and cases to screens); they use what is left (nice 10, about a tenth the weight).
BACKGROUND = {"cameras": 10, "capture": 10}


def _progress(stage: str, done: int, total: int) -> None:
    if done == total:
        log.info("making the demo city: %s %d/%d", stage, done, total)


def _secret(env: str) -> tuple[str, bool]:
    value = os.environ.get(env, "")
    return (value, False) if value else (secrets.token_urlsafe(12), True)


def _child_args(name: str, s: Settings, redis_url: str) -> list[str]:
    args = [sys.executable, "-m", "gridwatch.cli", "run", name, "--data-dir", str(s.data_dir),
            "--redis-url", redis_url, "--host", s.host, "--port", str(s.port),
            "--gateway-port", str(s.gateway_port), "--live-port", str(s.live_port),
            "--osmand-port", str(s.osmand_port), "--capture-port", str(s.capture_port),
            "--camsim-port", str(s.camsim_port),
            "--incidents-per-hour", str(s.incidents_per_hour),
            "--position-interval", str(s.position_interval_s),
            "--history-days", str(s.history_days)]
    if name in ("gateway", "worker", "push", "web"):
        args += ["--processes", str(s.processes)]
    if s.rules_file:
        args += ["--rules", str(s.rules_file)]
    if s.cameras_file:
        args += ["--cameras-file", str(s.cameras_file)]
    return args


class Demo:
    """Starts and stops the demo's process tree."""

    def __init__(self, settings: Settings):
        self.s = settings
        self.redis: EmbeddedRedis | None = None
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False
        self.city_code = ""
        self.redis_url = ""
        self.env: dict[str, str] = {}

    def lock(self) -> None:
        """Hold the data dir for this demo; a second demo on the same dir stops at once."""
        self.s.data_dir.mkdir(parents=True, exist_ok=True)
        self.lock_file = open(self.s.data_dir / "demo.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"gridwatch: another demo is running with {self.s.data_dir}; "
                             "stop it or pass another --data-dir") from None

    def prepare(self) -> str:
        """Make the city if missing, start or reach Redis, set the admin user; the Redis URL."""
        self.lock()
        started = time.perf_counter()
        ensure_demo_city(self.s.data_dir, progress=_progress)
        log.info("demo city ready in %s (%.1f s)", self.s.data_dir, time.perf_counter() - started)
        ctx = CityContext.load(self.s.city_file, self.s.officers_file, self.s.rules_file)
        ensure_demo_overlays(self.s.data_dir, ctx.city)
        ctx = CityContext.load(self.s.city_file, self.s.officers_file, self.s.rules_file,
                               self.s.data_dir)  # validates the overlays too
        self.city_code = ctx.hierarchy.city.code
        url = self.s.redis_url or os.environ.get("REDIS_URL")
        if not url:
            self.redis = EmbeddedRedis(self.s.data_dir).start()
            url = self.redis.url
        (self.s.data_dir / "redis.url").write_text(url + "\n")
        return url

    def start(self, redis_url: str, env: dict[str, str]) -> None:
        """Spawn every component as a child process."""
        names = COMPONENTS if self.s.simulate else COMPONENTS[:-1]
        self.redis_url, self.env = redis_url, env
        for name in names:
            self.children[name] = self.spawn(name)
            if name == "gateway":
                time.sleep(0.5)

    def spawn(self, name: str) -> subprocess.Popen:
        """Start one component as a child process (video ones at a lower CPU priority)."""
        child = subprocess.Popen(_child_args(name, self.s, self.redis_url), env=self.env)
        if name in BACKGROUND:
            try:
                os.setpriority(os.PRIO_PROCESS, child.pid, BACKGROUND[name])
            except OSError as e:  # not allowed here: it runs at normal priority
                log.warning("could not lower the priority of %s: %s", name, e)
        return child

    def watch(self) -> int:
        """Wait until a signal; a component that dies is started again, one that keeps dying
        stops the demo. Returns the exit code."""
        exits: dict[str, list[float]] = {}
        while not self.stopping:
            for name, p in list(self.children.items()):
                if p.poll() is None:
                    continue
                now = time.monotonic()
                exits[name] = [t for t in exits.get(name, []) if now - t < 60] + [now]
                if len(exits[name]) > RESTARTS_PER_MINUTE:
                    log.error("%s keeps exiting (code %s); stopping the demo", name,
                              p.returncode)
                    return 1
                log.error("%s exited with code %s; starting it again", name, p.returncode)
                self.children[name] = self.spawn(name)
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        """Stop every child by its PID (feeders first), then Redis."""
        children = list(reversed(self.children.items()))
        for _, p in children:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, p in children:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                p.kill()
                p.wait()
        if self.redis:
            self.redis.stop()


def run_demo(settings: Settings) -> int:
    """Run the whole demo until Ctrl-C or SIGTERM; nothing is left running after it."""
    demo = Demo(settings)

    def on_signal(*_: object) -> None:
        demo.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    redis_url = demo.prepare()
    try:
        token, token_new = _secret("GRIDWATCH_TERMINAL_TOKEN")
        password, pw_new = _secret("GRIDWATCH_ADMIN_PASSWORD")
        o311_key, o311_new = _secret("GRIDWATCH_OPEN311_KEY")
        client = reads.connect(redis_url)
        auth.add_user(client, "admin", password, Role.ADMIN, demo.city_code)
        client.close()
        env = dict(os.environ, GRIDWATCH_TERMINAL_TOKEN=token, GRIDWATCH_OPEN311_KEY=o311_key)
        demo.start(redis_url, env)
        _banner(settings, redis_url, token if token_new else None, password if pw_new else None,
                o311_key if o311_new else None)
        code = demo.watch()
    finally:
        log.info("shutting down")
        demo.stop()
        log.info("stopped")
    return code


def _banner(s: Settings, redis_url: str, token: str | None, password: str | None,
            open311_key: str | None) -> None:
    host = "localhost" if s.host in ("127.0.0.1", "0.0.0.0", "::") else s.host
    lines = [
        "",
        "  Gridwatch demo is running (Ctrl-C stops it)",
        f"  Dashboard:  http://{host}:{s.port}/        user: admin   password: "
        + (password or "(GRIDWATCH_ADMIN_PASSWORD)"),
        f"  Wall:       http://{host}:{s.port}/?wall=1",
        f"  Video:      http://{host}:{s.port}/video   (cameras re-streamed on port "
        f"{s.capture_port})",
        f"  Terminals:  ws://{host}:{s.gateway_port}/terminal   token: "
        + (token or "(GRIDWATCH_TERMINAL_TOKEN)"),
        f"  Live push:  ws://{host}:{s.live_port}/live",
        f"  Trackers:   http://{host}:{s.osmand_port}/  (OsmAnd / Traccar Client; "
        "register with `gridwatch devices add`)",
        f"  API:        http://{host}:{s.port}/api/v1/openapi.json   health: /health",
        f"  Open311:    http://{host}:{s.port}/open311/v2/services.json   api_key: "
        + (open311_key or "(GRIDWATCH_OPEN311_KEY)"),
        f"  Redis:      {redis_url}   data: {Path(s.data_dir).resolve()}",
        "",
    ]
    print("\n".join(lines), flush=True)
