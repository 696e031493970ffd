"""Redirect targets: the one rule, and sign-in and the language switch applying it."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from dashboard.redirects import local_path
from domain.access import Role
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from tests.redirect_cases import CASES

PW = "right-pass-42"


@pytest.mark.parametrize(("target", "expected"), CASES)
def test_only_same_origin_paths_pass(target: str, expected: str | None):
    assert local_path(target) == expected


def test_sign_in_and_language_switch_go_only_to_local_paths(redis_url: str,
                                                            city_ctx: CityContext):
    client = sync_client(redis_url)
    auth.add_user(client, "viewer", PW, Role.VIEWER, city_ctx.towns[0])
    http = create_app(DashboardConfig(), city_ctx, client).server.test_client()
    for target, expected in CASES:
        http.get("/login")
        token = http.get_cookie("gw_csrf").value
        r = http.post(f"/login?next={quote(target, safe='')}",
                      data={"username": "viewer", "password": PW, "csrf": token})
        assert (r.status_code, r.headers["Location"]) == (302, expected or "/"), target
        r = http.get(f"/lang/en?next={quote(target, safe='')}")
        back = "/" if expected is None or expected.startswith("/lang") else expected
        assert (r.status_code, r.headers["Location"]) == (302, back), target
        if target.isprintable():  # a header cannot carry the others
            r = http.get("/lang/zh", headers={"Referer": "http://localhost" + target})
            assert r.headers["Location"] == back, target
    r = http.get("/lang/zh", headers={"Referer": "http://evil.example/case/abc"})
    assert r.headers["Location"] == "/"
