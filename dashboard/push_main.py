"""The push channel process: live deltas to browsers over WebSockets."""
from __future__ import annotations

import asyncio
import logging
import signal

from dashboard.config import PushConfig, WebConfig
from dashboard.push import LiveHub, serve_push
from feeds.accounts import async_sessions
from feeds.live.context import CityContext
from feeds.store.client import async_client

log = logging.getLogger(__name__)


LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
WILDCARD = ("0.0.0.0", "::", "")


def _hosts(host: str) -> list[str]:
    """The names browsers may reach a server listening on one address by."""
    if host in LOOPBACK or host.startswith("127.") or host == "::1":
        return [*LOOPBACK, host] if host not in LOOPBACK else list(LOOPBACK)
    return [f"[{host}]" if ":" in host else host]


def allowed_origins(web: WebConfig, push: PushConfig, host: str) -> list[str]:
    """The Origin headers the push channel accepts: the public URL's origin if set, else the
    dashboard's own (http://<each name of the host>:<web port>); plus push.origins. On a
    wildcard host (0.0.0.0) without a public URL, only push.origins: the page's own origin
    is then told by its host (same_host_port)."""
    if web.public_url:
        return [web.public_url, *push.origins]
    if host in WILDCARD:
        return list(push.origins)
    return [*(f"http://{h}:{web.port}" for h in _hosts(host)), *push.origins]


def same_host_port(web: WebConfig, host: str) -> int | None:
    """On a wildcard host without a public URL, the web port an Origin must name (with the
    host the browser reached the push channel by); else None."""
    return web.port if host in WILDCARD and not web.public_url else None


async def _push(ctx: CityContext, push: PushConfig, web: WebConfig, host: str, redis_url: str,
                shared_port: bool) -> None:
    client = async_client(redis_url)
    hub = LiveHub(client, ctx.hierarchy, ctx.roster, ctx.rules,
                  lambda token: async_sessions.session_user(client, token), push.flush_s,
                  limits=push.limits)
    origins = allowed_origins(web, push, host)
    log.info("push channel accepts the origins %s", ", ".join(origins))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve_push(hub, host, push.port, stop, reuse_port=shared_port, origins=origins,
                     same_host_port=same_host_port(web, host))
    await client.aclose()


def run_push(ctx: CityContext, push: PushConfig, web: WebConfig, host: str, redis_url: str,
             shared_port: bool = False) -> None:
    """Serve the live push channel until SIGINT/SIGTERM (`shared_port`: other processes
    listen on the same port); only the dashboard's origins may open it."""
    asyncio.run(_push(ctx, push, web, host, redis_url, shared_port))
