"""Scripts and styles at Brotli's best quality, compressed once in the background per content."""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import brotli
import flask

log = logging.getLogger(__name__)

STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
STATIC_TYPES = frozenset({"application/javascript", "text/javascript", "text/css",
                          "application/json"})
QUALITY = 11  # a tenth smaller than Flask-Compress's level 5 on Dash's bundles; ~1.5 s a MB
MAX_BYTES = 512 * 1024  # larger ones (AG Grid's 1.3 MB, loaded after the map) stay at level 5:
# seconds of a core at start-up for them would slow the first pages on two cores


def _lowest_priority() -> None:
    """The compressing thread yields the CPU to everything else (Linux nices threads one by
    one): a wall drawing its first page on two cores must not wait for it."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):  # not Linux, or not allowed: it runs at normal priority
        log.debug("static compression runs at normal priority")


class StaticBrotli:
    """Answers a static script or style with its Brotli-11 body once it is made; until then
    the response goes on to Flask-Compress (level 5) and the best one is made in the
    background, so no request waits for it. Keyed by the content's digest."""

    def __init__(self) -> None:
        self._done: dict[bytes, bytes] = {}
        self._pending: set[bytes] = set()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="gw-brotli",
                                        initializer=_lowest_priority)

    def install(self, server: flask.Flask) -> None:
        """Run before Flask-Compress (registered after it: Flask runs the last one first)."""
        server.after_request(self.after_request)

    def after_request(self, response: flask.Response) -> flask.Response:
        """The stored Brotli-11 body for a static answer, if the browser takes Brotli."""
        req = flask.request
        if (response.status_code != 200 or not req.path.startswith(STATIC_PREFIXES)
                or response.mimetype not in STATIC_TYPES or req.accept_encodings["br"] <= 0
                or "Content-Encoding" in response.headers
                or (response.content_length or 0) > MAX_BYTES):
            return response
        response.direct_passthrough = False
        data = response.get_data()
        if len(data) > MAX_BYTES:
            return response
        key = hashlib.blake2b(data, digest_size=16).digest()
        with self._lock:
            body = self._done.get(key)
            if body is None and key not in self._pending:
                self._pending.add(key)
                self._pool.submit(self._compress, key, data)
        if body is None:
            return response
        response.set_data(body)
        response.headers["Content-Encoding"] = "br"
        response.vary.add("Accept-Encoding")
        etag, weak = response.get_etag()
        if etag and not weak:  # not Flask-Compress's "…:br": these bytes differ from its
            response.set_etag(f"{etag}:br{QUALITY}")
        return response.make_conditional(req)  # a revalidation answers 304, as Flask-Compress

    def _compress(self, key: bytes, data: bytes) -> None:
        try:
            body = brotli.compress(data, quality=QUALITY)
        except brotli.error:  # pragma: no cover - brotli refuses nothing it is given
            log.exception("brotli failed on a %d-byte static answer", len(data))
            body = None
        with self._lock:
            self._pending.discard(key)
            if body is not None:
                self._done[key] = body
