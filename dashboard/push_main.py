"""The push channel process: live deltas to browsers over WebSockets."""
from __future__ import annotations

import asyncio
import logging
import signal

from dashboard.config import PushConfig
from dashboard.push import LiveHub, serve_push
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.store.client import async_client

log = logging.getLogger(__name__)


async def _push(ctx: CityContext, push: PushConfig, host: str, redis_url: str,
                shared_port: bool) -> None:
    client = async_client(redis_url)
    sync = reads.connect(redis_url)
    hub = LiveHub(client, ctx.hierarchy, ctx.roster, ctx.rules,
                  lambda token: auth.session_user(sync, token), push.flush_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve_push(hub, host, push.port, stop, reuse_port=shared_port)
    await client.aclose()


def run_push(ctx: CityContext, push: PushConfig, host: str, redis_url: str,
             shared_port: bool = False) -> None:
    """Serve the live push channel until SIGINT/SIGTERM (`shared_port`: other processes
    listen on the same port)."""
    asyncio.run(_push(ctx, push, host, redis_url, shared_port))
