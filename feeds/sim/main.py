"""The demo's processes: the simulator (with its past cases on the first run), the synthetic
cameras, and the cameras the capture worker reads when no camera CSV is given."""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import redis

from feeds.geo.datum import to_datum, to_datum_arrays
from feeds.geo.locate import GridIndex
from feeds.ingest.devices_seen import recent_devices
from feeds.ingest.main import stop_on_signals
from feeds.ingest.terminal_client import TerminalClient
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.sim.backfill import history_messages
from feeds.sim.config import DemoConfig
from feeds.sim.driver import Refresh, run_simulator
from feeds.sim.field import FieldCrew, Task
from feeds.sim.simulator import SimConfig, Simulator
from feeds.sim.tasks import StateTasks, TaskSource

if TYPE_CHECKING:  # OpenCV is imported by the capture process only
    from domain.video import Camera
    from feeds.video.motion import MotionZone

log = logging.getLogger(__name__)

CAMSIM_CAMERAS = 10_000  # distinct camera ids the synthetic server serves
BACKFILL_BATCH = 1000


def make_simulator(ctx: CityContext, index: GridIndex, sim: DemoConfig,
                   field_loop: bool = False) -> Simulator:
    """The simulator of the roster, reporting in WGS-84 as phones do. `field_loop`: the
    dispatchers and the officers' tasks move the cases (else the simulator itself does)."""
    datum = ctx.hierarchy.datum
    return Simulator(
        officers=list(ctx.roster.values()), random_point=index.random_point,
        to_wgs84=lambda lon, lat: to_datum(lon, lat, datum, "wgs84"), rules=ctx.rules,
        config=SimConfig(position_interval_s=sim.position_interval_s,
                         incidents_per_hour=sim.incidents_per_hour, progress=not field_loop,
                         rhythm=field_loop),
        to_wgs84_many=lambda lons, lats: to_datum_arrays(lons, lats, datum, "wgs84"))


def field_refresh(simulator: Simulator, source: TaskSource, client: redis.Redis) -> Refresh:
    """The driver's refresh: officers real devices hold are left alone, the others take up
    their tasks (acks go back to the source)."""
    crew = FieldCrew(simulator.rules, np.random.default_rng(simulator.seed + 1), simulator.msg)
    simulator.field_step = crew.step

    def poll(now: float) -> tuple[list[Task], dict[str, str]]:
        return source.poll(), recent_devices(client, now)

    async def refresh(now: float) -> None:
        try:
            tasks, real = await asyncio.to_thread(poll, now)
        except redis.RedisError as e:
            log.warning("cannot read tasks (%s)", e)
            return
        if set(real) != simulator.real:
            log.info("real devices report for %d officers: not simulated", len(real))
        simulator.real = frozenset(real)
        crew.sync([t for t in tasks if t.officer_id not in real], now)
        if crew.acks:
            source.ack(crew.acks)
            crew.acks.clear()
    return refresh


async def backfill(ctx: CityContext, index: GridIndex, sim: DemoConfig, data_dir: Path,
                   url: str, token: str, stop: asyncio.Event) -> None:
    """On the first run, send the demo's past cases through the gateway (with progress)."""
    marker = data_dir / ".history-sent"
    if sim.history_days <= 0 or marker.exists():
        return
    datum = ctx.hierarchy.datum
    started = time.perf_counter()
    msgs = history_messages(list(ctx.roster.values()), index.random_point,
                            lambda lon, lat: to_datum(lon, lat, datum, "wgs84"), ctx.rules,
                            days=sim.history_days, per_hour=sim.history_rate)
    log.info("sending %d days of past cases (%d messages, made in %.1f s)",
             sim.history_days, len(msgs), time.perf_counter() - started)
    client = TerminalClient(url, token)
    for i in range(0, len(msgs), BACKFILL_BATCH):
        if stop.is_set():
            return
        await client.deliver(msgs[i:i + BACKFILL_BATCH], stop=stop)
        if (i // BACKFILL_BATCH) % 20 == 0:
            log.info("past cases: %d%% sent", 100 * (i + BACKFILL_BATCH) // len(msgs))
    await client.close()
    marker.write_text(f"{len(msgs)} messages, {client.acked} acked, {client.nacked} refused\n")
    log.info("past cases sent: %d acked, %d refused", client.acked, client.nacked)


async def _simulate(ctx: CityContext, sim: DemoConfig, data_dir: Path, url: str,
                    token: str, redis_url: str) -> None:
    index = GridIndex(ctx.city)
    simulator = make_simulator(ctx, index, sim, field_loop=bool(redis_url))
    stop = asyncio.Event()
    stop_on_signals(stop)
    await backfill(ctx, index, sim, data_dir, url, token, stop)
    refresh = None
    if redis_url:
        client = reads.connect(redis_url)
        refresh = field_refresh(simulator, StateTasks(client, ctx.towns, ctx.roster), client)
    log.info("simulating %d officers every %.0f s, %.0f cases/h → %s", len(ctx.roster),
             sim.position_interval_s, sim.incidents_per_hour, url)
    await run_simulator(simulator, url, token, stop, connections=sim.connections,
                        refresh=refresh)


def run_simulate(ctx: CityContext, sim: DemoConfig, data_dir: Path, gateway_url: str,
                 token: str, redis_url: str = "") -> None:
    """Run the demo simulator against the gateway at `gateway_url` until SIGINT/SIGTERM;
    with `redis_url` its officers work the tasks the dispatchers give them."""
    asyncio.run(_simulate(ctx, sim, data_dir, gateway_url, token, redis_url))


def run_dispatchers(ctx: CityContext, sim: DemoConfig, data_dir: Path, redis_url: str) -> None:
    """Run the demo's simulated town dispatchers until SIGINT/SIGTERM (once any history is in)."""
    from feeds.sim.dispatch_main import run_dispatch  # noqa: PLC0415

    run_dispatch(ctx, redis_url, data_dir / ".history-sent" if sim.history_days > 0 else None)


def run_cameras(sim: DemoConfig) -> None:
    """Serve the demo's synthetic cameras (MJPEG of rendered frames) on 127.0.0.1."""
    from feeds.sim.camsim import run_camsim  # noqa: PLC0415  (OpenCV only in this process)

    run_camsim("127.0.0.1", sim.camsim_port, cameras=CAMSIM_CAMERAS)


def registry_cameras(city_file: Path, sim: DemoConfig) -> list[Camera]:
    """The demo cameras on the synthetic server, one per grid (what the registry holds)."""
    from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415
    from feeds.sim.cameras import demo_cameras  # noqa: PLC0415

    return demo_cameras(load_hierarchy(city_file), f"http://127.0.0.1:{sim.camsim_port}")


def capture_cameras(city_file: Path, sim: DemoConfig) -> tuple[list[Camera], list[MotionZone]]:
    """The demo cameras on the synthetic server and the motion zones (the quiet strips) of
    sim.motion_cameras of them spread over the city: those are read continuously, the rest
    only while watched or recorded."""
    from feeds.sim.cameras import demo_zones, spread  # noqa: PLC0415

    cams = registry_cameras(city_file, sim)
    return cams, demo_zones(spread(cams, sim.motion_cameras)) if sim.motion_cameras else []
