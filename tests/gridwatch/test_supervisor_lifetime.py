"""`gridwatch run X --processes N` as a container runs it: a child that keeps crashing stops
the supervisor with a non-zero exit, and children never outlive their supervisor."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from feeds.store.embedded import free_port


def _run(data_dir: Path, demo_dir: Path, redis_url: str, log: Path) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("city.geojson", "officers.csv"):
        shutil.copy(demo_dir / name, data_dir / name)
    cmd = [sys.executable, "-m", "gridwatch.cli", "run", "push", "--processes", "2",
           "--data-dir", str(data_dir), "--redis-url", redis_url,
           "--live-port", str(free_port())]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def test_a_crash_looping_child_stops_the_supervisor_non_zero(tmp_path, demo_dir):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # no Redis there: every push child dies
    proc = _run(tmp_path / "data", demo_dir, nowhere, tmp_path / "run.log")
    t0 = time.monotonic()
    try:
        code = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    took = time.monotonic() - t0
    log = (tmp_path / "run.log").read_text(errors="replace")
    assert code == 1, log[-2000:]
    assert took < 60 and "keeps exiting" in log


def test_children_die_with_a_supervisor_killed_by_sigkill(tmp_path, demo_dir, redis_url):
    proc = _run(tmp_path / "data", demo_dir, redis_url, tmp_path / "run.log")
    kids: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60
        while len(kids) < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            kids = psutil.Process(proc.pid).children()
            time.sleep(0.2)
        time.sleep(2)  # they are up and running (past their imports)
        assert all(k.is_running() for k in kids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        gone, alive = psutil.wait_procs(kids, timeout=5)
        assert alive == [], [k.pid for k in alive]
    finally:
        for k in kids:  # by PID: what a failed run left behind
            if k.is_running():
                k.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_demo_killed_by_sigkill_leaves_no_process(tmp_path, demo_dir):
    """Every component and the embedded redis-server go with the demo's supervisor."""
    from tests.support import running_demo

    with running_demo(demo_dir, tmp_path / "demo", "--no-sim", "--history-days", "0") as demo:
        kids = psutil.Process(demo.pid).children(recursive=True)
        names = " ".join(" ".join(k.cmdline()) for k in kids)
        assert "redis-server" in names and "run web" in names and len(kids) >= 5
        try:
            os.kill(demo.pid, signal.SIGKILL)
            _, alive = psutil.wait_procs(kids, timeout=5)
            assert alive == [], [" ".join(k.cmdline()) for k in alive]
        finally:
            for k in kids:  # by PID: what a failed run left behind
                if k.is_running():
                    k.kill()
