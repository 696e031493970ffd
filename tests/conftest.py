"""Shared fixtures: a real redis-server, the demo city on disk, servers in threads."""
from __future__ import annotations

import asyncio
import os
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from feeds.live.context import CityContext
from feeds.sim.citygen import ensure_demo_city
from feeds.store.client import sync_client
from feeds.store.embedded import EmbeddedRedis
from tests.redis_cluster import LocalCluster

ON_CLUSTER = os.environ.get("GRIDWATCH_TEST_REDIS") == "cluster"
not_on_cluster = pytest.mark.skipif(ON_CLUSTER, reason="needs a single Redis (cluster pass)")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[EmbeddedRedis | LocalCluster]:
    """A real redis-server for the whole session, or with GRIDWATCH_TEST_REDIS=cluster a
    local Redis Cluster of 3 masters with a replica each (make test-cluster); both have
    `.url`."""
    tmp = tmp_path_factory.mktemp("redis")
    server = LocalCluster(tmp, replicas=1).start() if ON_CLUSTER else EmbeddedRedis(tmp).start()
    yield server
    server.stop()


@pytest.fixture()
def redis_url(redis_server: EmbeddedRedis | LocalCluster) -> str:
    """The URL of a freshly emptied real Redis (or Redis Cluster: every master flushed)."""
    client = sync_client(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the generated demo city (made once per session)."""
    d = tmp_path_factory.mktemp("demo-data")
    ensure_demo_city(d)
    return d


@pytest.fixture(scope="session")
def city_ctx(demo_dir: Path) -> CityContext:
    """The demo city, roster and bundled rules, loaded."""
    return CityContext.load(demo_dir / "city.geojson", demo_dir / "officers.csv", None)


class ThreadedServer:
    """Runs an asyncio server coroutine in its own thread and event loop."""

    def __init__(self, factory: Callable[[asyncio.Event, Callable[[int], None]],
                                         Coroutine[Any, Any, None]]):
        self.factory = factory
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.factory(self._stop, self._set_port)

        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001  (reported to the test)
            self.error = e
            self._ready.set()

    def _set_port(self, port: int) -> None:
        self.port = port
        self._ready.set()

    def start(self) -> ThreadedServer:
        """Start and wait until the server listens."""
        self._thread.start()
        if not self._ready.wait(60) or self.error:
            raise RuntimeError(f"server did not start: {self.error!r}")
        return self

    def stop(self) -> None:
        """Ask the server to stop and join its thread."""
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        if self._thread.is_alive():
            raise RuntimeError(f"server thread still running 10 s after stop:\n{self._stuck()}")

    def _stuck(self) -> str:
        """Where the server's thread and its tasks are (for the stop error)."""
        frame = sys._current_frames().get(self._thread.ident or 0)
        lines = traceback.format_stack(frame) if frame else []
        loop = self._loop
        tasks = asyncio.all_tasks(loop) if loop else set()
        for task in tasks:
            lines.append(f"task {task.get_name()}: {task!r}\n")
            for f in task.get_stack(limit=3):
                lines.extend(traceback.format_stack(f, limit=1))
        return "".join(lines)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the cluster pass keep only the tests that use Redis (the rest ran in `make test`)."""
    if not ON_CLUSTER:
        return
    def redis_test(it: pytest.Item) -> bool:  # the fixture's Redis, or its own (failover)
        return ("redis_server" in getattr(it, "fixturenames", ())
                or it.get_closest_marker("failover") is not None)

    keep = [it for it in items if redis_test(it)]
    dropped = [it for it in items if not redis_test(it)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
