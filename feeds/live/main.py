"""The state worker process: applies the streams to the city state, re-levels cases."""
from __future__ import annotations

import gc
import logging
import signal
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

from feeds.geo.datum import to_datum
from feeds.live import reads
from feeds.live.config import LiveConfig
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker, partition
from feeds.ops import heartbeat, metrics
from feeds.ops.config import OpsConfig

log = logging.getLogger(__name__)


def worker_beat(worker: StateWorker, every_s: float) -> Callable[[], None]:
    """The worker's heartbeat: its backlog and feed lag as gauges, its beat in Redis."""
    def beat() -> None:
        pending = reads.pending_count(worker.client, worker.towns)
        lag = reads.last_entry_age(worker.client, worker.towns)
        metrics.worker_backlog().set(pending)
        if lag is not None:
            metrics.feed_lag().set(lag)
        heartbeat.beat(worker.client, "worker", metrics.identity(), consumer=worker.consumer,
                       pending=pending, applied=worker.applied, every_s=every_s)
    return beat


def run_worker(ctx: CityContext, live: LiveConfig, redis_url: str, tz: ZoneInfo,
               index: int = 0, count: int = 1, ops: OpsConfig | None = None) -> None:
    """Run worker `index` of `count` (it takes its share of the towns) until SIGINT/SIGTERM."""
    ops = ops or OpsConfig()
    state = CityState.with_roster(ctx.rules, ctx.roster)
    towns = partition(ctx.towns, index, count)
    datum = ctx.hierarchy.datum
    worker = StateWorker(reads.connect(redis_url), state, towns, tz,
                         ctx.rules_config.relevel_interval_s,
                         consumer=live.worker_name or f"worker-{index + 1}",
                         to_wgs84=lambda lon, lat: to_datum(lon, lat, datum, "wgs84"),
                         time_scale=live.time_scale)
    worker.beat, worker.beat_s = worker_beat(worker, ops.heartbeat_s), ops.heartbeat_s
    worker.bootstrap()
    # The city, the roster and the cases held live long: out of the collector's sight (now, and
    # after each minute's trim for the cases since), a full collection no longer walks them. It
    # took up to 560 ms at 10× Dongguan load with 800 cases open, and found nothing to free
    # (the state has no cycles); every case behind it waited.
    gc.freeze()
    worker.settle_heap = gc.freeze
    # A batch makes ~10^5 short-lived containers (the read entries, freed by reference
    # counting): at the default a full collection ran after every 70,000 allocations, several
    # times a second at 10× load, walking them in vain. Young collections stay as they are.
    gc.set_threshold(700, 10, 1000)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("worker %d/%d running for %d towns", index + 1, count, len(towns))
    worker.run(stop)
    log.info("worker stopped after %d entries", worker.applied)
