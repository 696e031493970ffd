"""HTTP requests to cameras that may want credentials: the user and password of the stream URL
(`http://user:pass@host/...`) answer a 401's Basic or Digest challenge (requests' HTTPBasicAuth
and HTTPDigestAuth build the header); the password never appears in an error or a log line."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from requests import PreparedRequest
from requests.auth import HTTPBasicAuth, HTTPDigestAuth
from requests.utils import parse_dict_header

from feeds.video import mjpeg


class AuthError(ValueError):
    """The camera wants credentials the stream URL lacks, or refused them."""


@dataclass(frozen=True)
class Answer:
    """An upstream's answer head, with the connection still open on its body."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    status: int
    line: str
    headers: dict[str, str]


def host_port(u: SplitResult) -> str:
    """The Host header of a URL: its host and port, never its user and password."""
    return u.netloc.rpartition("@")[2]


def redact(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    u = urlsplit(url)
    if u.password is None:
        return url
    return urlunsplit(u._replace(netloc=f"{u.username}:***@{host_port(u)}"))


def authorization(url: str, method: str, challenge: str) -> str:
    """The Authorization header answering a WWW-Authenticate challenge with the URL's
    credentials; raises AuthError if the URL has none or the scheme is neither."""
    u = urlsplit(url)
    scheme = challenge.split(" ", 1)[0].lower()
    if u.username is None:
        raise AuthError(f"camera wants credentials ({scheme or 'unknown'} auth); the stream URL "
                        "has none")
    user, password = unquote(u.username), unquote(u.password or "")
    plain = urlunsplit(u._replace(netloc=host_port(u)))
    if scheme == "basic":
        req = PreparedRequest()
        req.headers = {}  # type: ignore[assignment]  (all HTTPBasicAuth touches)
        return HTTPBasicAuth(user, password)(req).headers["Authorization"]
    if scheme == "digest":
        auth = HTTPDigestAuth(user, password)
        auth.init_per_thread_state()
        auth._thread_local.chal = parse_dict_header(challenge.split(" ", 1)[1])
        header = auth.build_digest_header(method, plain)
        if header:
            return header
        raise AuthError("camera's Digest challenge uses an unsupported algorithm or qop")
    raise AuthError(f"camera wants {scheme!r} auth; only Basic and Digest are sent")


async def _send(u: SplitResult, method: str, extra: str, timeout: float, limit: int) -> Answer:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(
        u.hostname, u.port or (443 if u.scheme == "https" else 80), limit=limit,
        ssl=u.scheme == "https"), timeout)
    target = (u.path or "/") + (f"?{u.query}" if u.query else "")
    writer.write(f"{method} {target} HTTP/1.1\r\nHost: {host_port(u)}\r\n{extra}"
                 "Connection: close\r\n\r\n".encode())
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except BaseException:
        writer.close()
        raise
    line, _, rest = head.partition(b"\r\n")
    parts = line.split(b" ", 2)
    status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    return Answer(reader, writer, status, line.decode("latin-1"), mjpeg.parse_headers(rest))


async def request(url: str, method: str = "GET", headers: str = "", timeout: float = 5.0,
                  limit: int = 2 ** 20) -> Answer:
    """Send a request; on a 401, again with the URL's credentials. The caller closes the
    answer's writer. Raises OSError, TimeoutError or AuthError (credentials refused)."""
    u = urlsplit(url)
    ans = await _send(u, method, headers, timeout, limit)
    if ans.status != 401:
        return ans
    ans.writer.close()
    challenge = ans.headers.get("www-authenticate", "")
    extra = f"Authorization: {authorization(url, method, challenge)}\r\n"
    ans = await _send(u, method, headers + extra, timeout, limit)
    if ans.status == 401:
        ans.writer.close()
        scheme = challenge.split(" ", 1)[0] or "HTTP"
        raise AuthError(f"camera refused the credentials of user {unquote(u.username or '')!r} "
                        f"({scheme} auth, 401)")
    return ans


async def open_stream(url: str, timeout: float = 5.0, limit: int = 2 ** 20
                      ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, str]:
    """GET an http MJPEG URL (with its credentials if the camera asks); returns reader,
    writer and boundary (raises OSError, AuthError or MjpegError)."""
    u = urlsplit(url)
    if u.scheme != "http" or not u.hostname:
        raise mjpeg.MjpegError(f"only http:// MJPEG URLs are read directly, not {redact(url)!r}")
    ans = await request(url, "GET", "Accept: multipart/x-mixed-replace, image/jpeg\r\n",
                        timeout, limit)
    try:
        if ans.status != 200:
            raise mjpeg.MjpegError(f"upstream answered {ans.line!r}")
        boundary = mjpeg.boundary_of(ans.headers.get("content-type", ""))
    except BaseException:
        ans.writer.close()
        raise
    return ans.reader, ans.writer, boundary
