"""Registered pages: 404 / 403 through the one message page, one app's pages per app, tab title."""
from __future__ import annotations

import base64
import json
from typing import Any

import plotly
import pytest

from dashboard.app import create_app
from dashboard.config import DashboardConfig, PushConfig
from dashboard.pages import message_page
from dashboard.refusals import Forbidden, NotFound
from domain.access import Role
from feeds.accounts import auth
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from tests.dashboard.dash_client import page_of, page_status, render_payload

PW = "pages-pass-7"


@pytest.fixture()
def apps(redis_url: str, city_ctx: CityContext):
    """Two apps in one process (Dash Pages' registry is global), a town's duty officer."""
    client = sync_client(redis_url)
    auth.add_user(client, "towner", PW, Role.DUTY, city_ctx.towns[0])
    first = create_app(DashboardConfig(push=PushConfig(port=8766)), city_ctx, client)
    second = create_app(DashboardConfig(push=PushConfig(port=9766)), city_ctx, client)
    yield first, second, city_ctx.towns[0], city_ctx.towns[1]
    client.close()


def answer(app: Any, path: str, search: str = "") -> dict[str, Any]:
    """Dash Pages' routing callback's answer for a URL, asked as the town's officer."""
    basic = base64.b64encode(f"towner:{PW}".encode()).decode()
    r = app.server.test_client().post("/_dash-update-component",
                                      json=render_payload(path, search),
                                      headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.data[:300]
    return r.get_json()


def as_json(component: Any) -> Any:
    return json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))


def test_an_unknown_path_is_the_404_message_page(apps):
    app, _, _, _ = apps
    not_found = as_json(message_page(NotFound("msg.no_page"), "zh"))
    for path in ("/nope", "/town", "/admin/nope", "/town/999999999"):
        assert page_of(answer(app, path)) == not_found, path
    got = page_of(answer(app, "/nope", "?lang=en"))
    assert got == as_json(message_page(NotFound("msg.no_page"), "en"))
    assert got["props"]["data-status"] == "404"
    no_event = as_json(message_page(NotFound("msg.no_event"), "zh"))
    assert page_of(answer(app, "/video/a/b")) == no_event  # as the hand router answered


def test_pages_outside_the_scope_are_the_403_message_page(apps):
    app, _, town, other = apps
    forbidden = as_json(message_page(Forbidden("msg.out_of_scope"), "en"))
    for path in (f"/town/{other}", f"/stats/{other}", "/city"):
        assert page_of(answer(app, path, "?lang=en")) == forbidden, path
    admins = as_json(message_page(Forbidden("msg.admins_only"), "zh"))
    for path in ("/admin/audit", "/admin/deadletters"):
        assert page_of(answer(app, path)) == admins, path
    missing = as_json(message_page(NotFound("msg.no_case"), "zh"))
    assert page_of(answer(app, "/case/NOPE")) == missing
    assert page_status(200, json.dumps(answer(app, f"/town/{town}"))) == 200


def test_each_app_serves_its_own_pages_and_the_tab_title_follows_the_language(apps):
    first, second, town, _ = apps
    for app, port in ((first, 8766), (second, 9766)):  # the second app was built last
        page = answer(app, f"/town/{town}")
        assert f":{port}/live?region={town}" in page_of(page)["props"]["data-live-url"]
        assert page["response"]["_pages_store"]["data"] == {"title": "网格化指挥中心"}
    english = answer(first, f"/town/{town}", "?lang=en&lang=zh")  # the first value counts
    assert english["response"]["_pages_store"]["data"] == {"title": "Gridwatch"}
