"""The Dash app factory: pages by URL, login, API and health routes."""
from __future__ import annotations

import functools
import logging
from pathlib import Path
from urllib.parse import parse_qs

import dash
import flask
import redis
from dash import Input, Output, dcc, html

from dashboard import (
    admin_page,
    api,
    audit_page,
    case_page,
    open311,
    track_page,
    video_page,
    video_routes,
)
from dashboard import auth as web_auth
from dashboard import lang as lang_switch
from dashboard import wall as wall_mod
from dashboard.config import DashboardConfig
from dashboard.stats_page import CaseFrames, stats_view_model
from dashboard.views import Snapshots
from domain.regions import Level
from feeds.ingest.intake import make_placer
from feeds.live.context import CityContext
from layouts import ids
from layouts.case_list import case_panel
from layouts.i18n import switch_href, t
from layouts.map_view import map_page, view_query
from layouts.stats_view import stats_page
from layouts.wall_view import wall_chrome

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
URL, PAGE = "gw-url", "gw-page"
PATH_LEVELS = {"town": Level.TOWN, "village": Level.VILLAGE, "grid": Level.GRID}


def region_for_path(ctx: CityContext, path: str) -> str | None:
    """The region code a page path shows, or None if the path names no region."""
    parts = [p for p in (path or "/").split("/") if p]
    if not parts or parts == ["city"]:
        return ctx.hierarchy.city.code
    if len(parts) == 2 and parts[0] in PATH_LEVELS:
        code = parts[1]
        if code in ctx.hierarchy and ctx.hierarchy[code].level is PATH_LEVELS[parts[0]]:
            return code
    return None


def message_page(status: str, key: str, lang: str) -> html.Div:
    """A plain full-page message: 404 (not found) or 403 (forbidden), text from the catalogue."""
    title = t("msg.forbidden" if status == "403" else "msg.not_found", lang)
    return html.Div(className=f"gw-message gw-lang-{lang}", lang="zh-CN" if lang == "zh" else "en",
                    **{"data-status": status}, children=[html.H1(title), html.P(t(key, lang)),
                              html.A(t("msg.back", lang), href="/" + view_query(lang, False)),
                              html.A(t("nav.lang_switch", lang), href=switch_href(lang),
                                     id=ids.LANG_LINK, className="gw-lang",
                                     title=t("nav.lang_switch_title", lang))])


