"""The language switch: /lang/<zh|en> saves the choice with the user and goes back to the page."""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit

import flask
import redis

from dashboard.auth import get_cookie, same_origin, set_cookie
from dashboard.redirects import local_path
from feeds.accounts import auth as users
from layouts.i18n import langs, pick_lang

log = logging.getLogger(__name__)

LANG_COOKIE = "gw_lang"  # the last choice in this browser (the sign-in page reads it)
COOKIE_MAX_AGE_S = 365 * 86400


def back_to(target: str | None, host: str) -> str:
    """The page to return to: a local path (from ?next= or the Referer) without its lang."""
    if not target:
        return "/"
    try:
        parts = urlsplit(target)
    except ValueError:
        return "/"
    if parts.netloc or parts.scheme:  # a Referer: only this site's, and only its path counts
        if parts.netloc != host or parts.scheme not in ("http", "https"):
            return "/"
        target = target.split(parts.netloc, 1)[1] or "/"
        parts = urlsplit(target)
    if local_path(target) is None or parts.path.startswith("/lang/"):
        return "/"
    path = parts.path
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    return path + ("?" + urlencode(query) if query else "")


def page_lang(client: redis.Redis, url_lang: str | None, default: str) -> str:
    """The language of this request's page: ?lang=, the user's saved choice, the cookie, the
    settings."""
    user = getattr(flask.g, "user", None)
    saved = users.user_lang(client, user.name) if user is not None else None
    return pick_lang(url_lang, saved or get_cookie(LANG_COOKIE), default)


def install(server: flask.Flask, client: redis.Redis) -> None:
    """Add the /lang/<code> route (behind the login, like every page)."""

    @server.route("/lang/<code>")
    def switch(code: str) -> flask.Response:
        if code not in langs():
            flask.abort(404)
        user = getattr(flask.g, "user", None)
        if user is not None and same_origin():  # a link on another site saves nothing
            users.set_user_lang(client, user.name, code)
            log.info("user %s chose language %s", user.name, code)
        target = flask.request.args.get("next") or flask.request.referrer
        resp = flask.redirect(back_to(target, flask.request.host))
        set_cookie(resp, LANG_COOKIE, code, max_age=COOKIE_MAX_AGE_S, samesite="Lax")
        return resp
