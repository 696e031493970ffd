"""The Dash app factory: login, API and media routes, the registered pages, their callbacks."""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

import dash
import flask
import redis
from dash import dcc, html

from dashboard import (
    admin_page,
    api,
    audit_page,
    case_page,
    field,
    grids,
    media_routes,
    open311,
    ops_routes,
    pages,
    public,
    tiles,
    video_api,
    video_live,
    video_page,
    video_routes,
)
from dashboard import auth as web_auth
from dashboard import lang as lang_switch
from dashboard import wall as wall_mod
from dashboard.actions import Actions
from dashboard.config import DashboardConfig
from dashboard.paths import assets_dir
from dashboard.readmodel import ReadModel
from dashboard.static_brotli import StaticBrotli
from dashboard.views import Snapshots
from feeds.ingest.attachments import MEDIA_SUBDIR
from feeds.ingest.intake import make_placer
from feeds.ingest.media_s3 import media_store
from feeds.ingest.placement import Placer
from feeds.live.context import CityContext
from layouts.i18n import t

log = logging.getLogger(__name__)

ASSETS = assets_dir()
URL = "gw-url"  # a second location: table rows open a case with a full page load
# Scripts the index names but does not run: AG Grid's (0.6 MB compressed with its chunk and its
# locale text), loaded by assets/grid.js on the pages that draw a grid. Left out: DataTable's,
# which no page uses (Dash registers it always), dash-extensions' (only its Python Namespace is
# used: dash-leaflet resolves the functions it names), and Babel's polyfill (32 KB compressed
# for the browsers we serve: only its regeneratorRuntime is used, vendored in assets/vendor).
DEFERRED_SCRIPT = re.compile(r'<script src="([^"]*(?:/dash_ag_grid/|/ag-grid-locale)[^"]*)">')
UNUSED_SCRIPT = re.compile(
    r'<script src="[^"]*(?:/dash_table/bundle|/dash_extensions/|/deps/polyfill@)[^"]*"></script>'
    r'\s*')


def create_app(settings: DashboardConfig, ctx: CityContext, client: redis.Redis) -> dash.Dash:
    """Build the Dash app (and its Flask server) for a loaded city and a Redis client."""
    reads = ReadModel(ctx, client, Snapshots(ctx, client))
    placer = functools.cache(lambda: make_placer(ctx, client))
    actions = Actions(ctx, client, placer)
    server = _server(settings, ctx, client, reads.snaps, placer, actions)
    app = dash.Dash(__name__, server=server, assets_folder=str(ASSETS), use_pages=True,
                    # the terminal's own, and the live players (only /video/live/<id> loads them)
                    assets_path_ignore=[field.ASSETS_SUBDIR, *video_live.PLAYER_ASSET_DIRS],
                    pages_folder="", include_pages_meta=False,
                    title=t("app.title", settings.web.lang), update_title=None,
                    suppress_callback_exceptions=True, compress=True)
    app.layout = html.Div([dcc.Location(id=URL), dash.page_container])
    StaticBrotli().install(server)  # after Dash's Flask-Compress, so it runs before it
    server.extensions[public.HASHES] = functools.cache(app.csp_hashes)
    app.interpolate_index = _index_in_page_lang(app, client, settings.web.lang)
    pages.install(app, pages.PageDeps(reads, settings))
    case_page.register(app, reads, actions)
    video_page.register(app, reads, actions)
    admin_page.register(app, actions)
    grids.register(app, URL)
    return app


def _server(settings: DashboardConfig, ctx: CityContext, client: redis.Redis, snaps: Snapshots,
            placer: Callable[[], Placer], actions: Actions) -> flask.Flask:
    """The Flask server: login and language, the API, audit export, wall playlist, the field
    terminal, video and Open311 routes."""
    server = flask.Flask(__name__)
    # Brotli where the browser takes it (a tenth smaller than gzip at the same speed), read by
    # Flask-Compress when Dash starts it (compress=True).
    server.config.update(COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_BR_LEVEL=5)
    web = settings.web
    public.install(server, public.Public(
        url=web.public_url, push_port=settings.push.port,
        capture_port=settings.video.capture_port, capture_url=settings.video.public_url,
        tile_urls=tuple(t.url for t in (settings.basemap_view.layers
                                        if settings.basemap_view else ()))), web.proxy_hops)
    web_auth.install(server, client)
    lang_switch.install(server, client)
    server.register_blueprint(api.blueprint(ctx, client, snaps, actions))
    server.register_blueprint(ops_routes.blueprint(ctx, client, settings.ops))
    server.register_blueprint(audit_page.blueprint(ctx, client))
    server.register_blueprint(wall_mod.blueprint(ctx, snaps))
    server.register_blueprint(field.blueprint(ctx, client, settings))
    server.register_blueprint(video_routes.blueprint(
        ctx, client, settings.store.data_dir / "clips", settings.video.capture_port,
        public_capture_url=settings.video.public_url))
    server.register_blueprint(video_api.blueprint(ctx, client))
    server.register_blueprint(media_routes.blueprint(
        ctx, client, media_store(settings.store, settings.store.data_dir / MEDIA_SUBDIR)))
    server.register_blueprint(tiles.blueprint(settings.basemap.tiles))
    key = settings.web.open311_key
    server.register_blueprint(open311.blueprint(
        ctx, client, key.get_secret_value() if key else "", placer))
    return server


def _index_in_page_lang(app: dash.Dash, client: redis.Redis, default: str
                        ) -> Callable[..., str]:
    """The app's index page with the browser tab's title in the page's language."""

    def interpolate_index(**kw: str) -> str:
        lang = lang_switch.page_lang(client, flask.request.args.get("lang"), default)
        return dash.Dash.interpolate_index(app, **{**kw, "title": t("app.title", lang),
                                                   "scripts": _page_scripts(kw["scripts"])})

    return interpolate_index


def _page_scripts(scripts: str) -> str:
    """The index's script tags, AG Grid's kept for assets/grid.js to load, unused ones left out."""
    scripts = UNUSED_SCRIPT.sub("", scripts)
    return DEFERRED_SCRIPT.sub(r'<script type="text/x-gw-deferred" data-src="\1">', scripts)
