"""The long-running parts of Gridwatch, each runnable as its own process."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.push import LiveHub, serve_push
from dashboard.settings import Settings
from feeds.accounts import auth
from feeds.geo.datum import to_datum, to_datum_arrays
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, device_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.ingest.osmand import OsmandServer, device_officer, serve_osmand
from feeds.ingest.terminal_client import TerminalClient
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker, partition
from feeds.sim.backfill import history_messages
from feeds.sim.driver import run_simulator
from feeds.sim.simulator import SimConfig, Simulator
from feeds.store.client import async_client
from gridwatch.supervisor import shared_socket

log = logging.getLogger(__name__)


def load_context(settings: Settings) -> CityContext:
    """Load the city, roster and rules named by the settings."""
    return CityContext.load(settings.city_file, settings.officers_file, settings.rules_file,
                            settings.data_dir)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def terminal_token() -> str:
    """The demo terminals' shared token (GRIDWATCH_TERMINAL_TOKEN)."""
    token = os.environ.get("GRIDWATCH_TERMINAL_TOKEN", "")
    if not token:
        raise SystemExit("GRIDWATCH_TERMINAL_TOKEN is not set")
    return token


async def _gateway(settings: Settings, redis_url: str) -> None:
    ctx = load_context(settings)
    started = time.perf_counter()
    index = GridIndex(ctx.city)
    log.info("grid index built in %.1f s", time.perf_counter() - started)
    client = async_client(redis_url)
    placer = make_placer(ctx, reads.connect(redis_url), index)
    shared = os.environ.get("GRIDWATCH_TERMINAL_TOKEN", "")
    if not shared:
        log.info("no GRIDWATCH_TERMINAL_TOKEN: only registered devices' tokens are accepted")
    gw = Gateway(client, placer, device_token_check(client, shared))
    stop = asyncio.Event()
    _stop_on_signals(stop)
    osmand = OsmandServer(gw, device_officer(client))
    shared_port = settings.processes > 1
    await asyncio.gather(serve_gateway(gw, settings.host, settings.gateway_port, stop,
                                       reuse_port=shared_port),
                         serve_osmand(osmand, settings.host, settings.osmand_port, stop,
                                      reuse_port=shared_port))
    await client.aclose()


def run_gateway(settings: Settings, redis_url: str) -> None:
    """Serve the terminal gateway until SIGINT/SIGTERM."""
    asyncio.run(_gateway(settings, redis_url))


def run_worker(settings: Settings, redis_url: str) -> None:
    """Run the state worker (apply streams, re-level cases) until SIGINT/SIGTERM."""
    ctx = load_context(settings)
    state = CityState.with_roster(ctx.rules, ctx.roster)
    towns = partition(ctx.towns, settings.process_index, settings.processes)
    default_name = f"worker-{settings.process_index + 1}"
    worker = StateWorker(reads.connect(redis_url), state, towns, ZoneInfo(settings.timezone),
                         ctx.rules_config.relevel_interval_s,
                         consumer=os.environ.get("GRIDWATCH_WORKER_NAME", default_name))
    worker.bootstrap()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("worker %d/%d running for %d towns", settings.process_index + 1,
             settings.processes, len(towns))
    worker.run(stop)
    log.info("worker stopped after %d entries", worker.applied)


async def _push(settings: Settings, redis_url: str) -> None:
    ctx = load_context(settings)
    client = async_client(redis_url)
    sync = reads.connect(redis_url)
    hub = LiveHub(client, ctx.hierarchy, ctx.roster, ctx.rules,
                  lambda token: auth.session_user(sync, token), settings.push_flush_s)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await serve_push(hub, settings.host, settings.live_port, stop,
                     reuse_port=settings.processes > 1)
    await client.aclose()


def run_push(settings: Settings, redis_url: str) -> None:
    """Serve the live push channel until SIGINT/SIGTERM."""
    asyncio.run(_push(settings, redis_url))


def run_web(settings: Settings, redis_url: str) -> None:
    """Serve the Dash app with waitress until SIGINT/SIGTERM."""
    from waitress import serve  # noqa: PLC0415  (only this process needs it)

    from dashboard.app import create_app  # noqa: PLC0415

    ctx = load_context(settings)
    app = create_app(settings, ctx, reads.connect(redis_url))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    log.info("dashboard on http://%s:%s/", settings.host, settings.port)
    where = ({"sockets": [shared_socket(settings.host, settings.port)]} if settings.processes > 1
             else {"host": settings.host, "port": settings.port})
    serve(app.server, threads=8, ident="gridwatch", _quiet=True, **where)


