"""The live push channel: reads the live streams, sends scoped deltas to browsers."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import orjson
import redis.asyncio as aredis
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from dashboard.push_gate import PUSH_LIMITS, admit, serve_push
from dashboard.push_model import Client, Pending
from domain.access import User
from domain.alerts import AlertLevel, CategoryRule, drawn_at_zoom
from domain.entries import CaseRecord, LiveFrame, Marker, decode_case, decode_live, encode
from domain.model import Officer
from domain.regions import Hierarchy, above_town, is_within, level_of, town_of, towns_covering
from feeds.ingest.config import ClientLimits
from feeds.live.clusters import OfficerIndex, View
from feeds.live.follow import follow_live, live_ends
from feeds.live.state import OfficerState, marker_of
from feeds.live.summary import child_stats, kpi, visible_counts
from feeds.ops.metrics import count_clients, push_bytes
from feeds.store import keys

log = logging.getLogger(__name__)
__all__ = ["Client", "LiveHub", "Pending", "serve_push"]

SESSION_CHECK_S = 5.0  # how often open connections' sessions are checked again
ALERT_KEEP_S = 120.0  # a wall that reconnects within this still gets a new red case
VIEW_EVERY_S = 1.0  # a viewport-clustered client gets its officers at most this often




class LiveHub:
    """Holds the live state of the city and fans scoped deltas out to subscribers."""

    def __init__(self, client: aredis.Redis, hierarchy: Hierarchy, roster: Mapping[str, Officer],
                 rules: Mapping[str, CategoryRule],
                 session_user: Callable[[str | None], Awaitable[User | None]],
                 flush_s: float = 0.5, beat_s: float = 2.0, limits: ClientLimits = PUSH_LIMITS):
        self.client = client
        self.hierarchy = hierarchy
        self.rules = rules
        self.session_user = session_user
        self.flush_s = flush_s
        self.limits = limits
        self.origin_rule: tuple[int, list[str]] | None = None  # (web port, listed): admit()
        self.session_check_s = SESSION_CHECK_S
        self.beat_s = beat_s
        self.urgent: asyncio.Event | None = None  # set when a case changed: flush at once
        self.towns = [r.code for r in hierarchy.at_level(hierarchy.levels.shard)]
        self.officers = {o.officer_id: OfficerState(o.officer_id, o.grid) for o in roster.values()}
        self.town_officers: dict[str, list[str]] = {}  # town → ids of the officers homed there
        for o in roster.values():
            self.town_officers.setdefault(town_of(o.grid), []).append(o.officer_id)
        self.index = OfficerIndex(hierarchy, roster.values())
        self.incidents: dict[str, Marker] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.pending = Pending()
        self.clients: set[Client] = set()
        self.ids: dict[str, str] = {}
        self.as_of = 0.0
        self.town_as_of: dict[str, float] = {}  # newest live frame applied, per town
        # new red cases of the last ALERT_KEEP_S, replayed to a wall that (re)connects
        self.recent_alerts: deque[tuple[float, Marker]] = deque(maxlen=500)

    async def bootstrap(self) -> None:
        """Load the current state; remember the live streams' positions first."""
        self.ids = await live_ends(self.client, self.towns)
        for t in self.towns:  # a stream entry id starts with its epoch milliseconds
            self.town_as_of[t] = int(self.ids[keys.live(t)].split("-")[0]) / 1000
        pipe = self.client.pipeline(transaction=False)
        for t in self.towns:
            pipe.hgetall(keys.officers(t))
            pipe.hgetall(keys.counts(t))
            pipe.zrange(keys.open_incidents(t), 0, -1)
        res = await pipe.execute()
        for i, t in enumerate(self.towns):
            offs, counts, open_ids = res[3 * i: 3 * i + 3]
            for oid, raw in offs.items():
                oid = oid.decode()
                if oid in self.officers:
                    st = self.officers[oid] = OfficerState.from_json(oid, orjson.loads(raw))
                    if st.lon is not None:
                        self.index.update(oid, st.lon, st.lat, st.on_duty)
            self.counts[t] = {k.decode(): int(v) for k, v in counts.items()}
            if open_ids:
                for raw in await self.client.hmget(keys.incidents(t), open_ids):
                    if raw:
                        m = marker_of(decode_case(raw).incident(), self.rules)
                        self.incidents[m.id] = m
        self.as_of = time.time()
        log.info("push loaded %d officers, %d open cases", len(self.officers), len(self.incidents))

    def apply(self, frame: LiveFrame) -> None:
        """Merge one live-stream frame into the state and the pending delta."""
        ts = frame.ts
        for oid, lon, lat, on_duty in frame.officers:
            st = self.officers.get(oid)
            if st is not None:
                st.lon, st.lat, st.on_duty, st.ts = lon, lat, bool(on_duty), ts
                self.pending.officers.add(oid)
                self.index.update(oid, lon, lat, bool(on_duty))
        for m in frame.incidents:
            self._marker(m)
        if (frame.incidents or frame.closed) and self.urgent is not None:
            self.urgent.set()
        for iid in frame.closed:
            last = self.incidents.pop(iid, None)
            self.pending.incidents.pop(iid, None)
            if last is not None:
                self.pending.closed[iid] = last
        for case in frame.cases:
            self.pending.cases[case.incident_id] = case
        if frame.counts is not None and frame.town is not None:
            self.counts[frame.town] = frame.counts
            self.pending.counts = True
        self.as_of = max(self.as_of, ts)
        if frame.town is not None:
            self.town_as_of[frame.town] = max(self.town_as_of.get(frame.town, 0.0), ts)

    def _marker(self, m: Marker) -> None:
        """Hold an open case's new marker; one newly red is also an alert."""
        prev = self.incidents.get(m.id)
        if m.level is AlertLevel.RED and (prev is None or prev.level is not AlertLevel.RED):
            self.pending.alerts[m.id] = m
            self.recent_alerts.append((time.time(), m))
        self.incidents[m.id] = m
        self.pending.incidents[m.id] = m
        self.pending.closed.pop(m.id, None)

    def feed_as_of(self, region: str) -> float:
        """When the worker last published live data for any town of a region (0 if never)."""
        towns = towns_covering(region, self.towns)
        return max((self.town_as_of.get(t, 0.0) for t in towns), default=0.0)

    async def read_case(self, incident_id: str) -> CaseRecord | None:
        """The stored form of one case, or None."""
        town = await self.client.hget(keys.INCIDENT_TOWN, incident_id)
        raw = town and await self.client.hget(keys.incidents(town.decode()), incident_id)
        return decode_case(raw) if raw else None

    def visible(self, client: Client, m: Marker | CaseRecord) -> bool:
        """Whether a case is in the client's region and category clearance."""
        return is_within(m.grid, client.region) and client.user.may_see_category(
            self.rules.get(m.category))

    def officers_under(self, region: str) -> Iterable[OfficerState]:
        """The officers of a region's town (all of them for the city): a superset to filter."""
        if above_town(region):
            return self.officers.values()
        return [self.officers[o] for o in self.town_officers.get(town_of(region), ())]

    def summary(self, region: str, now: float, cache: dict[Any, tuple[Any, Any]] | None = None,
                cleared: bool = True) -> tuple[Any, Any]:
        """Child stats and KPIs of a region, with or without the sensitive cases (computed
        once per flush per region and clearance)."""
        if cache is not None and (region, cleared) in cache:
            return cache[region, cleared]
        counts = visible_counts(self.counts, cleared)
        out = (child_stats(region, self.hierarchy, counts),
               kpi(region, counts, self.officers_under(region), now))
        if cache is not None:
            cache[region, cleared] = out
        return out

    def frame_for(self, client: Client, kind: str, p: Pending | None,
                  cache: dict[Any, tuple[Any, Any]] | None = None) -> dict[str, Any]:
        """A sync (whole state) or delta frame scoped to one client."""
        region = client.region
        if p is None:
            offs = (o for o in self.officers_under(region) if is_within(o.home, region))
            incs = self.cases_for(client, self.incidents.values(), full=True)
            closed: list[str] = []
        else:
            offs = (self.officers[o] for o in p.officers
                    if is_within(self.officers[o].home, region))
            incs = self.cases_for(client, p.incidents.values(), full=False)
            closed = [i for i, m in p.closed.items() if self.visible(client, m)
                      and (client.case_zoom is None or i in client.cases_sent)]
            client.cases_sent.difference_update(closed)
        now = time.time()
        regions, k = self.summary(region, now, cache, client.user.cleared)
        regions = self.changed_regions(client, regions, full=p is None)
        out = {"type": kind, "as_of": self.as_of or now,
               "officers": [] if client.by_view else [o.row() for o in offs if o.lon is not None],
               "incidents": incs, "closed": closed, "regions": regions, "kpi": k}
        if client.watch:
            alerts = [m for m in self.alerts_since(p, now) if is_within(m.grid, client.watch)
                      and client.user.may_see_category(self.rules.get(m.category))]
            if alerts:
                out["alerts"] = alerts
        if client.by_view and (p is None or p.officers or client.view_stale):
            if p is None:  # a sync starts the page's officer layer afresh
                client.view_last = None
            self.add_view(client, out, now)
        if p is not None and client.case in p.cases and self.visible(client, p.cases[
                client.case]):
            out["case"] = p.cases[client.case]
        return out

    def cases_for(self, client: Client, cases: Iterable[Marker], full: bool) -> list[Marker]:
        """The cases of a frame for a client: those it may see; for a map without a case list,
        only those its zoom draws as markers and those it already holds (a sync: afresh)."""
        seen = [m for m in cases if self.visible(client, m)]
        if client.case_zoom is None:
            return seen
        if full:
            client.cases_sent = set()
        zoom = client.view.zoom if client.view is not None else client.case_zoom
        out = [m for m in seen if m.id in client.cases_sent or drawn_at_zoom(m.level, zoom)]
        client.cases_sent.update(m.id for m in out)
        return out

    @staticmethod
    def changed_regions(client: Client, regions: dict[str, Any], full: bool) -> dict[str, Any]:
        """A sync's child counts, or a delta's changed ones (a city page's 33 towns are most
        of a delta's bytes and seldom change)."""
        if full:
            client.regions_last = dict(regions)
            return regions
        changed = {c: s for c, s in regions.items() if client.regions_last.get(c) != s}
        client.regions_last.update(changed)
        return changed

    def alerts_since(self, p: Pending | None, now: float) -> list[Marker]:
        """A delta's new red cases; for a sync, those of the last ALERT_KEEP_S still open."""
        if p is not None:
            return list(p.alerts.values())
        return [self.incidents[m.id] for ts, m in self.recent_alerts
                if ts > now - ALERT_KEEP_S and m.id in self.incidents]

    def add_view(self, client: Client, frame: dict[str, Any], now: float) -> None:
        """Put the client's viewport clusters in a frame, at most once per VIEW_EVERY_S and
        only when they changed (town and village counts at their fixed points seldom do)."""
        if client.view is None:
            return
        if now - client.view_sent < VIEW_EVERY_S:
            client.view_stale = True
            return
        features = self.index.features(client.view, client.region)
        client.view_sent, client.view_stale = now, False
        if features != client.view_last:
            frame["officer_view"] = client.view_last = features

    async def on_message(self, client: Client, raw: str | bytes) -> None:
        """A browser's message: a new viewport gets its clusters at once."""
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        view = View.parse(msg) if isinstance(msg, dict) and msg.get("type") == "view" else None
        if view is None or not (client.by_view or client.case_zoom is not None):
            return
        client.view, client.view_sent, client.view_last = view, 0.0, None
        frame: dict[str, Any] = {"type": "delta"}
        if client.case_zoom is not None:  # the cases this zoom draws that the page lacks
            held = set(client.cases_sent)
            new = [m for m in self.cases_for(client, self.incidents.values(), False)
                   if m.id not in held]
            if new:
                frame["incidents"] = new
        if client.by_view:
            self.add_view(client, frame, time.time())
        await self.send(client.ws, frame)

    async def flush(self) -> None:
        """Send the pending delta to every client (each scoped), then clear it."""
        p, self.pending = self.pending, Pending()
        if not self.clients or not (p or any(c.view_stale for c in self.clients)):
            return
        cache: dict[Any, tuple[Any, Any]] = {}
        for c in list(self.clients):
            frame = self.frame_for(c, "delta", p, cache)
            try:
                await self.send(c.ws, frame)
            except ConnectionClosed:
                self.clients.discard(c)

    async def process_request(self, connection: ServerConnection,
                              request: Request) -> Response | None:
        """Check path, session and scope before the handshake; remember the subscription."""
        return await admit(self, connection, request)

    async def handler(self, ws: ServerConnection) -> None:
        """Send the sync frame, then keep the client subscribed until it leaves."""
        client: Client = ws.gw_client  # type: ignore[attr-defined]  # admit() made it
        case = client.case
        frame = self.frame_for(client, "sync", None)
        if case:
            whole = await self.read_case(case)
            if whole is not None and self.visible(client, whole):
                frame["case"] = whole
        await self.send(ws, frame)
        self.clients.add(client)
        try:
            async for raw in ws:
                await self.on_message(client, raw)
        except ConnectionClosed:
            pass
        finally:
            self.clients.discard(client)

    async def read_loop(self, stop: asyncio.Event) -> None:
        """XREAD the live streams and apply what arrives (follow_live survives errors: a
        reader that died silently would freeze every wall while heartbeats go on)."""
        await follow_live(self.client, self.ids, self.apply, stop, count=5000, block_ms=100,
                          who="push", decode=decode_live)

    async def sessions_alive(self, clients: list[Client]) -> list[bool]:
        """Whether each client's session is still live (each token read once, 32 at a time,
        with the asyncio client)."""
        tokens = list({c.token for c in clients})
        live: dict[str | None, bool] = {}
        for i in range(0, len(tokens), 32):
            part = tokens[i:i + 32]
            users = await asyncio.gather(*(self.session_user(t) for t in part))
            live.update((t, u is not None) for t, u in zip(part, users, strict=True))
        return [live[c.token] for c in clients]

    async def session_loop(self, stop: asyncio.Event) -> None:
        """Close the connections whose session ended (logout, expiry, user removed)."""
        while not stop.is_set():
            await asyncio.sleep(self.session_check_s)
            clients = list(self.clients)
            try:
                alive = await self.sessions_alive(clients)
            except Exception:  # Redis away for a moment: check again next time
                log.exception("push session check failed")
                continue
            for c, ok in zip(clients, alive, strict=True):
                if not ok:
                    self.clients.discard(c)
                    await c.ws.close(4401, "session ended")

    async def flush_loop(self, stop: asyncio.Event) -> None:
        """Flush pending deltas every flush_s seconds, and at once when a case changed."""
        self.urgent = asyncio.Event()
        while not stop.is_set():
            try:  # cases go out as soon as they arrive; officers every flush_s
                await asyncio.wait_for(self.urgent.wait(), self.flush_s)
            except TimeoutError:
                pass
            self.urgent.clear()
            await self.flush()

    @staticmethod
    async def send(ws: ServerConnection, frame: dict[str, Any]) -> None:
        """Send one frame (its bytes counted for /metrics)."""
        text = encode(frame).decode()
        push_bytes().inc(len(text))
        await ws.send(text)

    async def beat(self) -> None:
        """Tell every client the server time and how fresh the feed of its region is."""
        now = time.time()
        count_clients(level_of(c.region) for c in self.clients)
        for c in list(self.clients):
            frame = {"type": "beat", "now": now,
                     "feed_as_of": self.feed_as_of(c.watch or c.region)}
            try:
                await self.send(c.ws, frame)
            except ConnectionClosed:
                self.clients.discard(c)

    async def beat_loop(self, stop: asyncio.Event) -> None:
        """Send a heartbeat every beat_s seconds, even when nothing changes."""
        while not stop.is_set():
            await asyncio.sleep(self.beat_s)
            try:
                await self.beat()
            except Exception:  # a wall must never lose its heartbeat for good
                log.exception("push heartbeat failed; next one in %s s", self.beat_s)
