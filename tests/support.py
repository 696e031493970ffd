"""Helpers for end-to-end tests: run `gridwatch demo` on free ports, log in with Chromium."""
from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from feeds.store.embedded import free_port, wait_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ADMIN_PASSWORD = "test-admin-pass"
# HTTP Basic for the demo's admin (API calls and pages without a browser session)
ADMIN_BASIC = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
TERMINAL_TOKEN = "test-terminal-token"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@dataclass(frozen=True)
class RunningDemo:
    """Where a test's demo listens."""

    data_dir: Path
    port: int
    gateway_port: int
    live_port: int
    osmand_port: int
    pid: int
    capture_port: int = 0

    @property
    def url(self) -> str:
        """Base URL of the dashboard."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        """The terminals' WebSocket URL."""
        return f"ws://127.0.0.1:{self.gateway_port}/terminal"


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"demo exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("demo did not become healthy in time")


@contextmanager
def running_demo(city_dir: Path, data_dir: Path, *extra: str, timeout: float = 90,
                 cwd: Path | None = None, redis_url: str | None = None,
                 script: Path | None = None) -> Iterator[RunningDemo]:
    """Run `gridwatch demo` (city files copied from city_dir) and stop it by its PID. With
    `cwd`, run it as `make demo` does: the console script, started in `cwd`, given the data
    dir relative to it (`--data-dir data`); with `redis_url`, on that Redis; with `script`,
    that console script (another venv's) instead of this venv's."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("city.geojson", "officers.csv"):
        shutil.copy(city_dir / name, data_dir / name)
    ports = [free_port() for _ in range(6)]
    env = dict(os.environ, GRIDWATCH_ADMIN_PASSWORD=ADMIN_PASSWORD,
               GRIDWATCH_TERMINAL_TOKEN=TERMINAL_TOKEN)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    script = script or Path(sys.executable).with_name("gridwatch")
    cmd = [str(script), "demo", "--data-dir", str(data_dir.relative_to(cwd))] if cwd else [
        sys.executable, "-m", "gridwatch.cli", "demo", "--data-dir", str(data_dir)]
    cmd += ["--port", str(ports[0]), "--gateway-port", str(ports[1]),
            "--live-port", str(ports[2]), "--osmand-port", str(ports[3]),
            "--capture-port", str(ports[4]), "--camsim-port", str(ports[5]), *extra]
    log = open(data_dir / "demo.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    demo = RunningDemo(data_dir, ports[0], ports[1], ports[2], ports[3], proc.pid, ports[4])
    try:
        _wait_healthy(demo.url, proc, timeout)
        wait_port(ports[1], timeout)
        yield demo
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def login(page, base_url: str, user: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the login form."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def send_messages(gateway_url: str, messages: list[dict]) -> list[dict]:
    """Send one frame of terminal messages (from a fresh thread: Playwright owns this loop)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from feeds.ingest.terminal_client import TerminalClient

    async def go() -> list[dict]:
        c = TerminalClient(gateway_url, TERMINAL_TOKEN)
        try:
            return await c.send(messages)
        finally:
            await c.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, go()).result(30)


@contextmanager
def background(cmd: list[str], log_path: Path, **popen: object) -> Iterator[subprocess.Popen]:
    """A process in the background, its output in `log_path`; SIGTERM to its PID at the end
    (SIGKILL after 30 s)."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def devices_add(demo: RunningDemo, device: str, officer: str) -> dict[str, str]:
    """`gridwatch devices add` against the demo's store, as an administrator runs it; the
    fields it prints (`token`, `pairing code`)."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    out = subprocess.run([sys.executable, "-m", "gridwatch.cli", "devices", "add", device,
                          "--officer", officer, "--data-dir", str(demo.data_dir)],
                         capture_output=True, text=True, timeout=60, env=env, check=True)
    return dict(re.findall(r"^(token|pairing code): (\S+)", out.stdout, re.M))