async def _simulate(settings: Settings) -> None:
    ctx = load_context(settings)
    index = GridIndex(ctx.city)
    datum = ctx.hierarchy.datum
    sim = Simulator(
        officers=list(ctx.roster.values()), random_point=index.random_point,
        to_wgs84=lambda lon, lat: to_datum(lon, lat, datum, "wgs84"), rules=ctx.rules,
        config=SimConfig(position_interval_s=settings.position_interval_s,
                         incidents_per_hour=settings.incidents_per_hour),
        to_wgs84_many=lambda lons, lats: to_datum_arrays(lons, lats, datum, "wgs84"))
    url = f"ws://{settings.host}:{settings.gateway_port}/terminal"
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await _backfill(settings, ctx, index, url, stop)
    log.info("simulating %d officers every %.0f s, %.0f cases/h → %s", len(ctx.roster),
             settings.position_interval_s, settings.incidents_per_hour, url)
    await run_simulator(sim, url, terminal_token(), stop, connections=settings.sim_connections)


async def _backfill(settings: Settings, ctx: CityContext, index: GridIndex, url: str,
                    stop: asyncio.Event) -> None:
    """On the first run, send the demo's past cases through the gateway (with progress)."""
    marker = settings.data_dir / ".history-sent"
    if settings.history_days <= 0 or marker.exists():
        return
    datum = ctx.hierarchy.datum
    started = time.perf_counter()
    msgs = history_messages(list(ctx.roster.values()), index.random_point,
                            lambda lon, lat: to_datum(lon, lat, datum, "wgs84"), ctx.rules,
                            days=settings.history_days)
    log.info("sending %d days of past cases (%d messages, made in %.1f s)",
             settings.history_days, len(msgs), time.perf_counter() - started)
    client = TerminalClient(url, terminal_token())
    for i in range(0, len(msgs), 1000):
        if stop.is_set():
            return
        await client.deliver(msgs[i:i + 1000], stop=stop)
        if (i // 1000) % 20 == 0:
            log.info("past cases: %d%% sent", 100 * (i + 1000) // len(msgs))
    await client.close()
    marker.write_text(f"{len(msgs)} messages, {client.acked} acked, {client.nacked} refused\n")
    log.info("past cases sent: %d acked, %d refused", client.acked, client.nacked)


def run_simulator_process(settings: Settings) -> None:
    """Run the demo simulator against the gateway until SIGINT/SIGTERM."""
    asyncio.run(_simulate(settings))


def run_cameras(settings: Settings) -> None:
    """Serve the demo's synthetic cameras (MJPEG of rendered frames)."""
    from feeds.sim.camsim import run_camsim  # noqa: PLC0415  (OpenCV only in this process)

    run_camsim("127.0.0.1", settings.camsim_port)


DEMO_CAMERAS = 100  # demo cameras spread over the city when no camera CSV is given


def _capture_cameras(settings: Settings) -> tuple[list, list]:
    """The cameras to capture and the default motion zones: the CSV's (no default zones),
    else demo cameras on the synthetic server watching their quiet strips."""
    from feeds.video.main import file_cameras  # noqa: PLC0415

    if settings.cameras_file is not None:
        return file_cameras(settings.data_dir, settings.cameras_file), []
    from feeds.geo.hierarchy import load_hierarchy  # noqa: PLC0415
    from feeds.sim.cameras import demo_cameras, demo_zones  # noqa: PLC0415

    city = load_hierarchy(settings.city_file)
    cams = demo_cameras(city, f"http://127.0.0.1:{settings.camsim_port}", limit=DEMO_CAMERAS)
    return cams, demo_zones(cams)


def run_capture_worker(settings: Settings, redis_url: str) -> None:
    """Run the video capture worker: camera readers, ring buffers, clips, re-streams."""
    from feeds.video.main import motion_zones, run_capture  # noqa: PLC0415  (OpenCV only here)

    cams, demo = _capture_cameras(settings)
    motion = os.environ.get("GRIDWATCH_MOTION", "1").strip().lower() not in ("0", "no", "off")
    zones_file = os.environ.get("GRIDWATCH_MOTION_ZONES") or None
    zones = motion_zones(cams, motion, Path(zones_file) if zones_file else None, demo)
    run_capture(settings.data_dir, redis_url, cams, settings.host, settings.capture_port,
                zones=zones)
