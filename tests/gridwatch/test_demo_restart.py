"""`gridwatch demo` starts a component again when it crashes, and keeps serving."""
from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path

from tests.support import running_demo


def children(pid: int) -> dict[int, str]:
    """The child processes of a process: pid → command line."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            except FileNotFoundError:
                continue
            out[int(child)] = cmd.decode()
    return out


def worker_pid(demo_pid: int) -> int | None:
    return next((p for p, cmd in children(demo_pid).items() if " run worker " in cmd), None)


def test_a_crashed_worker_is_started_again(demo_dir, tmp_path):
    with running_demo(demo_dir, tmp_path / "demo", "--no-sim", "--history-days", "0") as demo:
        first = worker_pid(demo.pid)
        assert first is not None
        os.kill(first, signal.SIGKILL)  # a crash; the demo is its parent and reaps it
        deadline = time.monotonic() + 30
        again = None
        while time.monotonic() < deadline and again in (None, first):
            time.sleep(0.3)
            again = worker_pid(demo.pid)
        assert again not in (None, first)
        with urllib.request.urlopen(f"{demo.url}/health", timeout=10) as r:
            assert r.status == 200
        log = (tmp_path / "demo" / "demo.log").read_text(errors="replace")
        assert "worker exited with code -9; starting it again" in log
