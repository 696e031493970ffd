"""The bounds of bench.soak (its docstring documents them): stream groups, the run's samples and
the table."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from feeds.ingest.gateway import DEAD_LETTER_MAXLEN, SEEN_TTL_S
from feeds.live.commands import AUDIT_MAXLEN
from feeds.live.tasks import TASK_MAXLEN
from feeds.live.worker import INCIDENT_RETENTION_S, LIVE_MAXLEN, POSITION_RETENTION_S, TRACK_MAXLEN
from feeds.sim.casework import CLOSE_MIN, HARD_SPAN, HOURLY
from feeds.store import keys
from feeds.store import video_keys as vk
from feeds.video.store import FLAGS_MAXLEN

MB = 1024 * 1024

TRIM_EVERY_S = 60  # the worker's trim interval (feeds/live/worker.py chores)
SIZED_KEYS = 3  # longest keys of a group whose MEMORY USAGE gives its bytes per entry
SIZED_MIN = 500  # … once they hold this many entries on average (5 nodes: their overhead spread)
WARM_SHARE = 0.1  # the first 10 % of the run is its warm-up
RSS_FLOOR_MB = 16.0
REDIS_MARGIN = 1.25
RSS_OVER_USED = 1.5
DONGGUAN_CASES_PER_HOUR = 300  # bench.latency's Dongguan load


@dataclass(frozen=True)
class StreamGroup:
    """Stream keys of one pattern of feeds/store/keys.py and how they are trimmed."""

    name: str
    pattern: str
    maxlen: int | None = None  # MAXLEN cap per key
    retention_s: float | None = None  # MINID age trim (real seconds, before --speed)
    scaled: bool = False  # its MAXLEN is divided by --speed too (the track: "about 6 h")

    def cap(self, speed: float) -> int | None:
        """Its MAXLEN at this speed (feeds/live/worker.py StateWorker.track_maxlen)."""
        if self.maxlen is None or not self.scaled:
            return self.maxlen
        return max(10, round(self.maxlen / speed))


GROUPS = (
    StreamGroup("pos", keys.positions("*"), retention_s=POSITION_RETENTION_S),
    StreamGroup("inc", keys.incidents_in("*"), retention_s=INCIDENT_RETENTION_S),
    StreamGroup("live", keys.live("*"), maxlen=LIVE_MAXLEN),
    StreamGroup("track", keys.track("*", "*"), maxlen=TRACK_MAXLEN, scaled=True),
    StreamGroup("tasks", keys.tasks("*", "*"), maxlen=TASK_MAXLEN),
    StreamGroup("deadletter", keys.DEAD_LETTER, maxlen=DEAD_LETTER_MAXLEN),
    StreamGroup("audit", keys.AUDIT, maxlen=AUDIT_MAXLEN),
    StreamGroup("video-flags", vk.FLAGS, maxlen=FLAGS_MAXLEN),
)


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    metric: str
    start: float
    end: float
    peak: float
    bound: float | None

    @property
    def ok(self) -> bool:
        """Within its bound (a row without a bound is informative)."""
        return self.bound is None or self.end <= self.bound


def group_of(key: str) -> StreamGroup | None:
    """The group a stream key belongs to (None: a stream no pattern knows)."""
    return next((g for g in GROUPS if fnmatch.fnmatchcase(key, g.pattern)), None)


@dataclass(frozen=True)
class Run:
    """What the bounds are derived from: the samples and the run's settings."""

    samples: list[tuple[float, dict[str, float]]]
    speed: float
    load: float
    flat_pct: float
    node_entries: int
    max_redis_mb: float | None = None

    def series(self, metric: str) -> list[float]:
        """A metric's values (0 where a sample lacks it)."""
        return [s.get(metric, 0.0) for _, s in self.samples]

    def warm_index(self) -> int:
        """The last sample of the warm-up: the first 10 % of the run, two samples at least."""
        return min(max(self.index_at(WARM_SHARE * self.samples[-1][0]), 1),
                   len(self.samples) - 1)

    def warm(self, metric: str) -> float:
        """The highest value of a metric during the warm-up."""
        return max(self.series(metric)[:self.warm_index() + 1])

    def index_at(self, t: float) -> int:
        """The index of the last sample taken at or before `t` (-1: none)."""
        return max((i for i, (ts, _) in enumerate(self.samples) if ts <= t), default=-1)

    def added_within(self, metric: str, window_s: float) -> float:
        """Entries added to a group within the last `window_s` of the run (all of them
        when the run is shorter)."""
        i = self.index_at(self.samples[-1][0] - window_s)
        end = self.samples[-1][1].get(metric, 0.0)
        return end - (self.samples[i][1].get(metric, 0.0) if i >= 0 else 0.0)


def stream_bound(run: Run, metric: str) -> float | None:
    """The documented bound of a stream metric (None: informative only)."""
    _, label, what = metric.split(":")
    g = next((g for g in GROUPS if g.name == label), None)
    end = run.samples[-1][1]
    nkeys = end.get(f"stream:{label}:keys", 0.0)
    if g is None or what in ("keys", "added"):
        return None
    if g.maxlen is not None:
        return g.cap(run.speed) + run.node_entries if what == "longest" else None
    if what != "len" or g.retention_s is None:
        return None
    window = g.retention_s / run.speed + TRIM_EVERY_S
    return run.added_within(f"stream:{label}:added", window) + nkeys * run.node_entries


