"""Behind HTTPS and a trusted proxy: cookie names and flags, the push URL, client addresses
in rate limits and audit, origin checks, and the security headers of every page."""
from __future__ import annotations

import json

import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig, WebConfig
from domain.access import Role
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from tests.dashboard.dash_client import render

PW = "right-pass-42"
PUBLIC = "https://gw.example.cn"


def proxied(addr: str) -> dict[str, str]:
    """What nginx adds to a request it forwards (the Host it passes on is its upstream)."""
    return {"X-Forwarded-For": addr, "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "gw.example.cn", "Host": "127.0.0.1:8050"}


def form_token(http, headers: dict[str, str]) -> str:
    """The sign-in form's token (from its cookie, under whichever name it has)."""
    r = http.get("/login", headers=headers)
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if "gw_csrf=" in c)
    return cookie.split("=", 1)[1].split(";", 1)[0]


def sign_in(http, headers: dict[str, str], pw: str = PW, name: str = "viewer"):
    token = form_token(http, headers)
    return http.post("/login", headers=headers,
                     data={"username": name, "password": pw, "csrf": token})


@pytest.fixture()
def client(redis_url: str, city_ctx: CityContext):
    c = sync_client(redis_url)
    auth.add_user(c, "viewer", PW, Role.VIEWER, city_ctx.towns[0])
    return c


def test_behind_an_https_proxy(client, city_ctx: CityContext):
    app = create_app(DashboardConfig(web=WebConfig(public_url=PUBLIC + "/", proxy_hops=1)),
                     city_ctx, client)
    http = app.server.test_client()
    a = proxied("203.0.113.7")
    r = sign_in(http, a)
    assert r.status_code == 302
    cookies = {c.split("=", 1)[0]: c for c in r.headers.getlist("Set-Cookie")}
    assert set(cookies) == {"__Host-gw_session", "_csrf_token"}
    assert all("Secure" in c and "Path=/" in c and "Domain" not in c for c in cookies.values())
    assert "HttpOnly" in cookies["__Host-gw_session"]
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    login = next(e for e in reads.audit_entries(client, 10) if e["action"] == "login")
    assert login["detail"] == "203.0.113.7"
    town = city_ctx.towns[0]
    csrf = cookies["_csrf_token"].split("=", 1)[1].split(";", 1)[0]
    good = {**a, "X-CSRFToken": csrf, "Origin": PUBLIC}
    status, body = render(http, f"/town/{town}", headers=good)
    page = json.dumps(json.loads(body))
    assert status == 200 and '"data-live-url": "wss://gw.example.cn/live' in page
    assert render(http, f"/town/{town}", headers={**good, "Origin": "https://evil.example"}
                  )[0] == 403
    # 20 failures from one address pause that address, not the next client behind the proxy
    other = app.server.test_client()
    for i in range(auth.LOGIN_FAILS_PER_ADDR):
        sign_in(other, proxied("198.51.100.9"), "x", f"nobody{i}")
    assert sign_in(other, proxied("198.51.100.9")).status_code == 429
    assert sign_in(app.server.test_client(), proxied("203.0.113.8")).status_code == 302


def test_security_headers_on_every_page(client, city_ctx: CityContext):
    app = create_app(DashboardConfig(), city_ctx, client)
    http = app.server.test_client()
    r = http.get("/login", headers={"X-Forwarded-For": "203.0.113.7"})
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in r.headers  # plain http: no HSTS, no Secure
    assert sign_in(http, {}).headers.getlist("Set-Cookie")[0].startswith("gw_session=")
    assert "Secure" not in sign_in(http, {}).headers["Set-Cookie"]
    page = http.get(f"/town/{city_ctx.towns[0]}")
    csp = page.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert "connect-src 'self' ws://localhost:8766" in csp
    # no proxy trusted: a forged X-Forwarded-For is not the client's address
    login = next(e for e in reads.audit_entries(client, 10) if e["action"] == "login")
    assert login["detail"] == "127.0.0.1"
