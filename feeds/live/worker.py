"""The state worker: applies the input streams to Redis state and publishes live changes."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis

from domain.entries import CaseRecord, LiveFrame, decode_case, decode_entry, encode
from domain.model import Incident
from domain.regions import town_of
from feeds.live.state import RECENT_S, Changes, CityState, OfficerState, marker_of
from feeds.live.tasks import add_task, task_msg
from feeds.ops.metrics import worker_applied
from feeds.store import keys, slotread
from feeds.store.client import is_cluster

log = logging.getLogger(__name__)

LIVE_MAXLEN = 2_000  # per town: push reads from the end; this bridges a push restart (at
# 20,000 a busy town's 6.7 KB frames made 4 GB of Dongguan's Redis, bench.soak)
TRACK_MAXLEN = 2_400  # fixes per officer: about 6 h at one every 10 s
POSITION_RETENTION_S = 6 * 3600
INCIDENT_RETENTION_S = 30 * 24 * 3600
RECLAIM_IDLE_MS = 15_000  # a pending entry this long unacked belongs to a dead consumer
RECLAIM_EVERY_S = 5.0
READ_COUNT = 500  # entries per stream and read: about a second of a town's fixes at 10× load
POSITION_CHUNK = 1000  # positions applied per pipeline; new cases are looked for between


def day_start(now: float, tz: ZoneInfo) -> float:
    """Epoch seconds of local midnight of the day `now` falls in."""
    local = datetime.fromtimestamp(now, tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def partition(towns: Iterable[str], index: int, n: int) -> list[str]:
    """The towns worker `index` of `n` owns: every n-th of the sorted towns (deterministic,
    so a restarted worker finds its own pending entries under the same consumer name)."""
    return sorted(towns)[index::n]


class TownPipes:
    """Transactions for the worker's writes: one MULTI/EXEC on a single Redis, one per town on
    a Redis Cluster (all of a town's keys share its hash tag, so its slot)."""

    def __init__(self, client: Any):
        self.client = client
        self.per_town = is_cluster(client)
        self.pipes: dict[str, Any] = {}

    def __call__(self, town: str) -> Any:
        """The transaction pipeline a town's writes go to."""
        key = town if self.per_town else ""
        if key not in self.pipes:
            self.pipes[key] = self.client.pipeline(transaction=True)
        return self.pipes[key]

    def execute(self) -> None:
        """Run every transaction."""
        for pipe in self.pipes.values():
            pipe.execute()


class StateWorker:
    """Reads the towns' input streams as consumer group 'state' and keeps Redis state."""

    def __init__(self, client: redis.Redis, state: CityState, towns: Iterable[str],
                 tz: ZoneInfo, relevel_interval_s: float = 5.0, consumer: str = "worker-1",
                 to_wgs84: Callable[[float, float], tuple[float, float]] | None = None,
                 time_scale: float = 1.0):
        self.client = client
        self.time_scale = time_scale  # compressed time (live.time_scale): trims, caps, memory
        self.track_maxlen = max(10, round(TRACK_MAXLEN / time_scale))
        self.to_wgs84 = to_wgs84 or (lambda lon, lat: (lon, lat))  # the store's datum → phones'

        self.state = state
        self.towns = sorted(towns)
        self.tz = tz
        self.relevel_interval_s = relevel_interval_s
        self.consumer = consumer
        self.streams = [keys.positions(t) for t in self.towns] + \
                       [keys.incidents_in(t) for t in self.towns]
        self.case_streams = {keys.incidents_in(t) for t in self.towns}
        self.counts: dict[str, dict[str, int]] = {}
        self.applied = 0
        self.reclaimed = 0
        self.reclaim_idle_ms = RECLAIM_IDLE_MS
        self.chunk = POSITION_CHUNK
        self.beat: Callable[[], None] | None = None  # heartbeat and gauges (feeds/ops)
        self.beat_s = 2.0
        self.settle_heap: Callable[[], None] | None = None  # after each trim (the process's GC)

    def bootstrap(self) -> None:
        """Create the consumer groups and load the last state from Redis."""
        for s in self.streams:
            try:
                self.client.xgroup_create(s, keys.WORKER_GROUP, id="0", mkstream=True)
            except redis.ResponseError as e:
                if "BUSYGROUP" not in str(e):
                    raise
        pipe = self.client.pipeline(transaction=False)
        for t in self.towns:
            pipe.hgetall(keys.officers(t))
            pipe.hgetall(keys.incidents(t))
        res = pipe.execute()
        now = time.time()
        for offs, incs in zip(res[::2], res[1::2], strict=True):
            for oid, raw in offs.items():
                oid = oid.decode()
                if oid in self.state.officers:
                    self.state.officers[oid] = OfficerState.from_json(oid, orjson.loads(raw))
            for raw in incs.values():
                self.state.add(decode_case(raw).incident())
        self.state.prune(now, RECENT_S / self.time_scale)
        log.info("worker loaded %d officers, %d cases", len(self.state.officers),
                 len(self.state.incidents))

    def reload(self) -> None:
        """Forget the in-memory state and load it again from Redis (after a failed write the
        memory may be ahead of what Redis holds)."""
        for oid, st in self.state.officers.items():
            self.state.officers[oid] = OfficerState(oid, st.home)
        self.state.incidents.clear()
        self.state.by_town.clear()
        self.counts.clear()
        self.bootstrap()

    def adopt(self) -> int:
        """Take over (XAUTOCLAIM, no idle time) every entry other consumers of our streams
        left pending: at start they belong to a dead predecessor, and reading them (as our own
        pending, in stream order) before new entries keeps each case's events in order."""
        taken = 0
        for s in self.streams:
            cursor = "0-0"
            while True:
                res = self.client.xautoclaim(s, keys.WORKER_GROUP, self.consumer, 0,
                                             start_id=cursor, count=1000)
                cursor = res[0].decode() if isinstance(res[0], bytes) else res[0]
                taken += len(res[1])
                if cursor == "0-0":
                    break
        if taken:
            log.warning("took over %d pending entries (a predecessor's or our own unacked)",
                        taken)
        return taken

    def run(self, stop: threading.Event) -> None:
        """Process batches until `stop` is set. At start, and after any Redis error (with the
        state reloaded), first read the pending entries again, then new ones."""
        now = time.time()
        due = {"relevel": 0.0, "trim": now + 60, "reclaim": now + RECLAIM_EVERY_S}
        backlog: dict[str, str] | None = None  # None: start again from the pending entries
        failed = False
        while not stop.is_set():
            try:
                if backlog is None:
                    if failed:
                        self.reload()
                        log.info("worker reloaded its state after a Redis error")
                    self.adopt()
                    backlog = {s: "0" for s in self.streams}
                backlog = self.step(backlog)
                self.chores(due)
            except redis.RedisError as e:
                log.warning("redis error (%s); reloading state in 1 s", e)
                backlog, failed = None, True
                stop.wait(1.0)

    def chores(self, due: dict[str, float]) -> None:
        """Re-level cases, reclaim dead consumers' entries and trim streams when due."""
        now = time.time()
        if now >= due["relevel"]:
            self.relevel(now)
            due["relevel"] = now + self.relevel_interval_s
        if now >= due["reclaim"]:
            self.reclaim()
            due["reclaim"] = now + RECLAIM_EVERY_S
        if now >= due["trim"]:
            self.trim(now)
            due["trim"] = now + 60
        if self.beat is not None and now >= due.get("beat", 0.0):
            self.beat()
            due["beat"] = now + self.beat_s

    def reclaim(self, count: int = 1000, rounds: int = 10) -> int:
        """Take over (XAUTOCLAIM) and apply entries another consumer read but never acked
        for reclaim_idle_ms; returns how many were applied."""
        total = 0
        for _ in range(rounds):
            pipe = self.client.pipeline(transaction=False)
            for s in self.streams:
                pipe.xautoclaim(s, keys.WORKER_GROUP, self.consumer, self.reclaim_idle_ms,
                                start_id="0-0", count=count)
            entries = [(s, eid, fields)
                       for s, res in zip(self.streams, pipe.execute(), strict=True)
                       for eid, fields in res[1] if fields]
            if not entries:
                break
            log.warning("reclaimed %d entries a dead consumer left pending", len(entries))
            self.apply(entries)
            total += len(entries)
        self.reclaimed += total
        return total

    def step(self, ids: dict[str, str], block_ms: int = 200) -> dict[str, str]:
        """Read one batch (pending first), apply it, write state, ack. Returns the next ids."""
        resp = slotread.xreadgroup(self.client, keys.WORKER_GROUP, self.consumer, ids,
                                   count=READ_COUNT, block_ms=block_ms)
        nxt = dict(ids)
        entries: list[tuple[str, bytes, dict[bytes, bytes]]] = []
        for stream, items in resp or []:
            name = stream.decode()
            if not items and ids[name] != ">":
                nxt[name] = ">"  # pending drained
            for entry_id, fields in items:
                entries.append((name, entry_id, fields))
        cases = [e for e in entries if e[0] in self.case_streams]
        positions = [e for e in entries if e[0] not in self.case_streams]
        # cases first (desks wait for them), in stream order: nothing newer may come between
        # two chunks of them, or a case's later update would be applied before its earlier one
        for i in range(0, len(cases), self.chunk):
            self.apply(cases[i:i + self.chunk])
        # a big batch of positions goes in chunks, with a look for new cases between them, so
        # a case that arrives meanwhile waits for one chunk, not for the whole batch
        for i in range(0, len(positions), self.chunk):
            if i:
                self.apply_new_cases(nxt)
            self.apply(positions[i:i + self.chunk])
        return nxt

    def apply_new_cases(self, ids: dict[str, str]) -> None:
        """Apply case entries that arrived since the batch was read (a non-blocking read of the
        case streams already past their pending entries)."""
        fresh = {s: ">" for s in self.case_streams if ids.get(s) == ">"}
        if not fresh:
            return
        resp = slotread.xreadgroup(self.client, keys.WORKER_GROUP, self.consumer, fresh,
                                   count=self.chunk, block_ms=None)
        cases = [(stream.decode(), eid, fields) for stream, items in resp for eid, fields in items]
        if cases:
            self.apply(cases)

    def apply(self, entries: list[tuple[str, bytes, dict[bytes, bytes]]]) -> None:
        """Apply stream entries and persist the changes in one pipeline."""
        now = time.time()
        changes = Changes()
        for _stream, _eid, fields in entries:
            try:
                entry = decode_entry(fields[b"m"])
                if entry is not None:
                    self.state.apply(entry, now, changes)
            except (KeyError, ValueError, TypeError) as e:
                log.error("skipping malformed stream entry %s: %s", _eid, e)
        # MULTI/EXEC per town (a cluster transaction cannot span slots; a town's keys share
        # one): its state changes and XACKs land together or not at all, so a crash can neither
        # lose an entry nor apply it twice
        pipes = TownPipes(self.client)
        self._write(pipes, changes, now)
        by_stream: dict[str, list[bytes]] = {}
        for stream, eid, _ in entries:
            by_stream.setdefault(stream, []).append(eid)
        for stream, eids in by_stream.items():
            pipes(keys.town_of(stream)).xack(stream, keys.WORKER_GROUP, *eids)
        pipes.execute()
        self.applied += len(entries)
        worker_applied().inc(len(entries))

    def _write_tasks(self, pipes: TownPipes, changes: Changes) -> None:
        """Append the tasks the commands send down to their officers' streams."""
        for oid, why, inc, cmd in changes.tasks:
            home = self.state.officers[oid].home
            base = cmd.msg_id or f"{cmd.incident_id}.{int(cmd.ts * 1000)}"
            msg = task_msg(inc, why, f"task:{base}:{oid}", cmd.ts, cmd.note, self.to_wgs84)
            add_task(pipes(town_of(home)), home, oid, msg, inc.town)

    def _write(self, pipes: TownPipes, changes: Changes, now: float) -> None:
        self._write_tasks(pipes, changes)
        for town, oid, ts, lon, lat, grid in changes.fixes:
            pipes(town).xadd(keys.track(town, oid), {"p": f"{ts:.3f},{lon},{lat},{grid}"},
                             maxlen=self.track_maxlen, approximate=True)
        towns_with_cases = set(changes.incidents) | set(changes.closed)
        counts = self._recount(towns_with_cases, now)
        for town in changes.towns | set(counts):
            pipe = pipes(town)
            self.persist_counts(pipe, {town: counts[town]} if town in counts else {})
            offs = changes.officers.get(town, {})
            if offs:
                self._write_officers(pipe, town, offs)
            incs = changes.incidents.get(town, {})
            closed = changes.closed.get(town, set())
            frame = LiveFrame(
                ts=now, town=town, officers=[v.row() for v in offs.values()],
                incidents=[marker_of(v, self.state.rules) for v in incs.values()],
                cases=self._write_cases(pipe, town, incs, closed), closed=sorted(closed),
                counts=counts.get(town))
            pipe.xadd(keys.live(town), {"m": encode(frame)}, maxlen=LIVE_MAXLEN,
                      approximate=True)

    @staticmethod
    def _write_officers(pipe: Any, town: str, offs: dict[str, OfficerState]) -> None:
        """Store changed officers: their hash values and their places on the map."""
        pipe.hset(keys.officers(town), mapping={
            k: orjson.dumps(v.to_json()) for k, v in offs.items()})
        geo = [x for v in offs.values() if v.lon is not None
               for x in (v.lon, v.lat, v.officer_id)]
        if geo:
            pipe.geoadd(keys.officers_geo(town), geo)

    def _write_cases(self, pipe: Any, town: str, incs: dict[str, Incident],
                     closed: set[str]) -> list[CaseRecord]:
        """Store changed cases (closed ones leave the open set); returns their records."""
        cases = []
        for iid in closed:
            case = CaseRecord.of(self.state.incidents[iid])
            cases.append(case)
            pipe.hset(keys.incidents(town), iid, encode(case))
            pipe.zrem(keys.open_incidents(town), iid)
        for iid, inc in incs.items():
            case = CaseRecord.of(inc)
            cases.append(case)
            pipe.hset(keys.incidents(town), iid, encode(case))
            pipe.zadd(keys.open_incidents(town), {iid: inc.reported_ts})
        return cases

    def _recount(self, towns: Iterable[str], now: float) -> dict[str, dict[str, int]]:
        """Recount the given towns; returns those whose counts changed (and stores them)."""
        start = day_start(now, self.tz)
        changed = {}
        for town in towns:
            c = self.state.town_counts(town, now, start)
            if c != self.counts.get(town):
                self.counts[town] = c
                changed[town] = c
        return changed

    def persist_counts(self, pipe: Any, counts: dict[str, dict[str, int]]) -> None:
        """Replace the stored counts hashes of some towns."""
        for town, c in counts.items():
            pipe.delete(keys.counts(town))
            if c:
                pipe.hset(keys.counts(town), mapping=c)

    def relevel(self, now: float) -> None:
        """Append level messages for cases the clock has moved, and refresh all counts."""
        msgs = self.state.relevel(now)
        pipe = self.client.pipeline(transaction=False)
        for m in msgs:
            town = self.state.incidents[m.incident_id].town
            pipe.xadd(keys.incidents_in(town), {"m": encode(m)})
        counts = self._recount(self.towns, now)
        self.persist_counts(pipe, counts)
        for town, c in counts.items():
            pipe.xadd(keys.live(town), {"m": encode(LiveFrame(ts=now, town=town, counts=c))},
                      maxlen=LIVE_MAXLEN, approximate=True)
        pipe.execute()
        if msgs:
            log.info("re-levelled %d cases", len(msgs))

    def trim(self, now: float) -> None:
        """Trim the input streams by age (MINID) and forget old closed cases."""
        pipe = self.client.pipeline(transaction=False)
        pos_min = int((now - POSITION_RETENTION_S / self.time_scale) * 1000)
        inc_min = int((now - INCIDENT_RETENTION_S / self.time_scale) * 1000)
        for t in self.towns:
            pipe.xtrim(keys.positions(t), minid=pos_min, approximate=True)
            pipe.xtrim(keys.incidents_in(t), minid=inc_min, approximate=True)
        pipe.execute()
        self.state.prune(now, RECENT_S / self.time_scale)
        if self.settle_heap is not None:
            self.settle_heap()
