"""`gridwatch tokens add|list|revoke` and the API's `Authorization: Bearer` path, against a
real redis-server."""
from __future__ import annotations

import base64
import io
import sys
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from gridwatch.cli import main


def run(argv: list[str]) -> int:
    old = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        return main(argv)
    finally:
        sys.stdin = old


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_add_list_revoke_and_bearer_calls(redis_url: str, demo_dir: Path,
                                                 city_ctx: CityContext,
                                                 capsys: pytest.CaptureFixture[str]):
    client = sync_client(redis_url)
    where = ["--redis-url", redis_url, "--data-dir", str(demo_dir)]
    town, other = city_ctx.towns[0], city_ctx.towns[1]
    assert run(["tokens", "add", "ci", "--role", "viewer", "--scope", "441999999", *where]) == 1
    capsys.readouterr()
    assert run(["tokens", "add", "ci", "--role", "viewer", "--scope", town, *where]) == 0
    token = capsys.readouterr().out.split("token: ")[1].strip()
    assert token.startswith("gwt_") and len(token) > 40
    assert not any(token.encode() in v for v in client.hgetall("api-tokens").values())
    assert run(["tokens", "list", *where]) == 0
    assert capsys.readouterr().out.splitlines() == [f"ci\tviewer\t{town}"]

    http = create_app(DashboardConfig(), city_ctx, client).server.test_client()
    r = http.get("/api/v1/summary", headers=bearer(token))
    assert r.status_code == 200 and r.json["region"]["code"] == town
    assert http.get(f"/api/v1/summary?region={other}", headers=bearer(token)).status_code == 403
    assert http.get("/api/v1/summary", headers=bearer(token + "x")).status_code == 401
    assert http.get("/api/v1/summary", headers=bearer("gwt_令牌")).status_code == 401
    assert http.get(f"/town/{town}", headers=bearer(token)).status_code == 302  # API only
    # people's HTTP Basic stays rate limited; a program's token is not held up by it
    auth.add_user(client, "li", "long-enough-pw", auth.Role.VIEWER, town)
    wrong = {"Authorization": "Basic " + base64.b64encode(b"li:wrong").decode()}
    codes = [http.get("/api/v1/summary", headers=wrong).status_code
             for _ in range(auth.LOGIN_FAILS_PER_USER + 1)]
    assert codes[0] == 401 and codes[-1] == 429
    assert http.get("/api/v1/summary", headers=bearer(token)).status_code == 200

    capsys.readouterr()
    assert run(["tokens", "revoke", "ci", *where]) == 0
    assert http.get("/api/v1/summary", headers=bearer(token)).status_code == 401
    assert run(["tokens", "revoke", "ci", *where]) == 1
    capsys.readouterr()
    assert run(["tokens", "list", *where]) == 0
    assert capsys.readouterr().out == ""
