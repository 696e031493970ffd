"""Prometheus metrics of every component, shared through the multiprocess collector.

`setup_metrics` (called once by the launcher, before any metric is made) points
prometheus-client at the metrics directory of the tree, so each process writes its own files
there and the web process's `GET /metrics` sums them. The metrics themselves are made on first
use (making one opens its file: no I/O at import time).
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
from collections import Counter as Counter_
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

from domain.regions import Level

LEVEL_NAMES = tuple(lv.value for lv in Level)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # what prometheus-client reads
CONTENT_TYPE = CONTENT_TYPE_LATEST
_REASON = re.compile(r"^([a-z_][a-z_./]{0,39}):")
_state: dict[str, Path] = {}


def identity(pid: int | None = None) -> str:
    """The name of a process's metric files: host and pid (containers share the folder)."""
    return f"{socket.gethostname()}-{os.getpid() if pid is None else pid}"


def setup_metrics(directory: Path) -> None:
    """Write this process's metrics into `directory` (shared by every process of the tree);
    its live gauges are removed again when it exits. The launcher has set MULTIPROC_ENV to
    it (prometheus-client reads that name)."""
    directory.mkdir(parents=True, exist_ok=True)
    values.ValueClass = values.MultiProcessValue(process_identifier=identity)
    _state["dir"] = directory
    atexit.register(mark_dead, identity())


def clear_metrics(directory: Path) -> None:
    """Remove the files of an earlier run (the launcher does, before it starts anything)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def mark_dead(ident: str) -> None:
    """Forget the live gauges of a process that exited (its counters stay in the sums)."""
    directory = _state.get("dir")
    if directory is not None:
        multiprocess.mark_process_dead(ident, str(directory))


def render() -> bytes:
    """The Prometheus text of every process (or of this one, without a metrics folder)."""
    directory = _state.get("dir")
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(directory))
    return generate_latest(registry)


def refusal_reason(reason: str) -> str:
    """A refusal's label: the field it names (`lat/lon`, `officer_id` …), else `message`."""
    m = _REASON.match(reason)
    if m:
        return m.group(1)
    return "frame" if reason.startswith(("frame", "empty batch", "batch of")) else "message"


@cache
def positions_acked() -> Counter:
    """Position (and duty) messages the gateway stored and acked."""
    return Counter("gridwatch_positions_acked", "position messages stored and acked")


@cache
def messages_acked() -> Counter:
    """Every message the gateway stored and acked, by type of stream."""
    return Counter("gridwatch_messages_acked", "messages stored and acked", ["stream"])


@cache
def messages_refused() -> Counter:
    """Messages the gateway refused (dead-lettered), by reason."""
    return Counter("gridwatch_messages_refused", "messages refused", ["reason"])


@cache
def feed_lag() -> Gauge:
    """Seconds since the newest position of the worker's towns (the freshest worker's)."""
    return Gauge("gridwatch_feed_lag_seconds", "age of the newest position",
                 multiprocess_mode="livemin")


@cache
def worker_backlog() -> Gauge:
    """Entries the workers read and have not acked yet."""
    return Gauge("gridwatch_worker_backlog", "stream entries pending in the worker group",
                 multiprocess_mode="livesum")


@cache
def worker_applied() -> Counter:
    """Stream entries the workers applied."""
    return Counter("gridwatch_worker_applied", "stream entries applied to the city state")


@cache
def push_clients() -> Gauge:
    """Browsers subscribed to the push channel, by the level of their region."""
    return Gauge("gridwatch_push_clients", "push channel subscribers", ["scope_level"],
                 multiprocess_mode="livesum")


@cache
def push_bytes() -> Counter:
    """Bytes of frames the push channel sent."""
    return Counter("gridwatch_push_bytes", "bytes sent to push subscribers")


@cache
def camera_up() -> Gauge:
    """1 when the capture worker has a fresh frame of the camera, else 0."""
    return Gauge("gridwatch_camera_up", "camera has a fresh frame", ["camera"],
                 multiprocess_mode="livemax")


def count_answers(results: list) -> None:
    """Count a stored frame's messages: acked ones by stream, refused ones by reason (one
    increment per label and frame: a multiprocess counter's inc costs a few µs)."""
    refused: Counter_[str] = Counter_()
    acked: Counter_[str] = Counter_()
    for r in results:
        reason = getattr(r, "reason", None)
        if reason is not None:
            refused[refusal_reason(reason)] += 1
            continue
        stream = getattr(r, "stream", None)  # a photo (stored as a file) has none
        acked[stream.split(":", 1)[0] if stream else "attachment"] += 1
    for reason, n in refused.items():
        messages_refused().labels(reason).inc(n)
    for kind, n in acked.items():
        messages_acked().labels(kind).inc(n)
    if acked["pos"]:
        positions_acked().inc(acked["pos"])


@cache
def messages_unreplicated() -> Counter:
    """Messages nacked because the replicas did not confirm them within the WAIT timeout."""
    return Counter("gridwatch_messages_unreplicated",
                   "messages nacked: replicas did not confirm in time")


def count_unreplicated(n: int) -> None:
    """Count messages nacked for want of replicas' confirmation."""
    messages_unreplicated().inc(n)


def count_clients(levels: Iterable[str]) -> None:
    """Set the push subscribers' gauge: how many per level of their region (0 for the rest)."""
    counts = Counter_(levels)
    push_bytes()  # exported (at 0) from the first count on, before anyone subscribed
    for level in LEVEL_NAMES:
        push_clients().labels(level).set(counts.get(level, 0))


@cache
def clips_cut() -> Counter:
    """Clips the capture worker cut, by state (ready, or failed: no frames in the window)."""
    return Counter("gridwatch_clips", "clips cut for flagged events", ["state"])


@cache
def clip_seconds() -> Histogram:
    """Seconds of video in each clip that was cut."""
    return Histogram("gridwatch_clip_seconds", "video seconds per clip",
                     buckets=(5, 10, 15, 20, 25, 30, 45, 60, 120))


def count_clip(seconds: float | None) -> None:
    """Count one clip: its length when it was made, None when it failed."""
    clips_cut().labels("failed" if seconds is None else "ready").inc()
    if seconds is not None:
        clip_seconds().observe(seconds)
