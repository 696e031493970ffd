"""The push channel's door: who may subscribe (origin, session, scope), and its server with
the client limits (handshake timeout, message size, queue, connection cap)."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from redis.exceptions import RedisError
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from dashboard.push_model import Client
from feeds.ingest.config import ClientLimits

if TYPE_CHECKING:
    from dashboard.push import LiveHub

log = logging.getLogger(__name__)

SESSION_COOKIE = "gw_session"
PUSH_LIMITS = ClientLimits()
MAX_MESSAGE = 64 * 1024  # a browser sends only its viewport


def reply(status: HTTPStatus, text: str) -> Response:
    """A plain-text HTTP answer instead of the handshake."""
    body = text.encode()
    return Response(status.value, status.phrase, Headers([
        ("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]), body)


def full(connection: ServerConnection, cap: int) -> bool:
    """Whether the server already holds `cap` connections (this one not counted)."""
    return len(connection.server.connections) > cap


def same_host(request: Request, port: int, listed: Sequence[str]) -> bool:
    """Whether the Origin is listed, or is http(s)://<the host this request reached>:<port>
    (the dashboard's own page on a server listening on every address)."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    if origin in listed:
        return True
    o, h = urlsplit(origin), urlsplit("//" + request.headers.get("Host", ""))
    try:
        return o.scheme in ("http", "https") and o.port == port and bool(
            o.hostname) and o.hostname == h.hostname
    except ValueError:  # a bad port
        return False


async def admit(hub: LiveHub, connection: ServerConnection, request: Request) -> Response | None:
    """Check origin, path, session and scope before the handshake; remember the
    subscription."""
    if full(connection, hub.limits.max_connections):
        return reply(HTTPStatus.SERVICE_UNAVAILABLE, "too many connections\n")
    rule = hub.origin_rule
    if rule is not None and not same_host(request, rule[0], rule[1]):
        return reply(HTTPStatus.FORBIDDEN, "Origin not allowed\n")
    url = urlsplit(request.path)
    if url.path != "/live":
        return reply(HTTPStatus.NOT_FOUND, "subscribe at /live?region=<code>\n")
    cookie = SimpleCookie(request.headers.get("Cookie", ""))
    name = next((n for n in (f"__Host-{SESSION_COOKIE}", SESSION_COOKIE) if n in cookie), None)
    token = cookie[name].value if name else None  # __Host- named under https
    try:
        user = await hub.session_user(token)
    except RedisError as e:  # the store is down or busy: the browser's reconnect tries again
        log.warning("push handshake: session lookup failed: %s", e)
        return reply(HTTPStatus.SERVICE_UNAVAILABLE, "session store unavailable, retry\n")
    if user is None:
        return reply(HTTPStatus.UNAUTHORIZED, "log in first\n")
    query = parse_qs(url.query)
    region = (query.get("region") or [user.scope])[0]
    if region not in hub.hierarchy:
        return reply(HTTPStatus.NOT_FOUND, f"unknown region {region}\n")
    if not user.may_see_region(region):
        return reply(HTTPStatus.FORBIDDEN, "region outside your scope\n")
    case = (query.get("case") or [None])[0]
    watch = (query.get("watch") or [None])[0]
    if watch is not None and (watch not in hub.hierarchy or not user.may_see_region(watch)):
        return reply(HTTPStatus.FORBIDDEN, "watched region outside your scope\n")
    by_view = (query.get("officers") or [""])[0] == "view"
    case_zoom = None
    if (query.get("cases") or [""])[0] == "view":
        try:
            case_zoom = float((query.get("zoom") or [""])[0])
        except ValueError:
            return reply(HTTPStatus.BAD_REQUEST, "cases=view needs zoom=<the map's zoom>\n")
    connection.gw_client = Client(  # type: ignore[attr-defined]  # the handler's subscriber
        connection, user, region, case, token=token, watch=watch, by_view=by_view,
        case_zoom=case_zoom)
    return None


async def serve_push(hub: LiveHub, host: str, port: int, stop: asyncio.Event,
                     ready: Callable[[int], None] | None = None,
                     reuse_port: bool = False, origins: Sequence[str] | None = None,
                     same_host_port: int | None = None) -> None:
    """Run the push channel until `stop` is set (`reuse_port`: share the port, SO_REUSEPORT;
    `origins`: the only Origin headers accepted, None: any; `same_host_port`: also those of
    the host the browser reached us by on that port)."""
    await hub.bootstrap()
    if same_host_port is not None:  # checked in admit(), which sees the Host header
        hub.origin_rule, origins = (same_host_port, list(origins or ())), None
    lim = hub.limits
    async with serve(hub.handler, host, port, process_request=hub.process_request,
                     max_size=lim.max_size or MAX_MESSAGE, max_queue=lim.max_queue,
                     open_timeout=lim.open_timeout_s, ping_interval=20, reuse_port=reuse_port,
                     origins=list(origins) if origins is not None else None) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        log.info("live push channel on ws://%s:%s/live", host, bound)
        if ready:
            ready(bound)
        tasks = [asyncio.create_task(hub.read_loop(stop)),
                 asyncio.create_task(hub.flush_loop(stop)),
                 asyncio.create_task(hub.session_loop(stop)),
                 asyncio.create_task(hub.beat_loop(stop))]
        await stop.wait()
        for t in tasks:
            t.cancel()
