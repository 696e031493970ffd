"""A local Redis Cluster of real redis-servers on loopback ports (tests, benches, trials)."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis
from redis.cluster import ClusterNode

from feeds.store.embedded import free_port, redis_binary

log = logging.getLogger(__name__)


def is_master(host: str, port: int) -> bool:
    """Whether the redis-server on host:port is a master (takes writes) now."""
    c = redis.Redis(host=host, port=port)
    try:
        return c.info("replication")["role"] == "master"
    finally:
        c.close()


def _cli_binary() -> str:
    found = shutil.which("redis-cli")
    if not found:
        raise RuntimeError("redis-cli is not on PATH (needed to create a cluster)")
    return found


class LocalCluster:
    """`masters` redis-servers with cluster mode on and `replicas` replicas of each, joined by
    `redis-cli --cluster create` (its first `masters` ports are the masters)."""

    def __init__(self, data_dir: Path, masters: int = 3, host: str = "127.0.0.1",
                 replicas: int = 0, node_timeout_ms: int = 5000):
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.masters, self.replicas = masters, replicas
        self.node_timeout_ms = node_timeout_ms
        nodes = masters * (1 + replicas)
        self.ports = [free_port(host) for _ in range(nodes)]
        self.bus_ports = [free_port(host) for _ in range(nodes)]
        self.procs: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        """The URL Gridwatch takes for this cluster (redis+cluster://host:port)."""
        return f"redis+cluster://{self.host}:{self.ports[0]}"

    def _start_node(self, port: int, bus: int) -> subprocess.Popen:
        d = self.data_dir / f"node-{port}"
        d.mkdir(parents=True, exist_ok=True)
        args = [redis_binary(), "--port", str(port), "--bind", self.host,
                "--cluster-enabled", "yes", "--cluster-port", str(bus),
                "--cluster-config-file", str(d / "nodes.conf"),
                "--cluster-node-timeout", str(self.node_timeout_ms),
                # everysec, not always: the test cluster is for slots, not durability
                "--dir", str(d), "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--daemonize", "no", "--protected-mode", "yes",
                "--logfile", str(d / "redis.log")]
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, timeout: float = 30.0) -> LocalCluster:
        """Start the nodes, create the cluster, wait for cluster_state:ok on every node."""
        self.procs = [self._start_node(p, b) for p, b in zip(self.ports, self.bus_ports,
                                                               strict=True)]
        try:
            for p in self.ports:
                self._wait_ping(p, timeout)
            nodes = [f"{self.host}:{p}" for p in self.ports]
            subprocess.run([_cli_binary(), "--cluster", "create", *nodes,
                            "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                           check=True, capture_output=True, timeout=timeout)
            self._wait_ok(timeout)
            self._wait_replicas(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("redis cluster ready on %s", self.url)
        return self

    def _wait_ping(self, port: int, timeout: float) -> None:
        client = redis.Redis(host=self.host, port=port)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                    raise RuntimeError(f"redis-server on port {port} did not start; see "
                                       f"{self.data_dir}") from None
                time.sleep(0.05)

    def _wait_ok(self, timeout: float) -> None:
        """Every node says cluster_state:ok and knows every other node."""
        deadline = time.monotonic() + timeout
        for port in self.ports:
            client = redis.Redis(host=self.host, port=port)
            while not self._node_ok(client):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"cluster not ok on port {port} after {timeout:.0f} s")
                time.sleep(0.1)
            client.close()

    def _node_ok(self, client: redis.Redis) -> bool:
        info = client.cluster("INFO")
        return (info.get("cluster_state") == "ok"
                and int(info.get("cluster_known_nodes", 0)) == len(self.ports))

    def _wait_replicas(self, timeout: float) -> None:
        """Every master has its replicas connected and in sync (WAIT and failover work)."""
        deadline = time.monotonic() + timeout
        for port in self.ports:
            client = redis.Redis(host=self.host, port=port)
            while not self._synced(client.info("replication")):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"replication not up on port {port} after "
                                       f"{timeout:.0f} s")
                time.sleep(0.1)
            client.close()

    def _synced(self, info: dict) -> bool:
        if info.get("role") == "slave":
            return info.get("master_link_status") == "up"
        up = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)
              and v.get("state") == "online"]
        return len(up) >= self.replicas

    def master_of(self, key: str) -> int:
        """The port of the master that holds a key's slot now."""
        nodes = [ClusterNode(self.host, p) for p in self.ports]
        client = redis.RedisCluster(startup_nodes=nodes)  # any node that still answers
        try:
            return client.get_node_from_key(key).port
        finally:
            client.close()

    def kill(self, port: int) -> None:
        """Kill one node at once (SIGKILL, as a crash would) and reap it."""
        for p in self.procs:
            if p.args[2] == str(port) and p.poll() is None:  # args: binary --port PORT ...
                os.kill(p.pid, signal.SIGKILL)
                p.wait()

    def restart(self, port: int) -> None:
        """Start a killed node again on its port (it rejoins from its nodes.conf)."""
        i = self.ports.index(port)
        self.procs.append(self._start_node(port, self.bus_ports[i]))
        self._wait_ping(port, 30.0)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every node by its own PID and reap it."""
        for p in self.procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
