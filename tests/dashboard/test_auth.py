"""Sign-in, CSRF, rate limits, session expiry and the audit page against a real redis-server."""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime

import pytest
import redis

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role, User
from feeds.accounts import auth
from feeds.live import reads
from feeds.live.commands import audit
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from layouts.format import LOCAL_TZ
from tests.dashboard.dash_client import csrf_headers, page_status, render

PW = "right-pass-42"


def sign_in(http, name: str, pw: str = PW):
    """Post the login form as a browser does (form token from its cookie)."""
    http.get("/login")
    token = http.get_cookie("gw_csrf").value
    return http.post("/login", data={"username": name, "password": pw, "csrf": token})


@pytest.fixture()
def setup(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    town_a, town_b = city_ctx.towns[0], city_ctx.towns[1]
    auth.add_user(client, "boss", PW, Role.ADMIN, city_ctx.hierarchy.city.code)
    auth.add_user(client, "tadmin", PW, Role.ADMIN, town_a)
    auth.add_user(client, "viewer", PW, Role.VIEWER, town_a)
    app = create_app(DashboardConfig(), city_ctx, client)
    return app, client, town_a, town_b


def test_dash_callbacks_need_the_session_csrf_token(setup):
    app, client, town_a, _ = setup
    http = app.server.test_client()
    assert sign_in(http, "viewer").status_code == 302
    good = csrf_headers(http)
    assert good and page_status(*render(http, f"/town/{town_a}")) == 200
    assert render(http, f"/town/{town_a}", headers={})[0] == 403  # forged: no token
    assert render(http, f"/town/{town_a}", headers={"X-CSRFToken": "guess"})[0] == 403
    cross = {**good, "Origin": "http://evil.example"}
    assert render(http, f"/town/{town_a}", headers=cross)[0] == 403
    assert render(http, f"/town/{town_a}", headers={**good, "Sec-Fetch-Site": "cross-site"}
                  )[0] == 403
    same = {**good, "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert page_status(*render(http, f"/town/{town_a}", headers=same)) == 200
    other = app.server.test_client()
    sign_in(other, "tadmin")
    assert render(http, f"/town/{town_a}", headers=csrf_headers(other))[0] == 403  # not ours


def test_logout_needs_a_post_with_the_token_and_is_audited(setup):
    app, client, town_a, _ = setup
    http = app.server.test_client()
    sign_in(http, "viewer")
    assert http.get("/logout").status_code == 200  # a link or an <img> cannot log out
    assert http.post("/logout").status_code == 403
    assert page_status(*render(http, f"/town/{town_a}")) == 200
    token = csrf_headers(http)["X-CSRFToken"]
    assert http.post("/logout", data={"csrf": token}).status_code == 302
    assert render(http, f"/town/{town_a}", headers={"X-CSRFToken": token})[0] == 401
    actions = [(e["action"], e["user"]) for e in reads.audit_entries(client, 10)]
    assert actions[:2] == [("logout", "viewer"), ("login", "viewer")]


def test_failed_logins_are_rate_limited_across_processes_and_audited(setup, city_ctx):
    app, client, _, _ = setup
    http = app.server.test_client()
    for _ in range(auth.LOGIN_FAILS_PER_USER - 1):
        assert sign_in(http, "viewer", "wrong").status_code == 401
    assert sign_in(http, "viewer", "wrong").status_code == 429  # the last one allowed
    other_process = create_app(DashboardConfig(), city_ctx, client).server.test_client()
    limited = sign_in(other_process, "viewer")  # right password, but the name must wait
    assert limited.status_code == 429
    wait = int(limited.headers["Retry-After"])
    assert 0 < wait <= auth.LOGIN_WINDOW_S
    assert f"请在 {wait} 秒后再试" in limited.get_data(as_text=True)
    assert other_process.get_cookie("gw_session") is None
    basic = other_process.get("/api/v1/summary", headers={
        "Authorization": "Basic dmlld2VyOnJpZ2h0LXBhc3MtNDI="})  # viewer:right-pass-42
    assert basic.status_code == 429 and basic.headers["Retry-After"]
    assert sign_in(http, "tadmin").status_code == 302  # another name from the same address
    kinds = [e["action"] for e in reads.audit_entries(client, 50)]
    assert kinds.count("login.failed") == auth.LOGIN_FAILS_PER_USER
    assert kinds.count("login.limited") >= 2
    failed = next(e for e in reads.audit_entries(client, 50) if e["action"] == "login.failed")
    assert failed["user"] == "viewer" and failed["detail"].startswith("127.0.0.1")


def test_sessions_expire_when_idle_and_absolutely(setup):
    _, client, town_a, _ = setup
    user = User("v", Role.VIEWER, town_a)
    idle = auth.open_session(client, user, ttl_s=3600, idle_s=1)
    short = auth.open_session(client, user, ttl_s=1)
    kept = auth.open_session(client, user, ttl_s=3600, idle_s=2)
    for _ in range(3):
        time.sleep(0.7)
        assert auth.session_user(client, kept) == user  # used: its idle clock restarts
    assert auth.session_user(client, idle) is None
    assert auth.session_user(client, short) is None
    assert auth.session_record(client, kept)["csrf"]


def seed_audit(client: redis.Redis, city_ctx: CityContext, town_a: str, town_b: str) -> None:
    h = city_ctx.hierarchy
    grid_a = h.children_of(h.children_of(town_a)[0])[0]
    grid_b = h.children_of(h.children_of(town_b)[0])[0]
    now = time.time()
    audit(client, "duty-a", "case.note", "A1", "<img src=x onerror=alert(1)>", now - 50, grid_a)
    audit(client, "duty-b", "case.note", "B1", "=HYPERLINK(\"http://x\")", now - 40, grid_b)
    audit(client, "boss", "deadletter.resubmit", "1-0", "dl", now - 30)
    audit(client, "viewer", "login", "viewer", "127.0.0.1", now - 20, town_a)


def test_audit_page_is_for_admins_filtered_and_scoped(setup, city_ctx):
    app, client, town_a, town_b = setup
    seed_audit(client, city_ctx, town_a, town_b)
    boss, tadmin, viewer = (app.server.test_client() for _ in range(3))
    sign_in(boss, "boss"), sign_in(tadmin, "tadmin"), sign_in(viewer, "viewer")
    assert page_status(*render(viewer, "/admin/audit")) == 403
    assert viewer.get("/admin/audit.csv").status_code == 403
    status, body = render(boss, "/admin/audit")
    assert status == 200 and all(x in body for x in ("duty-a", "duty-b", "deadletter.resubmit"))
    assert "img src=x onerror=alert(1)" in body  # a text child (shown as text in Chromium)
    _, body = render(tadmin, "/admin/audit")
    # not the city-wide resubmit of dead letter "1-0" (quoted: entry ids such as
    # "1796301820071-0" end in 1-0 too)
    assert "duty-a" in body and "duty-b" not in body and '"1-0"' not in body
    assert "deadletter.resubmit" not in body
    _, body = render(boss, "/admin/audit", "?kind=case&user=duty-b")
    assert "duty-b" in body and "duty-a" not in body
    rows = list(csv.reader(io.StringIO(boss.get(
        "/admin/audit.csv?kind=case").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["time", "ts", "user", "action"]
    assert [r[2] for r in rows[1:]] == ["duty-b", "duty-a"]  # newest first
    assert rows[1][6].startswith("'=HYPERLINK")  # no formula runs in a spreadsheet
    since = datetime.fromtimestamp(time.time() - 25, LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
    rows = list(csv.reader(io.StringIO(tadmin.get(
        "/admin/audit.csv", query_string={"since": since}).get_data(as_text=True))))
    assert [r[3] for r in rows[1:]] == ["login"] * 3  # the seeded one and two sign-ins
    assert {r[5] for r in rows[1:]} == {town_a}
