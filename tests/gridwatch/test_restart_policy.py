"""The one supervisor's restart policies (the demo's and `--processes N`'s) and its stop."""
from __future__ import annotations

import sys
import time

from gridwatch.supervisor import DEMO, REPLICAS, Child, RestartPolicy, Supervisor

EXITS = [sys.executable, "-c", "import sys; sys.exit(3)"]
STAYS = [sys.executable, "-c", "import time; time.sleep(60)"]
DEAF = ("import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)")


def starts_within(sup: Supervisor, seconds: float) -> int | None:
    """Run the supervisor's checks for `seconds`; the number of starts (None: it gave up)."""
    starts = 0
    original = sup.spawn

    def counting(child: Child) -> None:
        nonlocal starts
        starts += 1
        original(child)

    sup.spawn = counting  # type: ignore[method-assign]
    sup.start()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sup.check():
                return None
            time.sleep(0.05)
    finally:
        sup.stop()
    return starts


def test_the_demo_restarts_a_crashed_child_but_stops_when_it_keeps_crashing():
    sup = Supervisor("the demo", [Child("worker", EXITS), Child("web", STAYS)], DEMO)
    assert starts_within(sup, 20) is None  # gave up after 5 restarts in a minute
    assert len(sup.children[0].exits) == DEMO.max_per_minute + 1
    assert sup.children[1].proc.returncode is not None  # the others were stopped


def test_replicas_restart_but_not_faster_than_their_minimum_uptime():
    sup = Supervisor("gateway", [Child("gateway process 1/1", EXITS)],
                     RestartPolicy(min_uptime_s=0.5))
    starts = starts_within(sup, 2.2)
    assert starts is not None and 3 <= starts <= 6
    assert REPLICAS.max_per_minute == 5 and REPLICAS.min_uptime_s == 1.0


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path):
    ready = tmp_path / "ready"
    sup = Supervisor("x", [Child("deaf", [sys.executable, "-c", DEAF, str(ready)])], DEMO)
    sup.start()
    deadline = time.monotonic() + 30
    while not ready.exists():  # it has installed its handler
        assert time.monotonic() < deadline
        time.sleep(0.05)
    started = time.monotonic()
    sup.stop(timeout=1.0)
    assert sup.children[0].proc.returncode == -9
    assert time.monotonic() - started < 5
