"""One supervisor for every process tree: `gridwatch demo` and `gridwatch run X --processes N`.

It starts its children in order, starts again one that exits (as its restart policy says),
and on SIGTERM/SIGINT stops them by their PIDs, last started first: SIGTERM, a deadline, then
SIGKILL. Children die with it (PR_SET_PDEATHSIG: SIGTERM when the supervisor is gone, even
killed with SIGKILL); one that exits more than 5 times a minute stops the whole tree with exit
code 1. `run X --processes N` runs N children of one component (`--process-index i`, the tree
in their environment); servers bind their port with SO_REUSEPORT, so the kernel spreads new
connections over them, and workers split the towns.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

from feeds.ops.metrics import identity, mark_dead
from feeds.store.lifeline import die_with_parent

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
POLL_S = 0.2


@dataclass(frozen=True)
class RestartPolicy:
    """When a child that exited is started again."""

    min_uptime_s: float = 0.0  # not before it has run this long (no tight restart loop)
    max_per_minute: int | None = None  # more exits of one child in a minute: give up (exit 1)


DEMO = RestartPolicy(max_per_minute=5)  # a component that keeps dying stops the demo
# `--processes N`: at most once a second, and a child that keeps dying stops them all (exit 1:
# Docker or systemd sees it)
REPLICAS = RestartPolicy(min_uptime_s=1.0, max_per_minute=5)


@dataclass
class Child:
    """One child process: its command, environment and how it is started."""

    name: str
    command: list[str]
    env: dict[str, str] | None = None
    nice: int = 0  # CPU priority (10: yields to the live path)
    settle_s: float = 0.0  # wait this long after starting it before starting the next
    proc: subprocess.Popen | None = None
    started: float = 0.0
    exits: list[float] = field(default_factory=list)


class Supervisor:
    """Keeps a set of child processes running until told to stop."""

    def __init__(self, label: str, children: list[Child], policy: RestartPolicy):
        self.label = label
        self.children = children
        self.policy = policy
        self.stopping = False

    def install_signals(self) -> None:
        """SIGINT and SIGTERM stop the supervisor (and so its children)."""
        def on_signal(*_: object) -> None:
            self.stopping = True

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

    def spawn(self, child: Child) -> None:
        """Start one child (at its CPU priority)."""
        child.proc = subprocess.Popen(child.command, env=child.env,  # noqa: PLW1509 (no threads)
                                      preexec_fn=die_with_parent())
        child.started = time.monotonic()
        if child.nice:
            try:
                os.setpriority(os.PRIO_PROCESS, child.proc.pid, child.nice)
            except OSError as e:  # not allowed here: it runs at normal priority
                log.warning("could not lower the priority of %s: %s", child.name, e)
        log.info("%s started (pid %d)", child.name, child.proc.pid)

    def start(self) -> None:
        """Start every child in order."""
        for child in self.children:
            if self.stopping:
                return
            self.spawn(child)
            if child.settle_s:
                time.sleep(child.settle_s)

    def check(self) -> bool:
        """Start again the children that exited; False when one keeps exiting (give up)."""
        now = time.monotonic()
        for child in self.children:
            code = child.proc.poll() if child.proc else None
            if code is None or now - child.started < self.policy.min_uptime_s:
                continue
            child.exits = [t for t in child.exits if now - t < 60] + [now]
            limit = self.policy.max_per_minute
            if limit is not None and len(child.exits) > limit:
                log.error("%s keeps exiting (code %s); stopping %s", child.name, code,
                          self.label)
                return False
            mark_dead(identity(child.proc.pid))  # its live gauges go (counters stay)
            log.error("%s exited with code %s; starting it again", child.name, code)
            self.spawn(child)
        return True

    def watch(self) -> int:
        """Keep the children running until a signal (0) or one keeps exiting (1)."""
        while not self.stopping:
            if not self.check():
                return 1
            time.sleep(POLL_S)
        return 0

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM every child by its PID (last started first), wait, SIGKILL the ones that
        linger."""
        running = [c for c in reversed(self.children) if c.proc is not None]
        for c in running:
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for c in running:
            try:
                c.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", c.name)
                c.proc.kill()
                c.proc.wait()

    def run(self) -> int:
        """Start, watch and stop: the whole life of a process tree; its exit code."""
        self.install_signals()
        try:
            self.start()
            return self.watch()
        finally:
            self.stop()
            log.info("%s: %d processes stopped", self.label, len(self.children))
