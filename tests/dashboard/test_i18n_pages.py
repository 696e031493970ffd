"""Every page type rendered by the real app (real Redis) in English and in Chinese: no Chinese
UI text in English pages except data names, no untranslated English labels in Chinese ones."""
from __future__ import annotations

import base64
import json
import logging
import re
import time
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import redis

from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role, User
from domain.cases import Action
from feeds.accounts import auth
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.intake import make_placer, store_sync
from feeds.ingest.protocol import Refused, decode_one
from feeds.live import reads
from feeds.live.commands import send_action
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.sim.cameras import demo_cameras
from feeds.store.client import sync_client
from feeds.video.registry import save_cameras
from feeds.video.store import flag_case
from tests.dashboard.dash_client import page_of, render_payload

PW = "secret-pass-1"
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")
TITLE = "楼道堆放杂物"  # field text: data in either language
DESC = "三楼楼梯间堆满纸箱，堵塞通道"
# Latin words a Chinese page may show: technical units and abbreviations, the switch to English.
ZH_LATIN_OK = {"ID", "P90", "CSV", "English", "km", "m", "s", "min", "h",
               "YYYY", "MM", "DD", "HH"}  # how to type a date
# Props whose strings are shown to people (text, tooltips, placeholders, labels, legends).
VISIBLE = {"children", "title", "placeholder", "aria-label", "label", "name", "text", "alt",
           "placeholder_text", "data-play", "data-pause", "data-label", "headerName"}
GRID_TEXTS = ("level", "category", "status", "action", "done")  # AG Grid row fields we word
FIELDS = re.compile(r"\{\w+\}")  # {n} in message templates the scripts fill
JSON_TEXTS = {"data-i18n", "data-labels"}  # JSON blobs of texts the scripts show
LABEL_DICTS = {"labels"}  # hideout dicts of texts the map scripts show


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{PW}".encode()).decode()}


def _fix(ctx: CityContext, index: GridIndex, grid: str, rng: np.random.Generator
         ) -> tuple[float, float]:
    return to_datum(*index.random_point(grid, rng), ctx.hierarchy.datum, "wgs84")


def _seed(client: redis.Redis, ctx: CityContext) -> dict[str, str]:
    """Officers' fixes, two cases (one acted on, one flagged for video), cameras, a refused
    message; returns the codes the pages are opened at."""
    officer = ctx.roster["O000030"]
    grid, now, rng = officer.grid, time.time(), np.random.default_rng(3)
    index = GridIndex(ctx.city)
    mates = [o for o in ctx.roster.values() if o.grid == grid]
    msgs = [{"type": "position", "msg_id": f"p-{o.officer_id}-{i}", "officer_id": o.officer_id,
             "ts": now - 600 + 60 * i, **dict(zip(("lon", "lat"), _fix(ctx, index, grid, rng),
                                                   strict=True))}
            for o in mates for i in range(6)]
    for n, cat in enumerate(("fire", "dispute")):
        lon, lat = _fix(ctx, index, grid, rng)
        msgs.append({"type": "incident", "msg_id": f"i{n}", "incident_id": f"C{n}",
                     "officer_id": officer.officer_id, "ts": now - 300, "lon": lon, "lat": lat,
                     "category": cat, "title": TITLE, "description": DESC})
    msgs.append({"type": "position", "msg_id": "bad-1", "officer_id": officer.officer_id,
                 "ts": now, "lat": 23.0, "lon": 113.7, "speed_mps": -3})
    placer = make_placer(ctx, client, index)
    items = [decode_one(m, now) for m in msgs]
    store_sync(client, [it if isinstance(it, Refused) else placer.route(it) for it in items],
               "test", now)
    cams = [c for c in demo_cameras(ctx.city, "http://127.0.0.1:9/", per_grid=2)
            if c.grid[:12] == grid[:12]]
    save_cameras(client, cams)
    worker = StateWorker(client, CityState.with_roster(ctx.rules, ctx.roster), ctx.towns,
                         ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    ids = {s: ">" for s in worker.streams}
    ids = worker.step(ids, block_ms=20)
    admin = User("admin", Role.ADMIN, ctx.hierarchy.city.code)
    inc = reads.read_incident(client, "C0")
    send_action(client, admin, inc, ctx.rules, Action.ACKNOWLEDGE)
    send_action(client, admin, inc, ctx.rules, Action.NOTE, note="已联系物业")
    for _ in range(3):
        ids = worker.step(ids, block_ms=20)
    event = flag_case(client, reads.read_incident(client, "C1"), admin)
    return {"grid": grid, "village": grid[:12], "town": grid[:9], "officer": officer.officer_id,
            "event": event.event_id, "other_town": next(t for t in ctx.towns if t != grid[:9]),
            "cameras": [c.name for c in cams],
            # records are shown as stored: a refused message's reason, an audit entry's detail
            "records": [e[k] for e in reads.dead_letters(client)
                        for k in ("reason", "source", "msg_id")]
            + [e.get(k, "") for e in reads.audit_entries(client, 100)
               for k in ("detail", "target")]}


@pytest.fixture()
def site(redis_url: str, city_ctx: CityContext):
    client = sync_client(redis_url)
    codes = _seed(client, city_ctx)
    auth.add_user(client, "admin", PW, Role.ADMIN, city_ctx.hierarchy.city.code)
    auth.add_user(client, "towner", PW, Role.DUTY, codes["town"], lang="en")
    app = create_app(DashboardConfig(), city_ctx, client)
    names = data_names(city_ctx, codes["cameras"] + codes["records"])
    yield app.server.test_client(), codes, client, names
    client.close()


def render(http, path: str, search: str = "", user: str = "admin") -> dict:
    """The page component tree the app's render callback answers for a URL."""
    r = http.post("/_dash-update-component", json=render_payload(path, search),
                  headers=basic(user))
    assert r.status_code == 200, r.data[:300]
    return page_of(r.get_json())


def leaves(texts: object) -> list[str]:
    """Every string of a dict of texts for the scripts (a plural message: its forms)."""
    if isinstance(texts, str):
        return [texts]
    values = texts.values() if isinstance(texts, dict) else texts if isinstance(texts, list) else ()
    return [s for v in values for s in leaves(v)]


def visible_texts(node: object, key: str = "children") -> list[str]:
    """Every string of a component tree (or figure) that people read."""
    out: list[str] = []
    if isinstance(node, str):
        if key in JSON_TEXTS:
            return leaves(json.loads(node))
        return [node] if key in VISIBLE else []
    if isinstance(node, list):
        for item in node:
            out += visible_texts(item, key if key in VISIBLE else "-")
    elif isinstance(node, dict):
        if node.get("type") == "Pane":  # a map pane's name is technical
            return visible_texts(node.get("props", {}).get("children"), "children")
        if node.get("type") in ("Input", "Textarea", "Select"):  # a form field's name too
            node = {**node, "props": {k: v for k, v in node.get("props", {}).items()
                                      if k != "name"}}
        for k, v in node.items():
            if key in LABEL_DICTS or key in JSON_TEXTS:
                out += leaves(v)
            elif k == "rowData" and isinstance(v, list):  # AG Grid rows
                out += [str(r.get(c, "")) for r in v if isinstance(r, dict)
                        for c in GRID_TEXTS]
            else:
                out += visible_texts(v, k)
    return out


def data_names(ctx: CityContext, more: list[str]) -> re.Pattern[str]:
    """Names from the city files and the field: regions, officers, cameras, case text and
    stored records."""
    names = {r.name for r in ctx.hierarchy.regions.values() if not r.name_en}  # else English
    names |= {o.name for o in ctx.roster.values()} | set(more) | {TITLE, DESC, "已联系物业"}
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True) if n))


