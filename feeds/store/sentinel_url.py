"""`redis+sentinel://` URLs: one primary with replicas, found through Redis Sentinel.

Shape: `redis+sentinel://[[user]:password@]host1[:port],host2[:port]/service[/db]
[?sentinel_password=…]`. The password (and user) are the primary's and replicas'; the
sentinels' own password, when they have one, is `sentinel_password`. A port left out is
Sentinel's 26379.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
SHAPE = "redis+sentinel://[:password@]host1:26379,host2:26379/mymaster/0"
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$")
_SERVICE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_QUERY = {"sentinel_password"}


@dataclass(frozen=True)
class SentinelURL:
    """Where the sentinels are, which service they watch, and how to log in."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def is_sentinel_url(url: str) -> bool:
    """Whether a URL is a redis+sentinel:// one."""
    return url.partition("://")[0].lower() == SENTINEL_SCHEME


def _fail(field: str, reason: str) -> ValueError:
    return ValueError(f"redis+sentinel URL {field}: {reason} (shape: {SHAPE})")


def _host(part: str) -> tuple[str, int]:
    m = _HOST.match(part)
    if not m:
        raise _fail("hosts", f"{part!r} is not host[:port]")
    port = int(m.group(2) or SENTINEL_PORT)
    if not 1 <= port <= 65535:
        raise _fail("hosts", f"port {port} of {part!r} is not 1-65535")
    return m.group(1).strip("[]"), port


def _login(userinfo: str) -> tuple[str | None, str | None]:
    if not userinfo:
        return None, None
    user, sep, password = userinfo.partition(":")
    if not sep:  # redis://secret@host is a password, as Redis URLs are read
        return None, unquote(user)
    return unquote(user) or None, unquote(password)


def _path(path: str) -> tuple[str, int]:
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise _fail("service", "the service name (the sentinels' master name) is missing")
    if len(parts) > 2:
        raise _fail("path", f"/{'/'.join(parts)} has more than /service/db")
    if not _SERVICE.match(parts[0]):
        raise _fail("service", f"{parts[0]!r} is not a master name")
    if len(parts) == 2 and not (parts[1].isdigit() and int(parts[1]) <= 15):
        raise _fail("db", f"{parts[1]!r} is not a database number 0-15")
    return parts[0], int(parts[1]) if len(parts) == 2 else 0


def parse_sentinel_url(url: str) -> SentinelURL:
    """The parts of a redis+sentinel:// URL; ValueError naming the part that is wrong."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() != SENTINEL_SCHEME:
        raise _fail("scheme", f"{scheme!r} is not {SENTINEL_SCHEME}")
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if not hosts:
        raise _fail("hosts", "no sentinel host given")
    sentinels = tuple(_host(h) for h in hosts.split(","))
    service, db = _path(slash + path)
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - _QUERY)
    if unknown:
        raise _fail("query", f"unknown option {unknown[0]!r} (known: sentinel_password)")
    username, password = _login(userinfo if at else "")
    sentinel_password = (options.get("sentinel_password") or [None])[0]
    return SentinelURL(sentinels, service, db, username, password, sentinel_password or None)
