"""Login, logout and the per-request user: session cookie (Redis) or HTTP Basic."""
from __future__ import annotations

import base64
import logging
import secrets

import flask
import redis
from markupsafe import escape

from domain.access import User
from feeds import auth as users
from layouts.i18n import pick_lang, t

log = logging.getLogger(__name__)

SESSION_COOKIE = "gw_session"
PUBLIC_PATHS = ("/health", "/login", "/favicon.ico")


LOGIN_PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>{title}</title><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="stylesheet" href="/assets/login.css"></head><body class="gw-login">
<form method="post" action="/login?next={next}&lang={lang}" class="gw-login-card">
<h1>{title}</h1>{error}
<label>{user}<input name="username" autocomplete="username" autofocus required></label>
<label>{pw}<input name="password" type="password" autocomplete="current-password" required>
</label><input type="hidden" name="csrf" value="{csrf}">
<button type="submit">{go}</button>
<a class="gw-lang" href="/login?next={next}&lang={other}">{langlink}</a></form></body></html>"""


def current_user(client: redis.Redis) -> User | None:
    """The user of this request: session cookie first, then HTTP Basic."""
    user = users.session_user(client, flask.request.cookies.get(SESSION_COOKIE))
    if user is not None:
        return user
    header = flask.request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            name, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return users.authenticate(client, name, pw)
    return None


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


def login_page(error: bool = False) -> flask.Response:
    """The sign-in form (with a CSRF token cookie)."""
    lang = pick_lang(flask.request.args.get("lang"), flask.request.cookies.get("gw_lang"), None)
    csrf = secrets.token_urlsafe(24)
    html = LOGIN_PAGE.format(
        lang=lang, title=t("login.title", lang), user=t("login.user", lang),
        pw=t("login.password", lang), go=t("login.submit", lang),
        error=f'<p class="gw-error">{t("login.failed", lang)}</p>' if error else "",
        next=escape(_safe_next(flask.request.args.get("next"))), csrf=csrf,
        other="zh" if lang == "en" else "en", langlink=t("nav.lang_switch", lang))
    resp = flask.make_response(html, 401 if error else 200)
    resp.set_cookie("gw_csrf", csrf, httponly=True, samesite="Strict")
    return resp


def install(server: flask.Flask, client: redis.Redis) -> None:
    """Add /login, /logout and the login requirement to every other route."""

    @server.before_request
    def require_login() -> flask.Response | None:
        path = flask.request.path
        if path in PUBLIC_PATHS or path.startswith(("/assets/login", "/open311/")):
            return None
        user = current_user(client)
        if user is None:
            if path.startswith("/api/") or path.startswith("/_dash"):
                return flask.Response('{"error":"login required"}', 401, {
                    "Content-Type": "application/json",
                    "WWW-Authenticate": 'Basic realm="gridwatch"'})
            return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}")
        flask.g.user = user
        return None

    @server.route("/login", methods=["GET", "POST"])
    def login() -> flask.Response:
        if flask.request.method == "GET":
            return login_page()
        form = flask.request.form
        cookie = flask.request.cookies.get("gw_csrf", "")
        if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
            lang = pick_lang(flask.request.args.get("lang"),
                             flask.request.cookies.get("gw_lang"), None)
            return flask.Response(t("login.csrf", lang), 400,
                                  {"Content-Type": "text/plain; charset=utf-8"})
        user = users.authenticate(client, form.get("username", ""), form.get("password", ""))
        if user is None:
            log.warning("failed login for %r from %s", form.get("username", "")[:40],
                        flask.request.remote_addr)
            return login_page(error=True)
        token = users.open_session(client, user)
        log.info("login %s (%s, scope %s)", user.name, user.role, user.scope)
        resp = flask.redirect(_safe_next(flask.request.args.get("next")))
        resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax",
                        max_age=users.SESSION_TTL_S)
        return resp

    @server.route("/logout")
    def logout() -> flask.Response:
        token = flask.request.cookies.get(SESSION_COOKIE)
        if token:
            users.close_session(client, token)
        resp = flask.redirect("/login")
        resp.delete_cookie(SESSION_COOKIE)
        return resp
