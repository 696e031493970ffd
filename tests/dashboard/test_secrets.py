"""Secrets at rest and in compares: argon2id with rehash from scrypt, hashed session keys,
non-ASCII input refused cleanly."""
from __future__ import annotations

import base64

import orjson
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role
from feeds.accounts import auth, passwords
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import sync_client
from tests.dashboard.dash_client import render

PW = "right-pass-42"


@pytest.fixture()
def site(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    auth.add_user(client, "viewer", PW, Role.VIEWER, city_ctx.towns[0])
    return create_app(DashboardConfig(), city_ctx, client), client


def sign_in(http, name: str, pw: str = PW, csrf: str | None = None):
    http.get("/login")
    token = http.get_cookie("gw_csrf").value
    return http.post("/login", data={"username": name, "password": pw,
                                     "csrf": token if csrf is None else csrf})


def basic(name: str, pw: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{pw}".encode()).decode()}


def stored_hash(client, name: str) -> str:
    return orjson.loads(client.hget(keys.USERS, name))["pw"]


def test_old_scrypt_user_signs_in_and_is_rehashed_to_argon2id(site, city_ctx):
    app, client = site
    assert stored_hash(client, "viewer").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    rec = orjson.loads(client.hget(keys.USERS, "viewer"))
    rec["pw"] = passwords.legacy_scrypt_hash("old-pass-7", b"0123456789abcdef")
    client.hset(keys.USERS, "old", orjson.dumps(rec))
    http = app.server.test_client()
    assert sign_in(http, "old", "wrong").status_code == 401
    assert stored_hash(client, "old").startswith("scrypt$")  # a failure rehashes nothing
    assert sign_in(http, "old", "old-pass-7").status_code == 302
    assert stored_hash(client, "old").startswith("$argon2id$")
    again = app.server.test_client()
    assert sign_in(again, "old", "old-pass-7").status_code == 302
    assert again.get("/api/v1/summary", headers=basic("old", "old-pass-7")).status_code == 200


def test_a_redis_dump_holds_no_usable_session_token(site):
    app, client = site
    http = app.server.test_client()
    assert sign_in(http, "viewer").status_code == 302
    token = http.get_cookie("gw_session").value
    assert http.get("/api/v1/summary").status_code == 200
    dumped: list[str] = []
    for key in client.scan_iter("*"):
        dumped.append(key.decode())
        kind = client.type(key).decode()
        if kind == "string":
            dumped.append(client.get(key).decode(errors="replace"))
        elif kind == "set":
            dumped += [m.decode() for m in client.smembers(key)]
    assert dumped and not any(token in d for d in dumped)
    for d in dumped:  # nothing read from Redis opens a session
        thief = app.server.test_client()
        thief.set_cookie("gw_session", d.split(":", 1)[-1][:128])
        assert thief.get("/api/v1/summary").status_code == 401


def test_non_ascii_passwords_and_csrf_values_get_401_and_400_not_500(site, city_ctx):
    app, client = site
    http = app.server.test_client()
    assert sign_in(http, "viewer", "密码ü").status_code == 401
    assert sign_in(http, "用户", "密码").status_code == 401
    assert sign_in(http, "viewer", csrf="令牌").status_code == 400
    raw = "Basic " + base64.b64encode("viewer:密码".encode()).decode()
    assert http.get("/api/v1/summary", headers={"Authorization": raw}).status_code == 401
    latin = "Basic " + base64.b64encode("viewer:pässwörd".encode("latin-1")).decode()
    assert http.get("/api/v1/summary", headers={"Authorization": latin}).status_code == 401
    assert sign_in(http, "viewer").status_code == 302
    assert http.post("/logout", data={"csrf": "令牌"}).status_code == 403
    assert render(http, f"/town/{city_ctx.towns[0]}", headers={"X-CSRFToken": "tökén"})[0] == 403
    http.set_cookie("gw_session", "会话")
    assert http.get("/api/v1/summary").status_code == 401
