"""Province scale in Chromium: the real push channel clusters 30,000 officers per viewport."""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import numpy as np
import orjson
import pytest
from werkzeug.serving import make_server

from dashboard.push import LiveHub, serve_push
from domain.access import Role, User
from domain.model import Officer
from feeds.accounts import async_sessions, auth
from feeds.live.context import CityContext
from feeds.live.state import OfficerState
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.browser.harness_map import QuietHandler, dash_app, fake_view
from tests.conftest import ThreadedServer

pytestmark = pytest.mark.browser
N = 30_000


@pytest.fixture()
def province(redis_url: str, city_ctx: CityContext) -> Iterator[tuple[str, str]]:
    """A real LiveHub over 30,000 stored officers and a page asking for viewport clusters;
    yields (page URL, session token)."""
    h = city_ctx.hierarchy
    grids = sorted({o.grid for o in city_ctx.roster.values()})
    roster = {f"P{i:06d}": Officer(f"P{i:06d}", "", grids[i % len(grids)]) for i in range(N)}
    rng = np.random.default_rng(4)
    sync = sync_client(redis_url)
    by_town: dict[str, dict[str, bytes]] = {}
    for oid, o in roster.items():
        x, y = h[o.grid].centre
        st = OfficerState(oid, o.grid, x + rng.normal(0, 0.002), y + rng.normal(0, 0.002),
                          1.0, o.grid, True)
        by_town.setdefault(o.grid[:9], {})[oid] = orjson.dumps(st.to_json())
    for town, rows in by_town.items():
        sync.hset(keys.officers(town), mapping=rows)
    token = auth.open_session(sync, User("p", Role.DUTY, h.city.code))

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        hub = LiveHub(client, h, roster, city_ctx.rules,
                      lambda t: async_sessions.session_user(client, t), flush_s=0.1)
        await serve_push(hub, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    push = ThreadedServer(run).start()
    live = f"ws://127.0.0.1:{push.port}/live?region={h.city.code}&officers=view"
    vm = fake_view(live, 0)
    server = make_server("127.0.0.1", 0, dash_app(vm).server, threaded=True,
                         request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", token
    server.shutdown()
    thread.join(5)
    push.stop()


TOTAL = """() => { const v = window.gridwatch.live.officerView || [];
  return [v.length, v.reduce((n, f) => n + (f.properties.point_count || 1), 0),
          document.querySelectorAll('#gw-map .gw-cluster').length]; }"""


def test_clusters_follow_the_view_and_add_up(browser, province) -> None:
    url, token = province
    ctx = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
    ctx.add_cookies([{"name": "gw_session", "value": token, "url": url}])
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function("(window.gridwatch.live.officerView || []).length > 0",
                           timeout=30_000)
    page.wait_for_selector("#gw-map .gw-cluster", timeout=30_000)
    features, officers, icons = page.evaluate(TOTAL)
    assert 0 < features <= 400 and icons > 0
    assert 0 < officers <= N
    page.evaluate("window.gridwatch.live.leafletMap.setZoom(17, {animate: false})")
    page.wait_for_function("window.gridwatch.live.officerView.every(f => !f.properties.kind"
                           " || f.properties.kind === 'cell')", timeout=30_000)
    page.wait_for_function("document.querySelectorAll('#gw-map .gw-off').length > 0 || "
                           "document.querySelectorAll('#gw-map .gw-cluster').length > 0",
                           timeout=30_000)
    near, _, _ = page.evaluate(TOTAL)
    assert 0 < near <= 400
    ctx.close()
