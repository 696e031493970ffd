"""The component table: what `gridwatch run NAME` starts, wired to its sections of the tree.

Each subsystem owns its process entry point (feeds/ingest/main.py, feeds/live/main.py,
feeds/video/main.py, feeds/sim/main.py, dashboard/serve.py, dashboard/push_main.py); this
table only hands each one its sections. Entry points are imported in their own process only.
"""
from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain.video import Camera
from feeds.geo.hierarchy import load_hierarchy
from feeds.live.context import CityContext
from feeds.video.registry import CameraFileError, load_cameras
from gridwatch.config import GridwatchConfig


@dataclass(frozen=True)
class Component:
    """One long-running part of Gridwatch."""

    name: str
    start: Callable[[GridwatchConfig, str], None]  # the tree and the Redis URL
    scaled: bool = False  # `--processes N` runs N of it
    store: bool = True  # it needs Redis (else it gets "")
    nice: int = 0  # its CPU priority in the demo (10: yields to the live path)
    settle_s: float = 0.0  # the demo waits this long after starting it


def city_context(cfg: GridwatchConfig) -> CityContext:
    """The city, roster, rules and overlays named by the tree (kept out of the collector's
    sight: they live as long as the process, and a full collection need not walk them)."""
    ctx = CityContext.load(cfg.store.city_file, cfg.store.officers_file, cfg.live.rules_file,
                           cfg.store.data_dir, time_scale=cfg.live.time_scale)
    gc.freeze()
    return ctx


def terminal_token(cfg: GridwatchConfig) -> str:
    """The demo terminals' shared token (ingest.terminal_token, GRIDWATCH_TERMINAL_TOKEN)."""
    if cfg.ingest.terminal_token is None:
        raise SystemExit("GRIDWATCH_TERMINAL_TOKEN is not set")
    return cfg.ingest.terminal_token.get_secret_value()


def command(name: str, index: int | None = None) -> list[str]:
    """The command line of a child process running `name` (the tree is in its environment)."""
    cmd = [sys.executable, "-m", "gridwatch.cli", "run", name]
    return cmd if index is None else [*cmd, "--process-index", str(index)]


def _gateway(cfg: GridwatchConfig, url: str) -> None:
    from feeds.ingest.attachments import MEDIA_SUBDIR  # noqa: PLC0415
    from feeds.ingest.main import run_gateway  # noqa: PLC0415
    from feeds.ingest.media_s3 import media_store  # noqa: PLC0415

    media = media_store(cfg.store, cfg.store.data_dir / MEDIA_SUBDIR)
    run_gateway(city_context(cfg), cfg.ingest, cfg.server.host, url, cfg.processes.count > 1,
                media, cfg.ops.heartbeat_s, cfg.store)


def _worker(cfg: GridwatchConfig, url: str) -> None:
    from feeds.live.main import run_worker  # noqa: PLC0415

    run_worker(city_context(cfg), cfg.live, url, ZoneInfo(cfg.web.timezone),
               cfg.processes.index or 0, cfg.processes.count, cfg.ops)


def _push(cfg: GridwatchConfig, url: str) -> None:
    from dashboard.push_main import run_push  # noqa: PLC0415

    run_push(city_context(cfg), cfg.push, cfg.web, cfg.server.host, url,
             cfg.processes.count > 1)


def _web(cfg: GridwatchConfig, url: str) -> None:
    from dashboard.serve import run_web  # noqa: PLC0415

    run_web(cfg.dashboard(), city_context(cfg), cfg.server.host, url, cfg.processes.count > 1)


def _simulate(cfg: GridwatchConfig, url: str) -> None:
    from feeds.sim.main import run_simulate  # noqa: PLC0415

    gateway = f"ws://{cfg.server.host}:{cfg.ingest.gateway_port}/terminal"
    run_simulate(city_context(cfg), cfg.sim, cfg.store.data_dir, gateway, terminal_token(cfg),
                 url)


def _dispatch(cfg: GridwatchConfig, url: str) -> None:
    from feeds.sim.main import run_dispatchers  # noqa: PLC0415

    run_dispatchers(city_context(cfg), cfg.sim, cfg.store.data_dir, url)


def _cameras(cfg: GridwatchConfig, _url: str) -> None:
    from feeds.sim.main import run_cameras  # noqa: PLC0415

    run_cameras(cfg.sim)


def registry_cameras(cfg: GridwatchConfig) -> list[Camera]:
    """The cameras to register: the section's camera CSV, else the demo's synthetic ones."""
    if cfg.video.cameras_file is None:
        from feeds.sim.main import registry_cameras as demo_cameras  # noqa: PLC0415

        return demo_cameras(cfg.store.city_file, cfg.sim)
    try:
        return load_cameras(cfg.video.cameras_file, load_hierarchy(cfg.store.city_file))
    except CameraFileError as e:
        raise SystemExit(f"gridwatch: bad camera file: {e}") from None


def _capture(cfg: GridwatchConfig, url: str) -> None:
    from feeds.video.main import run_capture  # noqa: PLC0415  (OpenCV only in this process)

    cams = zones = None
    if cfg.video.cameras_file is None:  # the demo's cameras on the synthetic server, one per
        from feeds.sim.main import capture_cameras  # noqa: PLC0415  grid, read on demand

        cams, zones = capture_cameras(cfg.store.city_file, cfg.sim)
    run_capture(cfg.video, cfg.store.data_dir, url, cfg.server.host, cams, zones,
                on_demand=cams is not None)


# In the demo's start order (it stops them the other way round, feeders first).
COMPONENTS: dict[str, Component] = {c.name: c for c in (
    Component("worker", _worker, scaled=True),
    Component("gateway", _gateway, scaled=True, settle_s=0.5),
    Component("push", _push, scaled=True),
    Component("web", _web, scaled=True),
    Component("cameras", _cameras, store=False, nice=10),
    Component("capture", _capture, nice=10),
    Component("simulate", _simulate),
    Component("dispatch", _dispatch),
)}
