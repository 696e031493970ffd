"""The pages registered with Dash Pages, built from the read model; refusals shown in one place."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import dash
import flask
from dash import html

from dashboard import admin_page, audit_page, case_page, track_page, video_page
from dashboard.config import DashboardConfig
from dashboard.public import public
from dashboard.readmodel import ReadModel
from dashboard.refusals import NotFound, Refusal
from domain.access import User
from domain.regions import Level
from layouts import ids
from layouts.case_list import case_panel
from layouts.i18n import html_lang, switch_href, t
from layouts.map_view import map_page, view_query
from layouts.stats_view import stats_page
from layouts.wall_view import wall_chrome

log = logging.getLogger(__name__)

MODULE = "gw"  # this app's entries in dash.page_registry are gw.<page>
EXTENSION = "gridwatch.pages"  # where install() leaves an app's PageDeps (Flask extensions)
PAGE_LANG = "gw_page_lang"  # flask.g: the language of the page built in this request


@dataclass(frozen=True)
class PageDeps:
    """What the pages of one app read from: its read model and its settings."""

    reads: ReadModel
    settings: DashboardConfig


@dataclass(frozen=True)
class PageRequest:
    """One page request: who asks, in which language, on a wall or not, and the URL's
    variables and query (the first non-blank value of each)."""

    user: User
    lang: str
    wall: bool
    args: dict[str, str]
    live_base: str  # the push channel as this browser reaches it


Build = Callable[[PageDeps, PageRequest], Any]


@dataclass(frozen=True)
class Page:
    """One entry of the page table: its name, its path (a template where it has <variables>)
    and what builds it."""

    name: str
    path: str
    build: Build


def message_page(refusal: Refusal, lang: str) -> html.Div:
    """The page of a refusal: 404 (not found) or 403 (forbidden), text from the catalogue."""
    status = refusal.status
    title = t("msg.forbidden" if status == "403" else "msg.not_found", lang)
    return html.Div(
        className=f"gw-message gw-lang-{lang}", lang=html_lang(lang),
        **{"data-status": status},
        children=[html.H1(title), html.P(t(refusal.key, lang)),
                  html.A(t("msg.back", lang), href="/" + view_query(lang, False)),
                  html.A(t("nav.lang_switch", lang), href=switch_href(lang), id=ids.LANG_LINK,
                         className="gw-lang", title=t("nav.lang_switch_title", lang))])


def page_request(deps: PageDeps, kwargs: dict[str, Any]) -> PageRequest:
    """The request of a page from Dash Pages' keyword arguments (path variables and query)."""
    args = {}
    for k, v in kwargs.items():
        first = next((x for x in v if x), "") if isinstance(v, list) else v
        if isinstance(first, str) and first:
            args[k] = first
    lang = deps.reads.page_lang(args.get("lang"), deps.settings.web.lang)
    return PageRequest(flask.g.user, lang, args.get("wall") in ("1", "true"), args,
                       public().push_url())


def serve(build: Build, **kwargs: Any) -> Any:
    """The layout of every page: the request's app, user and language, then the page, or the
    message page of its refusal."""
    deps: PageDeps = flask.current_app.extensions[EXTENSION]
    req = page_request(deps, kwargs)
    setattr(flask.g, PAGE_LANG, req.lang)
    try:
        return build(deps, req)
    except Refusal as refusal:
        log.debug("page refused (%s): %s", refusal.status, refusal.key)
        return message_page(refusal, req.lang)


def tab_title(**_: str) -> str:
    """The browser tab's title, in the language of the page just built."""
    deps: PageDeps = flask.current_app.extensions[EXTENSION]
    return t("app.title", flask.g.get(PAGE_LANG) or deps.settings.web.lang)