def pages(codes: dict[str, str]) -> list[tuple[str, str, str]]:
    """(what, path, user) of every page type."""
    return [("city", "/", "admin"), ("wall", f"/town/{codes['town']}", "admin"),
            ("town", f"/town/{codes['town']}", "admin"),
            ("village", f"/village/{codes['village']}", "admin"),
            ("grid", f"/grid/{codes['grid']}", "admin"), ("case", "/case/C0", "admin"),
            ("stats", f"/stats/{codes['town']}", "admin"), ("track", "/track", "admin"),
            ("video queue", "/video", "admin"), ("video event", f"/video/{codes['event']}",
                                                  "admin"),
            ("dead letters", "/admin/deadletters", "admin"), ("audit", "/admin/audit", "admin"),
            ("403", f"/town/{codes['other_town']}", "towner"),
            ("404", "/case/nope", "admin")]


def _search(what: str, path: str, lang: str) -> str:
    return f"?lang={lang}" + ("&at=C0" if path == "/track" else "&wall=1" if what == "wall"
                              else "")


def test_english_pages_show_no_chinese_but_data(site, caplog):
    http, codes, client, data = site
    caplog.set_level(logging.WARNING, logger="layouts.i18n")
    for what, path, user in pages(codes):
        texts = visible_texts(render(http, path, _search(what, path, "en"), user))
        assert texts, what
        left = {s for s in texts if CJK.search(data.sub("", s)) and s != "中文"}
        assert not left, f"{what}: Chinese UI text in English: {sorted(left)[:8]}"
    login = http.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in login and not CJK.search(login.replace("中文", ""))
    assert not [r.getMessage() for r in caplog.records]  # no key missing from the catalogue


def test_chinese_pages_have_no_untranslated_english(site):
    http, codes, client, data = site
    ids = re.compile(r"\b(?:C\d|O\d{6}|admin|towner|cam-\d+-\d|ev-[\w-]+|[A-Z0-9]{6,})\b")
    for what, path, user in pages(codes):
        texts = visible_texts(render(http, path, _search(what, path, "zh"), user))
        bare = [FIELDS.sub("", ids.sub("", data.sub("", s))) for s in texts]
        words = {w for s in bare for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", s)} - ZH_LATIN_OK
        assert not words, f"{what}: English left in Chinese: {sorted(words)[:12]}"
        assert any(CJK.search(s) for s in texts), what
    login = http.get("/login?lang=zh").get_data(as_text=True)
    assert "用户名" in login and "Sign in" not in login


def test_language_precedence_url_then_user_then_settings(site):
    http, codes, client, _ = site
    town = f"/town/{codes['town']}"
    def title(page: dict) -> str:
        texts = visible_texts(page)
        return "en" if "Gridwatch" in texts else "zh" if "网格化指挥中心" in texts else "?"

    assert title(render(http, town, "", "towner")) == "en"  # saved
    assert title(render(http, town, "?lang=zh", "towner")) == "zh"  # the URL wins
    assert title(render(http, town, "", "admin")) == "zh"  # saved: zh (the default)
    r = http.get(f"/lang/en?next={town}%3Fwall%3D1%26lang%3Dzh", headers=basic("admin"))
    assert r.status_code == 302 and r.headers["Location"].endswith(f"{town}?wall=1")
    assert auth.user_lang(client, "admin") == "en"
    assert title(render(http, town, "", "admin")) == "en"
    assert http.get("/lang/fr", headers=basic("admin")).status_code == 404
    r = http.get("/lang/zh?next=//evil.example/x", headers=basic("admin"))
    assert r.headers["Location"].endswith("/") and "evil" not in r.headers["Location"]
