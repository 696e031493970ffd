"""The gateway process: terminals (protocol v1) and OsmAnd trackers into the streams."""
from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time

import redis

from feeds.geo.locate import GridIndex
from feeds.ingest.attachments import MediaStore
from feeds.ingest.config import IngestConfig
from feeds.ingest.gateway import Gateway, device_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.ingest.osmand import OsmandServer, device_officer, serve_osmand
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.ops import heartbeat
from feeds.ops.metrics import identity
from feeds.store.client import async_client
from feeds.store.config import StoreConfig
from feeds.store.replication import ReplicaWait

log = logging.getLogger(__name__)


def stop_on_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGINT or SIGTERM (from inside the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def _gateway(ctx: CityContext, ingest: IngestConfig, host: str, redis_url: str,
                   shared_port: bool, media: MediaStore | None, beat_s: float,
                   store: StoreConfig) -> None:
    started = time.perf_counter()
    index = GridIndex(ctx.city)
    log.info("grid index built in %.1f s", time.perf_counter() - started)
    client = async_client(redis_url)
    sync = reads.connect(redis_url)
    placer = make_placer(ctx, sync, index)
    shared = ingest.terminal_token.get_secret_value() if ingest.terminal_token else ""
    if not shared:
        log.info("no GRIDWATCH_TERMINAL_TOKEN: only registered devices' tokens are accepted")
    gw = Gateway(client, placer, device_token_check(client, shared), media=media,
                 replicas=ReplicaWait(client, store.replicas_wanted, store.wait_timeout_ms))
    settle_heap()
    stop = asyncio.Event()
    stop_on_signals(stop)
    osmand = OsmandServer(gw, device_officer(client), ingest.limits)
    listening: set[str] = set()
    await asyncio.gather(serve_gateway(gw, host, ingest.gateway_port, stop,
                                       lambda _: listening.add("terminal"),
                                       reuse_port=shared_port, limits=ingest.limits),
                         serve_osmand(osmand, host, ingest.osmand_port, stop,
                                      lambda _: listening.add("osmand"),
                                      reuse_port=shared_port),
                         beat_loop(sync, listening, stop, beat_s))
    await client.aclose()


def settle_heap() -> None:
    """Leave the start-up objects (grid index, roster: ~10^5 of them) out of the garbage
    collector's scans: every frame allocates thousands of objects, and each full collection
    would walk them all again (≈1 µs per position, profiled)."""
    gc.collect()
    gc.freeze()


async def beat_loop(sync: redis.Redis, listening: set[str], stop: asyncio.Event,
                    every_s: float) -> None:
    """Once both ports listen (the grid index is built by then), a heartbeat every few
    seconds: what the readiness probe waits for."""
    name = identity()
    while not stop.is_set():
        if listening >= {"terminal", "osmand"}:
            await asyncio.to_thread(heartbeat.beat, sync, "gateway", name, grid_index=True)
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass


def run_gateway(ctx: CityContext, ingest: IngestConfig, host: str, redis_url: str,
                shared_port: bool = False, media: MediaStore | None = None,
                beat_s: float = 2.0, store: StoreConfig | None = None) -> None:
    """Serve the terminal gateway and the OsmAnd port until SIGINT/SIGTERM (`shared_port`:
    other processes listen on the same ports; `media`: where attachments go, none
    taken without it; `beat_s`: heartbeat period; `store`: how acks wait for replicas)."""
    asyncio.run(_gateway(ctx, ingest, host, redis_url, shared_port, media, beat_s,
                         store or StoreConfig()))
