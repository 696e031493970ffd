"""Several processes of one component behind one address: a supervisor and shared sockets.

`gridwatch run gateway|worker|push|web --processes N` starts N children (the same command
with `--process-index i`). Servers bind their port with SO_REUSEPORT, so the kernel spreads
new connections over the children; workers split the towns. A child that dies is started
again; SIGTERM/SIGINT stop every child by its PID.
"""
from __future__ import annotations

import logging
import signal
import socket
import subprocess
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0


def shared_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound with SO_REUSEPORT, for a server that shares its port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class Supervisor:
    """Keeps N child processes of one component running until told to stop."""

    def __init__(self, name: str, n: int, command: Callable[[int], list[str]]):
        self.name = name
        self.n = n
        self.command = command
        self.children: dict[int, subprocess.Popen] = {}
        self.started: dict[int, float] = {}
        self.stopping = False

    def spawn(self, i: int) -> None:
        """Start child `i`."""
        self.children[i] = subprocess.Popen(self.command(i))
        self.started[i] = time.monotonic()
        log.info("%s process %d/%d started (pid %d)", self.name, i + 1, self.n,
                 self.children[i].pid)

    def check(self) -> None:
        """Start again any child that exited (at most once a RESTART_DELAY_S)."""
        for i, p in list(self.children.items()):
            code = p.poll()
            if code is None or time.monotonic() - self.started[i] < RESTART_DELAY_S:
                continue
            log.warning("%s process %d (pid %d) exited with %s; starting it again",
                        self.name, i + 1, p.pid, code)
            self.spawn(i)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM every child by its PID, wait, SIGKILL the ones that linger."""
        for p in self.children.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.children.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def supervise(name: str, n: int, command: Callable[[int], list[str]]) -> int:
    """Run `n` children made by `command(i)` until SIGINT/SIGTERM; returns the exit code."""
    sup = Supervisor(name, n, command)

    def on_signal(*_: object) -> None:
        sup.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    for i in range(n):
        sup.spawn(i)
    try:
        while not sup.stopping:
            sup.check()
            time.sleep(0.2)
    finally:
        sup.stop()
        log.info("%s: %d processes stopped", name, n)
    return 0
