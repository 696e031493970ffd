"""MJPEG over HTTP, sans I/O: a multipart parser, part and response framing, request parsing."""
from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from feeds.ingest.config import ClientLimits

BOUNDARY = "gwframe"
MAX_HEAD = 16 * 1024
MAX_PART = 8 * 1024 * 1024
_BOUNDARY_RE = re.compile(rb'boundary="?([^";,\s]+)"?', re.I)
REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 503: "Service Unavailable"}


class MjpegError(ValueError):
    """The upstream sent something that is not an MJPEG multipart stream."""


@dataclass(frozen=True)
class Part:
    """One multipart part: its headers (lower-case names) and its body."""

    headers: dict[str, str]
    body: bytes


def boundary_of(content_type: str) -> str:
    """The boundary of a multipart Content-Type header; raises MjpegError."""
    if not content_type.lower().startswith("multipart/"):
        raise MjpegError(f"not a multipart stream: Content-Type {content_type!r}")
    m = _BOUNDARY_RE.search(content_type.encode("latin-1"))
    if not m:
        raise MjpegError(f"no boundary in Content-Type {content_type!r}")
    return m.group(1).decode("latin-1").removeprefix("--")


def parse_headers(block: bytes) -> dict[str, str]:
    """Header lines as a dict of lower-case names."""
    out = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


class MjpegParser:
    """Feed bytes of a multipart/x-mixed-replace body; get complete parts back."""

    def __init__(self, boundary: str):
        self.marker = b"--" + boundary.encode("latin-1")
        self.buf = bytearray()
        self.head: dict[str, str] | None = None

    def feed(self, data: bytes) -> list[Part]:
        """Add bytes; returns the parts completed by them (raises MjpegError on garbage)."""
        self.buf += data
        parts = []
        while True:
            part = self._next()
            if part is None:
                break
            parts.append(part)
        if len(self.buf) > MAX_PART:
            raise MjpegError("part larger than 8 MiB or no boundary found")
        return parts

    def _next(self) -> Part | None:
        if self.head is None:
            start = self.buf.find(self.marker)
            if start < 0:
                return None
            end = self.buf.find(b"\r\n\r\n", start)
            if end < 0:
                if len(self.buf) - start > MAX_HEAD:
                    raise MjpegError("part header too long")
                return None
            block = bytes(self.buf[start + len(self.marker):end])
            del self.buf[:end + 4]
            self.head = parse_headers(block.partition(b"\r\n")[2])
        length = self.head.get("content-length", "")
        if length.isdigit():
            n = int(length)
            if len(self.buf) < n:
                return None
            body = bytes(self.buf[:n])
            del self.buf[:n]
        else:  # no length: the body runs to the next boundary
            nxt = self.buf.find(b"\r\n" + self.marker)
            if nxt < 0:
                return None
            body = bytes(self.buf[:nxt])
            del self.buf[:nxt + 2]
        head, self.head = self.head, None
        return Part(head, body)


def part_bytes(jpeg: bytes, ts: float, index: int | None = None,
               boundary: str = BOUNDARY) -> bytes:
    """One JPEG as a multipart part, with X-Timestamp (epoch seconds) and the frame index."""
    extra = f"X-Frame-Index: {index}\r\n" if index is not None else ""
    return (f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
            f"X-Timestamp: {ts:.3f}\r\n{extra}\r\n").encode() + jpeg + b"\r\n"


def stream_head(boundary: str = BOUNDARY) -> bytes:
    """The response head of an MJPEG stream."""
    return (f"HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary={boundary}"
            "\r\nCache-Control: no-store\r\nPragma: no-cache\r\nConnection: close\r\n\r\n"
            ).encode()


def response(status: int, body: bytes | str, content_type: str = "text/plain; charset=utf-8",
             headers: Mapping[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 response that closes the connection."""
    if isinstance(body, str):
        body = body.encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: {content_type}"
            f"\r\nContent-Length: {len(body)}\r\nCache-Control: no-store\r\n{extra}"
            "Connection: close\r\n\r\n").encode() + body


@dataclass(frozen=True)
class Request:
    """A parsed HTTP request line and headers."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


async def read_request(reader: asyncio.StreamReader, timeout: float | None = None
                       ) -> Request | None:
    """Read one request head (within the connection's read timeout, head size and header
    count); None if the client sent nothing usable."""
    limits = LIMITS.get()
    try:
        raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"),
                                     timeout or limits.read_timeout_s)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
            ConnectionError):
        return None
    line, _, rest = raw.partition(b"\r\n")
    try:
        method, target, _version = line.decode("latin-1").split(" ", 2)
    except ValueError:
        return None
    if rest.count(b"\r\n") > limits.max_headers:
        return None
    url = urlsplit(target)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    return Request(method.upper(), unquote(url.path), query, parse_headers(rest))


async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    route: Callable[[Request], Awaitable[None]]) -> None:
    """Read one request and hand it to `route`; closes quietly on a dropped peer or shutdown."""
    try:
        req = await read_request(reader)
        if req is not None:
            await route(req)
    except (ConnectionError, TimeoutError):
        pass
    except asyncio.CancelledError:  # server shutting down: end the connection quietly
        pass
    finally:
        writer.close()


async def cancel_all(tasks: Iterable[asyncio.Task]) -> None:
    """Cancel tasks until every one has ended: Python 3.11's asyncio.wait_for can swallow a
    cancellation that arrives as its wait completes (fixed in 3.12), and the task runs on."""
    tasks = list(tasks)
    while pending := [t for t in tasks if not t.done()]:
        for t in pending:
            t.cancel()
        await asyncio.wait(pending, timeout=0.5)
    await asyncio.gather(*tasks, return_exceptions=True)


LIMITS: ContextVar[ClientLimits] = ContextVar("mjpeg_limits",
                                              default=ClientLimits())  # noqa: B039 (frozen)


class Connections:
    """A connection handler for asyncio.start_server that can end every open connection and
    holds its clients to `limits` (connection cap; read timeout and header count of
    read_request)."""

    def __init__(self, handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                         Awaitable[None]], limits: ClientLimits | None = None):
        self.handler = handler
        self.limits = limits or ClientLimits()
        self.tasks: set[asyncio.Task] = set()

    @property
    def head_limit(self) -> int:
        """The stream limit of start_server: the longest request head read."""
        return 4 * self.limits.max_header_bytes

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection, remembered until it ends."""
        task = asyncio.current_task()
        assert task is not None
        if len(self.tasks) >= self.limits.max_connections:
            writer.write(response(503, "too many connections\n"))
            writer.close()
            return
        LIMITS.set(self.limits)
        self.tasks.add(task)
        try:
            await self.handler(reader, writer)
        finally:
            self.tasks.discard(task)

    async def close(self) -> None:
        """End every open connection (after the server stopped accepting)."""
        await cancel_all([t for t in self.tasks if t is not asyncio.current_task()])
