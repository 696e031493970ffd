"""Slow and abusive clients of the OsmAnd endpoint: half-open connections time out, too many
headers or too long a line close the connection, and a real tracker is still answered."""
from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import pytest

from feeds.accounts.devices import add_device
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, device_token_check
from feeds.ingest.intake import make_placer
from feeds.ingest.osmand import OsmandServer, device_officer, serve_osmand
from feeds.live.context import CityContext
from feeds.store.client import async_client, sync_client
from gridwatch.config import load_config
from tests.conftest import ThreadedServer
from tests.feeds.ingest.test_osmand import http

TIMEOUT_S = 2.0
HALF_OPEN = 300


@pytest.fixture()
def limited_port(redis_url: str, city_ctx: CityContext, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_INGEST__LIMITS__READ_TIMEOUT_S", str(TIMEOUT_S))
    monkeypatch.setenv("GRIDWATCH_INGEST__LIMITS__MAX_HEADERS", "16")
    limits = load_config().ingest.limits  # through the one config tree
    assert limits.read_timeout_s == TIMEOUT_S and limits.max_headers == 16
    placer = make_placer(city_ctx, sync_client(redis_url))
    servers: list[OsmandServer] = []

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        gw = Gateway(client, placer, device_token_check(client))
        servers.append(OsmandServer(gw, device_officer(client), limits))
        await serve_osmand(servers[0], "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield server.port, servers[0]
    server.stop()


def _fix_query(redis_url: str, city_ctx: CityContext) -> str:
    import urllib.parse
    officer = city_ctx.roster["O000021"]
    add_device(sync_client(redis_url), "tracker-21", officer.officer_id)
    lon, lat = GridIndex(city_ctx.city).random_point(officer.grid, np.random.default_rng(2))
    wlon, wlat = to_datum(lon, lat, city_ctx.hierarchy.datum, "wgs84")
    return urllib.parse.urlencode({"id": "tracker-21", "lat": wlat, "lon": wlon,
                                   "timestamp": int(time.time())})


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return False


def test_half_open_connections_time_out_and_a_real_request_is_answered(
        limited_port, redis_url, city_ctx):
    port, osmand = limited_port
    q = _fix_query(redis_url, city_ctx)
    socks = []
    try:
        for _ in range(HALF_OPEN):  # each sends half a request and then nothing
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /?id=slow HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        opened = time.monotonic()
        deadline = opened + 5
        while osmand.open < HALF_OPEN and time.monotonic() < deadline:
            time.sleep(0.02)
        assert osmand.open == HALF_OPEN  # they are all held
        t0 = time.monotonic()
        assert http(port, "GET", f"/?{q}") == (200, "")
        assert time.monotonic() - t0 < 1.0
        for s in socks:
            s.settimeout(max(0.1, opened + TIMEOUT_S + 3 - time.monotonic()))
        closed = sum(_closed(s) for s in socks)
        assert closed == HALF_OPEN
        assert time.monotonic() - opened >= TIMEOUT_S - 0.5  # by the timeout, not before
        assert osmand.stats["timed_out"] >= HALF_OPEN and osmand.open == 0
    finally:
        for s in socks:
            s.close()


def test_too_many_headers_or_too_long_a_line_close_the_connection(limited_port):
    port, _ = limited_port
    for req in (b"GET /?id=x HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(20))
                + b"\r\n",
                b"GET /?id=" + b"x" * 20000 + b" HTTP/1.1\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(req)
            t0 = time.monotonic()
            assert s.recv(100) == b""  # closed without an answer, at once
            assert time.monotonic() - t0 < 1.0
