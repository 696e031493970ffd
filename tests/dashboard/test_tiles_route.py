"""GET /tiles/{z}/{x}/{y}: a local archive's tiles, login required, 404 for a missing tile."""
from __future__ import annotations

from pathlib import Path

import pytest

from dashboard import auth as web_auth
from dashboard.app import create_app
from dashboard.config import DashboardConfig
from domain.access import Role, User
from feeds.accounts import auth
from feeds.geo.basemap import BasemapConfig
from feeds.live.context import CityContext
from feeds.store.client import sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import free_port
from feeds.video.config import VideoConfig
from tests.feeds.geo.tile_archives import make_mbtiles, make_pmtiles, png

TILES = [(0, 0, 0), (3, 6, 3), (12, 3336, 1782)]


def app_with(tiles: Path | None, city_ctx: CityContext, redis_url: str, tmp: Path):
    """The dashboard with that archive as its basemap, and a signed-in test client."""
    client = sync_client(redis_url)
    settings = DashboardConfig(store=StoreConfig(data_dir=tmp),
                               video=VideoConfig(capture_port=free_port()),
                               basemap=BasemapConfig(tiles=tiles))
    app = create_app(settings, city_ctx, client)
    token = auth.open_session(client, User("tiles-viewer", Role.VIEWER,
                                           city_ctx.hierarchy.city.code))
    return app.server, token


@pytest.mark.parametrize("make, name", [(make_mbtiles, "c.mbtiles"), (make_pmtiles, "c.pmtiles")])
def test_tiles_are_served_to_a_signed_in_user(make, name, tmp_path, redis_server, city_ctx):
    server, token = app_with(make(tmp_path / name, TILES), city_ctx, redis_server.url, tmp_path)
    anon = server.test_client()
    r = anon.get("/tiles/3/6/3")
    assert r.status_code == 302 and "/login" in r.headers["Location"]  # like every page
    http = server.test_client()
    http.set_cookie(web_auth.SESSION_COOKIE, token)
    for z, x, y in TILES:
        r = http.get(f"/tiles/{z}/{x}/{y}")
        assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
        assert r.data == png(z, x, y)
    for path in ("/tiles/3/6/4", "/tiles/3/8/0", "/tiles/40/0/0", "/tiles/2/1/99999999999"):
        r = http.get(path)
        assert r.status_code == 404 and r.is_json, path


def test_without_an_archive_every_tile_is_404(tmp_path, redis_server, city_ctx):
    server, token = app_with(None, city_ctx, redis_server.url, tmp_path)
    http = server.test_client()
    http.set_cookie(web_auth.SESSION_COOKIE, token)
    assert http.get("/tiles/0/0/0").status_code == 404


def test_tile_sources_in_the_csp():
    from dashboard.public import tile_origin
    from feeds.geo.basemap import AMAP, LOCAL, OSM, TIANDITU
    assert tile_origin(TIANDITU % ("vec", "vec", "k")) == "https://*.tianditu.gov.cn"
    assert tile_origin(AMAP) == "https://*.is.autonavi.com"
    assert tile_origin(OSM) == "https://tile.openstreetmap.org"
    assert tile_origin(LOCAL) is None  # our own: 'self'
