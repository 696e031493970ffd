"""The dashboard process: the Dash app served by waitress, alone or sharing its port."""
from __future__ import annotations

import logging
import os
import signal
import socket

from dashboard.config import DashboardConfig
from feeds.live import reads
from feeds.live.context import CityContext

log = logging.getLogger(__name__)


def shared_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound with SO_REUSEPORT, for a server that shares its port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_web(settings: DashboardConfig, ctx: CityContext, host: str, redis_url: str,
            shared_port: bool = False) -> None:
    """Serve the Dash app with waitress until SIGINT/SIGTERM (`shared_port`: other processes
    listen on the same port)."""
    from waitress import serve  # noqa: PLC0415  (only this process needs it)

    from dashboard.app import create_app  # noqa: PLC0415

    app = create_app(settings, ctx, reads.connect(redis_url))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    port = settings.web.port
    log.info("dashboard on http://%s:%s/", host, port)
    where = ({"sockets": [shared_socket(host, port)]} if shared_port
             else {"host": host, "port": port})
    # behind trusted proxies ProxyFix (dashboard/public.py) reads X-Forwarded-*: waitress must
    # hand them on (it drops them by default)
    serve(app.server, threads=8, ident="gridwatch", _quiet=True,
          clear_untrusted_proxy_headers=not settings.web.proxy_hops, **where)