def create_app(settings: DashboardConfig, ctx: CityContext, client: redis.Redis) -> dash.Dash:
    """Build the Dash app (and its Flask server) for a loaded city and a Redis client."""
    server = flask.Flask(__name__)
    snaps = Snapshots(ctx, client, settings.web.officer_view_min)
    web_auth.install(server, client)
    lang_switch.install(server, client)
    server.register_blueprint(api.blueprint(ctx, client, snaps))
    server.register_blueprint(audit_page.blueprint(ctx, client))
    server.register_blueprint(wall_mod.blueprint(ctx, snaps))
    server.register_blueprint(video_routes.blueprint(
        ctx, client, settings.store.data_dir / "clips", settings.video.capture_port,
        public_capture_url=settings.video.public_url))
    placer = functools.cache(lambda: make_placer(ctx, client))
    frames = CaseFrames()
    key = settings.web.open311_key
    server.register_blueprint(open311.blueprint(
        ctx, client, key.get_secret_value() if key else "", placer))
    app = dash.Dash(__name__, server=server, assets_folder=str(ASSETS),
                    title=t("app.title", settings.web.lang), update_title=None,
                    suppress_callback_exceptions=True, compress=True)
    app.layout = html.Div([dcc.Location(id=URL), html.Div(id=PAGE)])

    def interpolate_index(**kw: str) -> str:  # the browser tab's title in the page's language
        lang = lang_switch.page_lang(client, flask.request.args.get("lang"), settings.web.lang)
        return dash.Dash.interpolate_index(app, **{**kw, "title": t("app.title", lang)})

    app.interpolate_index = interpolate_index

    @app.callback(Output(PAGE, "children"), Input(URL, "pathname"), Input(URL, "search"))
    def render(pathname: str | None, search: str | None) -> html.Div:
        user = flask.g.user
        query = parse_qs((search or "").lstrip("?"))
        lang = lang_switch.page_lang(client, (query.get("lang") or [None])[0], settings.web.lang)
        wall = (query.get("wall") or ["0"])[0] in ("1", "true")
        host = flask.request.host.rsplit(":", 1)[0] if ":" in flask.request.host else \
            flask.request.host
        live_base = f"ws://{host}:{settings.push.port}/live"
        parts = [p for p in (pathname or "/").split("/") if p]
        if parts and parts[0] == "video":
            page = video_page.render_video_page(ctx, client, user, parts[1:], lang)
            if page is None:
                return message_page("404", "msg.no_event", lang)
            if page is False:
                return message_page("403", "msg.out_of_scope", lang)
            return page
        if len(parts) == 2 and parts[0] == "stats":
            if parts[1] not in ctx.hierarchy:
                return message_page("404", "msg.no_region", lang)
            if not user.may_see_region(parts[1]):
                return message_page("403", "msg.out_of_scope", lang)
            return stats_page(stats_view_model(ctx, client, parts[1], lang, user=user,
                                               wall=wall, frames=frames))
        if parts == ["track"]:
            return _track(query, user, lang)
        if parts == ["admin", "audit"]:
            page = audit_page.render(ctx, client, user, {k: v[0] for k, v in query.items()},
                                     lang)
            return page if page is not None else message_page(
                "403", "msg.admins_only", lang)
        if parts == ["admin", "deadletters"]:
            page = admin_page.render(client, user, lang)
            return page if page is not None else message_page(
                "403", "msg.admins_only", lang)
        if len(parts) == 2 and parts[0] == "case":
            page = case_page.render_case_page(ctx, client, user, parts[1], lang, live_base,
                                              settings.web.tile_url)
            if page is None:
                return message_page("404", "msg.no_case", lang)
            if page is False:
                return message_page("403", "msg.out_of_scope", lang)
            return page
        code = region_for_path(ctx, pathname or "/")
        if code == ctx.hierarchy.city.code and pathname in (None, "", "/"):
            code = user.scope  # home page: the user's own region
        if code is None:
            return message_page("404", "msg.no_page", lang)
        if not user.may_see_region(code):
            return message_page("403", "msg.out_of_scope", lang)
        live_url = f"{live_base}?region={code}"
        if wall:
            w = wall_mod.wall_view(ctx, settings, user, code, query, lang)
            vm = snaps.map_view(code, user, f"{live_url}&watch={w.home}", lang, True,
                                settings.web.tile_url)
            return map_page(vm, None, wall_chrome(w, lang))
        vm = snaps.map_view(code, user, live_url, lang, wall, settings.web.tile_url)
        return map_page(vm, case_panel(vm.incidents, vm.region_level, lang, vm.as_of))

    def _track(query: dict[str, list[str]], user, lang: str):  # noqa: ANN001, ANN202
        q = {k: v[0] for k, v in query.items()}
        inc = None
        if q.get("at"):
            inc = case_page.visible_case(ctx, client, user, q["at"])
            if inc is None or inc is False:
                return message_page("404", "msg.no_case", lang)
            q.setdefault("grid", inc.grid)
        page = track_page.render(ctx, client, user, q, lang, inc)
        if page == "403":
            return message_page("403", "msg.out_of_scope", lang)
        if page == "404":
            return message_page("404", "msg.no_track", lang)
        return page

    case_page.register(app, ctx, client)
    video_page.register(app, ctx, client)
    admin_page.register(app, client, placer)

    @app.callback(Output(URL, "pathname"), Input(ids.CASE_TABLE, "active_cell"),
                  prevent_initial_call=True)
    def open_case(cell: dict | None) -> str:
        if not cell or not cell.get("row_id"):
            raise dash.exceptions.PreventUpdate
        return f"/case/{cell['row_id']}"

    @app.callback(Output(URL, "pathname", allow_duplicate=True),
                  Input(ids.QUEUE_TABLE, "active_cell"), prevent_initial_call=True)
    def open_queued_case(cell: dict | None) -> str:
        return open_case(cell)

    return app