# ---- the pages -------------------------------------------------------------------------
def _map(d: PageDeps, r: PageRequest, code: str) -> Any:
    """A region's live map: a desk's (with its case list) or a wall's (with its chrome)."""
    tiles, live_url = d.settings.basemap_view, f"{r.live_base}?region={code}"
    if r.wall:
        w = d.reads.wall_view(d.settings, r.user, code, r.args, r.lang)
        vm = d.reads.map_view(code, r.user, f"{live_url}&watch={w.home}", r.lang, True, tiles)
        return map_page(vm, None, wall_chrome(w, r.lang))
    vm = d.reads.map_view(code, r.user, live_url, r.lang, False, tiles)
    return map_page(vm, case_panel(vm.incidents, vm.region_level, r.lang, vm.as_of,
                                   vm.dispatch_level))


def home(d: PageDeps, r: PageRequest) -> Any:
    """/: the map of the user's own region."""
    return _map(d, r, r.user.scope)


def city(d: PageDeps, r: PageRequest) -> Any:
    """/city: the map of the whole city."""
    return _map(d, r, d.reads.ctx.hierarchy.city.code)


def region(level: str | None, d: PageDeps, r: PageRequest) -> Any:
    """/region/<code> (any level), and its aliases /town/<code>, /village/<code>, /grid/<code>
    for a region of that level."""
    return _map(d, r, d.reads.region_at(r.args.get("code", ""), level))


def case(d: PageDeps, r: PageRequest) -> Any:
    """/case/<incident_id>."""
    return case_page.render_case_page(d.reads, r.user, r.args.get("incident_id", ""), r.lang,
                                      r.live_base, d.settings.basemap_view)


def video_queue(d: PageDeps, r: PageRequest) -> Any:
    """/video: the review queue."""
    return video_page.render_queue_page(d.reads, r.user, r.lang)


def video_event(d: PageDeps, r: PageRequest) -> Any:
    """/video/<event_id>: one flagged event's clips."""
    return video_page.render_event_page(d.reads, r.user, r.args.get("event_id", ""), r.lang)


def stats(d: PageDeps, r: PageRequest) -> Any:
    """/stats/<code>: a region's statistics."""
    return stats_page(d.reads.stats_view(r.user, r.args.get("code", ""), r.lang, r.wall))


def track(d: PageDeps, r: PageRequest) -> Any:
    """/track?officer= | ?grid= | ?at=: track playback."""
    return track_page.render(d.reads, r.user, r.args, r.lang)


def audit(d: PageDeps, r: PageRequest) -> Any:
    """/admin/audit: the audit log (administrators)."""
    return audit_page.render(d.reads, r.user, r.args, r.lang)


def dead_letters(d: PageDeps, r: PageRequest) -> Any:
    """/admin/deadletters: refused messages (city administrators)."""
    return admin_page.render(d.reads, r.user, r.lang)


def not_found(d: PageDeps, r: PageRequest) -> Any:
    """Any path no other page has."""
    raise NotFound("msg.no_page")


PAGES = (
    Page("home", "/", home), Page("city", "/city", city),
    Page("region", "/region/<code>", partial(region, None)),
    Page("town", "/town/<code>", partial(region, Level.TOWN)),
    Page("village", "/village/<code>", partial(region, Level.VILLAGE)),
    Page("grid", "/grid/<code>", partial(region, Level.GRID)),
    Page("case", "/case/<incident_id>", case),
    Page("video", "/video", video_queue), Page("video_event", "/video/<event_id>", video_event),
    Page("stats", "/stats/<code>", stats), Page("track", "/track", track),
    Page("admin_audit", "/admin/audit", audit),
    Page("admin_deadletters", "/admin/deadletters", dead_letters),
    Page("not_found_404", "/404", not_found),  # the name Dash Pages looks for when none match
)


def install(app: dash.Dash, deps: PageDeps) -> None:
    """Register the page table with Dash Pages for this app (built with use_pages=True).

    dash.page_registry is one per process, and every app of the process (tests build several)
    registers the same entries again: their layouts find the app's read model and settings
    through the request's Flask app, not through a closure, so that the last app built does
    not serve the pages of the others.
    """
    app.server.extensions[EXTENSION] = deps
    for page in PAGES:
        templated = "<" in page.path
        dash.register_page(f"{MODULE}.{page.name}", path=None if templated else page.path,
                           path_template=page.path if templated else None,
                           layout=partial(serve, page.build), title=tab_title)
