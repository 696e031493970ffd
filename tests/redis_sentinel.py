"""A local Redis primary with replicas watched by 3 real redis-sentinels (tests, benches)."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from feeds.store.embedded import free_port, redis_binary
from tests.redis_cluster import is_master

log = logging.getLogger(__name__)

SERVICE = "mymaster"


def sentinel_command() -> list[str]:
    """Debian's redis-sentinel, else redis-server in sentinel mode (the same binary)."""
    found = shutil.which("redis-sentinel")
    return [found] if found else [redis_binary(), "--sentinel"]


class LocalSentinel:
    """One primary, `replicas` replicas and `sentinels` sentinels on free loopback ports."""

    def __init__(self, data_dir: Path, replicas: int = 1, sentinels: int = 3,
                 host: str = "127.0.0.1", down_after_ms: int = 1000,
                 appendfsync: str = "everysec"):
        self.data_dir = Path(data_dir).resolve()
        self.appendfsync = appendfsync
        self.host = host
        self.down_after_ms = down_after_ms
        self.data_ports = [free_port(host) for _ in range(1 + replicas)]
        self.sentinel_ports = [free_port(host) for _ in range(sentinels)]
        self.procs: dict[int, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        """The URL Gridwatch takes: redis+sentinel://host:port,…/mymaster/0."""
        hosts = ",".join(f"{self.host}:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    @property
    def primary_url(self) -> str:
        """A plain redis:// URL of the first primary (a primary + replica without Sentinel)."""
        return f"redis://{self.host}:{self.data_ports[0]}/0"

    def _spawn(self, port: int, args: list[str]) -> None:
        self.procs[port] = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                            start_new_session=True)

    def _start_data(self, port: int, primary: int | None) -> None:
        d = self.data_dir / f"redis-{port}"
        d.mkdir(parents=True, exist_ok=True)
        follow = ["--replicaof", self.host, str(primary)] if primary else []
        self._spawn(port, [redis_binary(), "--port", str(port), "--bind", self.host,
                           "--dir", str(d), "--appendonly", "yes",
                           "--appendfsync", self.appendfsync, "--save", "",
                           "--daemonize", "no", "--protected-mode", "yes",
                           "--logfile", str(d / "redis.log"), *follow])

    def _start_sentinel(self, port: int) -> None:
        d = self.data_dir / f"sentinel-{port}"
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "sentinel.conf"  # sentinel rewrites its config file: one of its own
        conf.write_text(
            f"port {port}\nbind {self.host}\ndaemonize no\ndir {d}\n"
            f"logfile {d / 'sentinel.log'}\n"
            f"sentinel monitor {SERVICE} {self.host} {self.data_ports[0]} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {self.down_after_ms}\n"
            f"sentinel failover-timeout {SERVICE} 10000\n"
            f"sentinel parallel-syncs {SERVICE} 1\n")
        self._spawn(port, [*sentinel_command(), str(conf)])

    def start(self, timeout: float = 30.0) -> LocalSentinel:
        """Start the primary, its replicas and the sentinels; wait until all know each other."""
        try:
            self._start_data(self.data_ports[0], None)
            for p in self.data_ports[1:]:
                self._start_data(p, self.data_ports[0])
            for p in self.sentinel_ports:
                self._start_sentinel(p)
            self._wait(self._ready, timeout)
        except BaseException:
            self.stop()
            raise
        log.info("sentinel setup ready on %s", self.url)
        return self

    def _wait(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if done():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sentinel setup not ready after {timeout:.0f} s; see "
                                   f"{self.data_dir}")
            time.sleep(0.1)

    def _ready(self) -> bool:
        """Replicas in sync; every sentinel sees them and the other sentinels."""
        primary = redis.Redis(host=self.host, port=self.primary_port())
        try:
            info = primary.info("replication")
        finally:
            primary.close()
        online = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)
                  and v.get("state") == "online"]
        if len(online) < len(self.data_ports) - 1:
            return False
        for p in self.sentinel_ports:
            s = redis.Redis(host=self.host, port=p, decode_responses=True)
            try:
                m = s.sentinel_master(SERVICE)
            finally:
                s.close()
            if (m["num-slaves"] < len(self.data_ports) - 1
                    or m["num-other-sentinels"] < len(self.sentinel_ports) - 1):
                return False
        return True

    def primary_port(self) -> int:
        """The port of the primary the first live sentinel names now (no sentinels: the
        first)."""
        if not self.sentinel_ports:
            return self.data_ports[0]
        for p in self.sentinel_ports:
            s = redis.Redis(host=self.host, port=p, decode_responses=True)
            try:
                return int(s.sentinel_get_master_addr_by_name(SERVICE)[1])
            except redis.ConnectionError:
                continue
            finally:
                s.close()
        raise RuntimeError("no sentinel answers")

    def kill(self, port: int) -> None:
        """Kill one process at once (SIGKILL, as a crash would) and reap it."""
        p = self.procs.get(port)
        if p is not None and p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()

    def wait_promoted(self, old: int, timeout: float = 30.0) -> int:
        """Wait until the sentinels name a primary other than `old` and it takes writes."""
        def promoted() -> bool:
            port = self.primary_port()
            return port != old and is_master(self.host, port)
        self._wait(promoted, timeout)
        return self.primary_port()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every process by its own PID and reap it."""
        for p in self.procs.values():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = {}

    def __enter__(self) -> LocalSentinel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
