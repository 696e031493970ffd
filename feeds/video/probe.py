"""Health of cameras read on demand: while idle, each is probed now and then (HTTP HEAD of its
stream, or a TCP connect for RTSP) instead of being streamed."""
from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from feeds.video import httpauth
from feeds.video.capture import CameraFeed, CaptureService

log = logging.getLogger(__name__)

PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322}


async def probe(url: str, timeout: float) -> str:
    """Whether a stream's device answers: "" if it does, else why not. An HTTP answer other
    than 404 or 5xx counts (a camera may refuse HEAD and be up); a 401 is answered with the
    URL's credentials, and credentials refused (or none to send) count as down."""
    u = urlsplit(url)
    if not u.hostname:
        return "no host in the stream URL"
    try:
        if u.scheme not in ("http", "https"):
            _, writer = await asyncio.wait_for(asyncio.open_connection(
                u.hostname, u.port or PORTS.get(u.scheme, 80)), timeout)
            writer.close()
            return ""
        ans = await httpauth.request(url, "HEAD", "", timeout)
        ans.writer.close()
    except httpauth.AuthError as e:
        return str(e)[:200]
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
        return f"{type(e).__name__}: {e}"[:200]
    if not ans.status:
        return "no HTTP answer"
    return f"upstream answered {ans.status}" if ans.status == 404 or ans.status >= 500 else ""


async def _probe_feed(f: CameraFeed, timeout: float, sem: asyncio.Semaphore) -> None:
    async with sem:
        if f.task is not None:  # read meanwhile: its frames tell its health
            return
        err = await probe(f.camera.stream_url, timeout)
        if f.task is None:
            f.error = err
            f.answered = None if err else time.time()


async def probe_loop(service: CaptureService, stop: asyncio.Event, every_s: float = 120.0,
                     concurrency: int = 16) -> None:
    """Probe every idle camera once per every_s (at most `concurrency` at a time), until stop."""
    sem = asyncio.Semaphore(concurrency)
    while not stop.is_set():
        idle = [f for f in service.feeds.values() if f.task is None]
        started = time.monotonic()
        await asyncio.gather(*(_probe_feed(f, service.cfg.read_timeout_s, sem) for f in idle))
        if idle:
            log.debug("probed %d idle cameras in %.1f s", len(idle), time.monotonic() - started)
        try:
            await asyncio.wait_for(stop.wait(), every_s)
        except TimeoutError:
            pass
