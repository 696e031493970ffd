"""The field terminal's routes against a real redis-server: /m/ and its PWA files without a
session, every text the terminal shows in the catalogue, and the pairing exchange (same-origin
JSON only, once, with the reason of each refusal)."""
from __future__ import annotations

import base64
import re
from pathlib import Path

import orjson
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig, FieldConfig
from domain.access import Role
from feeds.accounts import auth, devices, pairing
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import sync_client
from layouts.i18n import field_texts

FIELD = Path(__file__).resolve().parents[2] / "assets" / "field"
HOST = "gw.example.cn:8050"


@pytest.fixture()
def field(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    officer = next(iter(city_ctx.roster.values()))
    devices.add_device(client, "phone-1", officer.officer_id)
    app = create_app(DashboardConfig(), city_ctx, client)
    return app.server.test_client(), client, officer


def post_code(http, code: object, origin: str = f"http://{HOST}", **kw):
    return http.post("/m/pair", data=orjson.dumps({"code": code}), base_url=f"http://{HOST}",
                     headers={"Content-Type": "application/json", "Origin": origin,
                              "Sec-Fetch-Site": "same-origin"}, **kw)


def test_the_terminal_and_its_pwa_files_load_without_a_session(field):
    http, _, _ = field
    page = http.get("/m/")
    assert page.status_code == 200 and 'rel="manifest"' in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert http.get("/m").status_code in (301, 302, 308)
    man = http.get("/m/manifest.webmanifest").get_json(force=True)
    assert man["start_url"] == "/m/" and man["scope"] == "/m/" and man["display"] == "standalone"
    assert man["name"] == "网格员终端"
    for icon in man["icons"]:
        r = http.get(icon["src"])
        assert r.status_code == 200 and r.data[:8] == b"\x89PNG\r\n\x1a\n", icon["src"]
    sw = http.get("/m/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.headers["Content-Type"]
    shell = re.search(r"const SHELL = \[(.*?)\];", sw.text, re.S).group(1)
    for url in re.findall(r'"([^"]+)"', shell):  # a broken precache entry breaks the install
        assert http.get(url).status_code == 200, url
    assert http.get("/m/static/../../pyproject.toml").status_code == 404
    assert http.get("/api/v1/summary").status_code == 401  # the rest still needs a login


def test_settings_name_the_gateway_as_the_phone_reaches_it(field, redis_url, city_ctx):
    http, client, _ = field
    cfg = http.get("/m/config.json", base_url=f"http://{HOST}").get_json()
    assert cfg["gateway_url"] == "ws://gw.example.cn:8765/terminal"
    assert cfg["position_s"] == 10 and "dispute" in cfg["categories"]
    assert http.get("/m/config.json", base_url="https://[::1]:8443").get_json()[
        "gateway_url"] == "wss://[::1]:8765/terminal"
    proxied = create_app(DashboardConfig(field=FieldConfig(
        gateway_url="wss://gw.example.cn/terminal", position_s=30)), city_ctx, client)
    cfg = proxied.server.test_client().get("/m/config.json").get_json()
    assert (cfg["gateway_url"], cfg["position_s"]) == ("wss://gw.example.cn/terminal", 30)


def test_every_text_the_terminal_shows_is_in_the_catalogue(field):
    http, _, _ = field
    zh, en = http.get("/m/i18n/zh.json").get_json(), http.get("/m/i18n/en.json").get_json()
    assert zh == field_texts("zh") and zh["m.pair.go"] == "配对" and en["m.pair.go"] != "配对"
    assert http.get("/m/i18n/fr.json").status_code == 404
    used, dynamic = set(), set()
    for path in FIELD.glob("*.*"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'data-t(?:-placeholder|-label)?="([^"]+)"', text))
        used |= set(re.findall(r'\bT\(\s*"([^"$]+)"', text))
        used |= {k for k in re.findall(r'"(m\.[a-z_.]+)"', text) if not k.endswith(".")}
        dynamic |= set(re.findall(r"\bT\(`([a-z_.]+)\$\{", text))  # T(`m.conn.${state}`)
    assert len(used) > 60 and len(dynamic) >= 6
    assert sorted(k for k in used if k not in zh) == []
    assert sorted(p for p in dynamic if not any(k.startswith(p) for k in zh)) == []
    states = {"online", "connecting", "closed", "offline", "refused"}
    assert {f"m.conn.{s}" for s in states} <= set(zh)
    assert {f"m.pair.err.{r}" for r in pairing.Refusal} <= set(zh)
    dash_page = http.get("/login").text
    assert "field/app.js" not in dash_page


def test_a_pairing_code_is_exchanged_once_for_a_device_token(field):
    http, client, officer = field
    code = pairing.new_code(client, "phone-1", officer.officer_id)
    assert post_code(http, code, origin="https://evil.example").status_code == 403
    form = http.post("/m/pair", data={"code": code}, base_url=f"http://{HOST}")
    assert form.status_code == 400  # a plain form (what another site can post) is not JSON
    r = post_code(http, code)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert (body["device_id"], body["officer_id"], body["officer_name"]) == (
        "phone-1", officer.officer_id, officer.name)
    assert body["token"] not in code and len(body["token"]) >= 30
    import hashlib  # noqa: PLC0415
    assert client.hget(keys.DEVICE_TOKENS, hashlib.sha256(body["token"].encode()).hexdigest()) \
        == b"phone-1"
    again = post_code(http, code)
    assert (again.status_code, again.get_json()["error"]) == (409, "used")
    mine = {"Authorization": f"Bearer {body['token']}"}
    assert http.get("/m/device", headers=mine).get_json()["device_id"] == "phone-1"
    devices.revoke_device(client, "phone-1")
    assert http.get("/m/device", headers=mine).status_code == 401  # the phone asks: unpaired
    assert http.get("/m/device").status_code == 401
    assert client.xrevrange(keys.AUDIT, count=1)[0][1][b"action"] == b"device.paired"


@pytest.mark.parametrize(("code", "status", "error"), [
    ("2345-6789", 404, "wrong"), ("12", 400, "format"), (7, 400, "format")])
def test_bad_codes_are_refused_with_the_reason(field, code, status, error):
    http, _, _ = field
    r = post_code(http, code)
    assert (r.status_code, r.get_json()["error"]) == (status, error)


def test_too_many_wrong_codes_pause_the_address(field):
    http, client, officer = field
    for _ in range(pairing.FAILS_PER_ADDR):
        post_code(http, "2345-6789")
    code = pairing.new_code(client, "phone-1", officer.officer_id)
    r = post_code(http, code)
    assert r.status_code == 429 and r.get_json()["error"] == "limited"
    assert int(r.headers["Retry-After"]) > 0


def test_a_session_is_not_needed_and_not_used(field):
    http, client, officer = field
    auth.add_user(client, "admin", "a-long-password", Role.ADMIN, "441900")
    basic = base64.b64encode(b"admin:a-long-password").decode()
    code = pairing.new_code(client, "phone-1", officer.officer_id)
    r = post_code(http, code, **{"environ_base": {"HTTP_AUTHORIZATION": f"Basic {basic}"}})
    assert r.status_code == 200
