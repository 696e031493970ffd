"""Serving behind HTTPS and a proxy: the public URL, cookie names and flags, the push URL,
trusted proxy headers and the security headers of every answer."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

EXTENSION = "gridwatch_public"
HASHES = "gridwatch_script_hashes"  # () → the hashes of Dash's inline scripts (set by the app)
HOST_PREFIX = "__Host-"  # a cookie only this origin may set, over https, for path /
HSTS = "max-age=31536000"


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of a URL, or None."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def tile_origin(template: str) -> str | None:
    """The CSP source of a tile URL template: its origin, `*.` for a {s} subdomain label."""
    parts = urlsplit(template.replace("{s}", "SUBDOMAIN"))
    if not parts.scheme or not parts.netloc:
        return None  # our own /tiles: 'self'
    host = parts.netloc.split(".")
    if "SUBDOMAIN" in host[0]:
        host[0] = "*"
    return f"{parts.scheme}://{'.'.join(host)}"


@dataclass(frozen=True)
class Public:
    """How browsers reach us: the public URL (None: directly, on our own ports)."""

    url: str | None = None  # https://gw.example.cn, no path
    push_port: int = 8766
    capture_port: int = 8767
    capture_url: str | None = None
    tile_urls: tuple[str, ...] = ()  # the basemap's URL templates

    @property
    def https(self) -> bool:
        """Whether we are served over https (cookies Secure, push over wss://)."""
        return bool(self.url and self.url.startswith("https://"))

    def cookie(self, name: str) -> str:
        """A cookie's name: `__Host-` prefixed under https."""
        return HOST_PREFIX + name if self.https else name

    def host_of_request(self) -> str:
        """This request's host name without its port."""
        host = flask.request.host
        return host.rsplit(":", 1)[0] if not host.endswith("]") and ":" in host else host

    def push_url(self) -> str:
        """Where the page's script opens the live channel: under the public URL at /live
        (one origin behind a proxy), else this host on the push port."""
        if self.url:
            return ("wss://" if self.https else "ws://") + urlsplit(self.url).netloc + "/live"
        scheme = "wss" if flask.request.scheme == "https" else "ws"
        return f"{scheme}://{self.host_of_request()}:{self.push_port}/live"

    def origins(self) -> set[str]:
        """The netlocs a same-origin request may name in its Origin header."""
        out = {flask.request.host}
        if self.url:
            out.add(urlsplit(self.url).netloc)
        return out

    def csp(self, script_hashes: Sequence[str] = ()) -> str:
        """The Content-Security-Policy of a page: our scripts only (Dash's inline ones by
        hash), no framing, sources of tiles, video and the push channel named."""
        push = origin_of(self.push_url())
        capture = self.capture_url and origin_of(self.capture_url) or (
            f"{flask.request.scheme}://{self.host_of_request()}:{self.capture_port}")
        tiles = sorted({o for o in map(tile_origin, self.tile_urls) if o})
        media = " ".join(x for x in ("'self'", "data:", "blob:", capture, *tiles) if x)
        scripts = " ".join(["'self'", *script_hashes])  # Dash's are quoted already
        return "; ".join([
            "default-src 'self'", f"script-src {scripts}", "style-src 'self' 'unsafe-inline'",
            f"img-src {media}", f"media-src {media}", "worker-src 'self' blob:",
            f"connect-src 'self' {push} {capture}", "font-src 'self' data:",
            "object-src 'none'", "base-uri 'self'", "form-action 'self'",
            "frame-ancestors 'none'"])


def public() -> Public:
    """The Public of the app serving this request."""
    return flask.current_app.extensions.get(EXTENSION) or Public()


def install(server: flask.Flask, pub: Public, proxy_hops: int) -> None:
    """Remember `pub`, trust `proxy_hops` proxies' X-Forwarded-* headers, add the security
    headers to every answer (the page CSP allows the inline scripts of server.extensions
    [HASHES])."""
    server.extensions[EXTENSION] = pub
    if proxy_hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=proxy_hops,  # type: ignore[method-assign]
                                   x_proto=proxy_hops, x_host=proxy_hops)
        log.info("trusting %d proxy hop(s) for the client address, scheme and host", proxy_hops)

    @server.after_request
    def security_headers(resp: flask.Response) -> flask.Response:
        pub = public()
        h = resp.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if resp.mimetype == "text/html":
            hashes: Callable[[], Sequence[str]] = server.extensions.get(HASHES, tuple)
            h.setdefault("Content-Security-Policy", pub.csp(hashes()))
        if pub.https or flask.request.scheme == "https":
            h.setdefault("Strict-Transport-Security", HSTS)
        return resp
