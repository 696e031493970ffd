"""The demo's simulated town dispatchers as one process: poll open cases, act as a desk would."""
from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

import redis

from domain.access import Role, User
from domain.model import Incident
from feeds.ingest.devices_seen import recent_devices
from feeds.live import reads
from feeds.live.commands import ActionRefused, NotPermitted, send_action
from feeds.live.context import CityContext
from feeds.sim.dispatcher import Decision, Dispatcher, busy_officers

log = logging.getLogger(__name__)

POLL_S = 3.0
SEARCH_KM = (2.0, 8.0)  # look this far for a free officer, nearer first


def nearest_finder(client: redis.Redis, town: str):  # noqa: ANN201 (a Nearest)
    """Nearest on-duty officers of the case's town, a wider circle when the first is empty."""
    def nearest(inc: Incident) -> list[tuple[str, float]]:
        for km in SEARCH_KM:
            hits = reads.nearest_officers(client, [town], inc.lon, inc.lat, radius_km=km,
                                          count=12)
            if hits:
                return [(st.officer_id, dist) for st, dist in hits]
        return []
    return nearest


def act(client: redis.Redis, ctx: CityContext, desk: Dispatcher, user: User,
        cases: dict[str, Incident], decisions: list[Decision]) -> int:
    """Send the desk's decisions through the command path a person's actions take."""
    done = 0
    for d in decisions:
        try:
            send_action(client, user, cases[d.incident_id], ctx.rules, d.action, d.officer_id,
                        d.note)
            done += 1
        except (ActionRefused, NotPermitted) as e:
            log.info("%s: %s %s refused: %s", user.name, d.action.value, d.incident_id, e)
    return done


def dispatch_round(client: redis.Redis, ctx: CityContext, desks: dict[str, Dispatcher],
                   now: float) -> int:
    """One pass of every town's desk; returns how many actions were sent."""
    cases = reads.read_open_incidents(client, ctx.towns)
    busy = busy_officers(cases)
    excluded = set(recent_devices(client, now))
    by_town: dict[str, list[Incident]] = {}
    for c in cases:
        by_town.setdefault(c.town, []).append(c)
    sent = 0
    for town, mine in by_town.items():
        desk = desks.get(town)
        if desk is None:
            continue
        decisions = desk.decide(mine, now, nearest_finder(client, town), busy, excluded)
        if decisions:
            user = User(desk.user_name, Role.DUTY, town)
            sent += act(client, ctx, desk, user, {c.incident_id: c for c in mine}, decisions)
    return sent


def run_dispatch(ctx: CityContext, redis_url: str, history_marker: Path | None = None) -> None:
    """Run a simulated dispatcher per town until SIGINT/SIGTERM (after the history, when
    `history_marker` names the file the back-fill leaves once it is sent)."""
    client = reads.connect(redis_url)
    desks = {t: Dispatcher(t, ctx.rules) for t in ctx.towns}
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while history_marker is not None and not history_marker.exists() and not stop.is_set():
        stop.wait(1.0)  # half-loaded history is no desk's business
    log.info("simulated dispatchers for %d towns", len(desks))
    total = 0
    while not stop.is_set():
        started = time.time()
        try:
            total += dispatch_round(client, ctx, desks, started)
        except redis.RedisError as e:
            log.warning("dispatch round failed (%s); again in %.0f s", e, POLL_S)
        stop.wait(max(0.2, POLL_S - (time.time() - started)))
    log.info("simulated dispatchers stopped after %d actions", total)
