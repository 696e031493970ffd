"""`gridwatch users add|list|remove` and `gridwatch devices add|list|revoke` against a real
redis-server: scopes checked against the city, removed or replaced users lose their sessions."""
from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from domain.access import Role, User
from feeds.accounts import auth, devices, pairing
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from gridwatch.cli import main


def run(argv: list[str], stdin: str = "") -> int:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(argv)
    finally:
        sys.stdin = old


def test_users_add_list_remove(redis_url: str, demo_dir: Path, city_ctx: CityContext,
                               capsys: pytest.CaptureFixture[str]):
    client = sync_client(redis_url)
    where = ["--redis-url", redis_url, "--data-dir", str(demo_dir)]
    town = city_ctx.towns[3]
    assert run(["users", "add", "li", "--role", "duty", "--scope", town, *where],
               "long-enough-pw\n") == 0
    assert run(["users", "add", "x", "--role", "duty", "--scope", "", *where], "pw-pw-pw-pw\n") == 1
    assert run(["users", "add", "x", "--role", "duty", "--scope", "441999999", *where],
               "pw-pw-pw-pw\n") == 1  # a well-formed code that is not in the city
    assert run(["users", "add", "x", "--role", "duty", "--scope", town, *where], "short\n") == 1
    capsys.readouterr()
    assert run(["users", "list", *where]) == 0
    assert capsys.readouterr().out.splitlines() == [f"li\tduty\t{town}\tzh"]
    assert auth.authenticate(client, "li", "long-enough-pw") == User("li", Role.DUTY, town)
    token = auth.open_session(client, User("li", Role.DUTY, town))
    assert run(["users", "add", "li", "--role", "viewer", "--scope", town, *where],
               "long-enough-pw\n") == 0
    assert auth.session_user(client, token) is None  # replaced: the old role's session ends
    token = auth.open_session(client, User("li", Role.VIEWER, town))
    assert run(["users", "remove", "li", *where]) == 0
    assert auth.session_user(client, token) is None  # removed: signed out everywhere
    assert auth.authenticate(client, "li", "long-enough-pw") is None
    assert run(["users", "remove", "li", *where]) == 1
    with pytest.raises(ValueError):
        auth.add_user(client, "y", "pw-pw-pw-pw", Role.ADMIN, "")  # "" would see everything


def test_devices_add_list_revoke(redis_url: str, demo_dir: Path, city_ctx: CityContext,
                                 capsys: pytest.CaptureFixture[str]):
    client = sync_client(redis_url)
    where = ["--redis-url", redis_url, "--data-dir", str(demo_dir)]
    officer = next(iter(city_ctx.roster))
    assert run(["devices", "add", "phone-1", "--officer", "NOBODY", *where]) == 1
    capsys.readouterr()
    assert run(["devices", "add", "phone-1", "--officer", officer, *where]) == 0
    out = capsys.readouterr().out
    token = out.split("token: ")[1].strip()
    assert len(token) >= 32
    code = re.search(r"^pairing code: ([A-Z0-9]{4}-[A-Z0-9]{4}) ", out, re.M).group(1)
    assert pairing.redeem(client, code, "127.0.0.1").officer_id == officer
    assert run(["devices", "pair", "phone-1", *where]) == 0  # a new code, the token stays
    code = re.search(r"pairing code: (\S+)", capsys.readouterr().out).group(1)
    assert pairing.redeem(client, code, "127.0.0.1").device_id == "phone-1"
    assert run(["devices", "pair", "nophone", *where]) == 1
    assert [(d.device_id, d.officer_id) for d in devices.list_devices(client)] == [
        ("phone-1", officer)]
    assert run(["devices", "revoke", "phone-1", *where]) == 0
    assert devices.list_devices(client) == []
    assert run(["devices", "revoke", "phone-1", *where]) == 1