def steady_len(run: Run, g: StreamGroup) -> float:
    """A group's entries once it is at its steady length: MINID groups their add rate over
    the run × the retention, MAXLEN groups keys × MAXLEN at most."""
    (t0, first), (t1, last) = run.samples[0], run.samples[-1]
    n = last.get(f"stream:{g.name}:len", 0.0)
    if g.retention_s is not None:
        rate = (last.get(f"stream:{g.name}:added", 0.0)
                - first.get(f"stream:{g.name}:added", 0.0)) / max(t1 - t0, 1.0)
        return max(n, rate * g.retention_s / run.speed)
    return max(n, last.get(f"stream:{g.name}:keys", 0.0) * (g.cap(run.speed) or 0))


def per_entry(s: dict[str, float], g: StreamGroup) -> float:
    """A group's bytes per entry; for a group whose keys are still short, a position
    entry's (larger than a track fix, 233 vs 69 B in docs/deployment.md)."""
    return s.get(f"stream:{g.name}:bytes_per_entry") or s.get("stream:pos:bytes_per_entry", 0.0)


def stream_mb(s: dict[str, float], lengths: dict[str, float] | None = None) -> float:
    """MB the entries of the known stream groups take in one sample (or would at
    `lengths`)."""
    return sum((lengths or {}).get(g.name, s.get(f"stream:{g.name}:len", 0.0))
               * per_entry(s, g) for g in GROUPS) / MB


def other_series(run: Run) -> list[float]:
    """Redis used_memory outside the streams (MB): the idempotency keys, state hashes…"""
    return [s["redis:used_memory_mb"] - stream_mb(s) for _, s in run.samples]


def other_bound(run: Run) -> float | None:
    """Memory outside the streams, once the idempotency keys are at their steady count
    (their TTL, real time, + 5 min, or the warm-up if later): the highest value
    until then × the flat margin + the RSS floor. None when that point is past 60 % of the
    run."""
    t_end = run.samples[-1][0]
    settled = max(WARM_SHARE * t_end, SEEN_TTL_S + 300)
    i = run.index_at(settled)
    if settled > 0.6 * t_end or i < 0:
        return None
    return max(other_series(run)[:i + 1]) * (1 + run.flat_pct / 100) + RSS_FLOOR_MB


def steady_redis_mb(run: Run) -> float:
    """Redis used_memory (MB) once every stream is at its steady length, projected: the
    memory outside the streams (its bound, or its end value) + each group's steady length ×
    its bytes per entry."""
    last = run.samples[-1][1]
    other = other_bound(run) or other_series(run)[-1]
    return other + stream_mb(last, {g.name: steady_len(run, g) for g in GROUPS})


def redis_bound(run: Run) -> float:
    """The projected steady-state used_memory (MB) with its margin, or --max-redis-mb."""
    return REDIS_MARGIN * steady_redis_mb(run) if run.max_redis_mb is None else run.max_redis_mb


def case_bound(run: Run, rules_max_resolve_s: float, cases_per_hour: float) -> float:
    """Open cases: the warm-up's count with the flat margin, or Little's law at the peak
    hour (rate × the longest a case lives), whichever is higher."""
    life_s = rules_max_resolve_s * HARD_SPAN[1] / run.speed + 10 * CLOSE_MIN * 60
    little = cases_per_hour * run.speed * float(HOURLY.max()) / 3600 * life_s
    return max(run.warm("open_cases") * (1 + run.flat_pct / 100), little)


def bound_of(run: Run, metric: str, max_resolve_s: float, cases_per_hour: float
             ) -> float | None:
    """The bound of any metric."""
    flat = 1 + run.flat_pct / 100
    if metric.startswith("stream:"):
        return stream_bound(run, metric)
    if metric.startswith("rss_mb:"):
        return run.warm(metric) * flat + RSS_FLOOR_MB
    if metric == "page:errors":
        return 0.0
    if metric.startswith("page:"):
        return run.warm(metric) * flat
    if metric == "open_cases":
        return case_bound(run, max_resolve_s, cases_per_hour)
    if metric == "redis:other_mb":
        return other_bound(run)
    if metric == "redis:used_memory_mb":
        return redis_bound(run)
    if metric == "redis:used_memory_rss_mb":
        return RSS_OVER_USED * redis_bound(run)
    return None


def table(run: Run, max_resolve_s: float, cases_per_hour: float) -> list[Row]:
    """Every metric seen, with start, end, max and bound."""
    names = sorted({k for _, s in run.samples for k in s} | {"redis:other_mb"})
    series = {m: other_series(run) if m == "redis:other_mb" else run.series(m) for m in names}
    return [Row(m, v[0], v[-1], max(v), bound_of(run, m, max_resolve_s, cases_per_hour))
            for m, v in series.items()]


def print_table(rows: list[Row]) -> None:
    """The table, one metric a line."""
    print(f"{'metric':<32} {'start':>14} {'end':>14} {'max':>14} {'bound':>14}  ok")
    for r in rows:
        bound = "-" if r.bound is None else f"{r.bound:14,.1f}"
        ok = "-" if r.bound is None else ("yes" if r.ok else "NO")
        print(f"{r.metric:<32} {r.start:14,.1f} {r.end:14,.1f} {r.peak:14,.1f} {bound:>14}  {ok}")
