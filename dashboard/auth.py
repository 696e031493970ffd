"""Login, logout and the per-request user: session cookie (Redis) or HTTP Basic; CSRF checks
on every state-changing request; login rate limits; logins and logouts audited."""
from __future__ import annotations

import base64
import logging
import secrets
from urllib.parse import urlsplit

import flask
import redis
from markupsafe import escape

from dashboard.public import public
from dashboard.redirects import safe_target
from domain.access import User
from feeds.accounts import auth as users
from feeds.accounts import tokens as api_tokens
from feeds.live.commands import audit
from layouts.i18n import next_lang, pick_lang, t

log = logging.getLogger(__name__)

SESSION_COOKIE = "gw_session"
LOGIN_CSRF_COOKIE = "gw_csrf"  # the login form's own token (no session yet)
CSRF_COOKIE, CSRF_HEADER = "_csrf_token", "X-CSRFToken"  # Dash's renderer sends these by default
PUBLIC_PATHS = ("/health", "/health/live", "/health/ready", "/metrics", "/login",
                "/favicon.ico", "/m")  # /metrics checks its own callers (ops_routes)
PUBLIC_PREFIXES = ("/assets/login", "/open311/", "/m/")  # the field terminal needs no session
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_PREFIX = "/api/"  # where programs may present an API token


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

LOGOUT_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{out}</title>
<link rel="stylesheet" href="/assets/login.css"></head><body class="gw-login">
<form method="post" action="/logout" class="gw-login-card"><h1>{out}</h1>
<input type="hidden" name="csrf" value="{csrf}"><button type="submit">{out}</button>
</form></body></html>"""


class TooManyFailures(Exception):
    """Login attempts of this name or address are paused for `wait` seconds."""

    def __init__(self, wait: int):
        super().__init__(f"too many failed logins; retry in {wait} s")
        self.wait = wait


def get_cookie(name: str) -> str | None:
    """A cookie of ours by its base name (`__Host-` prefixed under https; Dash's CSRF
    cookie keeps its name: the renderer reads it)."""
    return flask.request.cookies.get(name if name == CSRF_COOKIE else public().cookie(name))


def set_cookie(resp: flask.Response, name: str, value: str, **kw: object) -> None:
    """Set a cookie of ours: its public name, `Secure` under https."""
    pub = public()
    resp.set_cookie(name if name == CSRF_COOKIE else pub.cookie(name), value,
                    secure=pub.https, **kw)  # type: ignore[arg-type]


def client_addr() -> str:
    """The client's address as this server sees it."""
    return flask.request.remote_addr or "?"


def failed_login(client: redis.Redis, name: str, via: str) -> int:
    """Count and audit one failed login; the wait it now imposes (audited too when > 0)."""
    addr = client_addr()
    log.warning("failed login for %r from %s (%s)", name[:40], addr, via)
    wait = users.record_failure(client, name, addr)
    audit(client, name[:64], "login.failed", name[:64], f"{addr} {via}")
    if wait:
        audit(client, name[:64], "login.limited", name[:64], f"{addr} {via} wait={wait}s")
    return wait


def _basic_user(client: redis.Redis, header: str) -> User | None:
    try:
        name, _, pw = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    wait = users.login_wait(client, name, client_addr())
    if wait:
        raise TooManyFailures(wait)
    user = users.authenticate(client, name, pw)
    if user is None:
        wait = failed_login(client, name, "basic")
        if wait:
            raise TooManyFailures(wait)
    return user


def current_user(client: redis.Redis) -> User | None:
    """The user of this request: session cookie first, then (the API's auth path, actions
    included) `Authorization: Bearer <api token>` under /api/, then HTTP Basic (rate
    limited, a password hash per call: for people, not programs)."""
    rec = users.session_record(client, get_cookie(SESSION_COOKIE))
    if rec is not None:
        flask.g.session = rec
        return users.session_user_of(rec)
    header = flask.request.headers.get("Authorization", "")
    scheme = header[:7].lower()
    if scheme == "bearer " and flask.request.path.startswith(API_PREFIX):
        user = api_tokens.token_user(client, header[7:].strip())
        if user is None:
            log.warning("unknown API token from %s", client_addr())
        return user
    if scheme.startswith("basic "):
        return _basic_user(client, header)
    return None


def same_origin() -> bool:
    """Whether a request comes from a page of this site (Sec-Fetch-Site, Origin)."""
    req = flask.request
    if req.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = req.headers.get("Origin")
    return not origin or urlsplit(origin).netloc in public().origins()


def csrf_ok() -> bool:
    """Whether a state-changing request carries its session's CSRF token and is same-origin;
    HTTP Basic clients have no session, so only the origin is checked for them."""
    if not same_origin():
        return False
    rec = flask.g.get("session")
    if rec is None:
        return True
    sent = flask.request.headers.get(CSRF_HEADER) or flask.request.form.get("csrf", "")
    return bool(sent) and secret_equal(sent, rec["csrf"])


def secret_equal(given: str, expected: str) -> bool:
    """Constant-time comparison of two secrets, as bytes (any text a client sends is fine)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"),
                                  expected.encode("utf-8", "surrogatepass"))


def _safe_next(target: str | None) -> str:
    return safe_target(target)


def login_page(error: bool = False, wait: int = 0) -> flask.Response:
    """The sign-in form (with a CSRF token cookie); 401 after a failure, 429 when paused."""
    lang = pick_lang(flask.request.args.get("lang"), get_cookie("gw_lang"), None)
    csrf = secrets.token_urlsafe(24)
    message = t("login.limited", lang, s=wait) if wait else t("login.failed", lang) if error else ""
    html = LOGIN_PAGE.format(
        lang=lang, title=t("login.title", lang), user=t("login.user", lang),
        pw=t("login.password", lang), go=t("login.submit", lang),
        error=f'<p class="gw-error" role="alert">{escape(message)}</p>' if message else "",
        next=escape(_safe_next(flask.request.args.get("next"))), csrf=csrf,
        other=next_lang(lang), langlink=t("nav.lang_switch", lang))
    resp = flask.make_response(html, 429 if wait else 401 if error else 200)
    if wait:
        resp.headers["Retry-After"] = str(wait)
    set_cookie(resp, LOGIN_CSRF_COOKIE, csrf, httponly=True, samesite="Strict")
    return resp


def _refused(status: int, message: str, wait: int = 0) -> flask.Response:
    headers = {"Content-Type": "application/json"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="gridwatch"'
    if wait:
        headers["Retry-After"] = str(wait)
    return flask.Response(f'{{"error":"{message}"}}', status, headers)


def install(server: flask.Flask, client: redis.Redis) -> None:
    """Add /login, /logout, the login requirement and the CSRF check to every other route."""

    @server.before_request
    def require_login() -> flask.Response | None:
        path = flask.request.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        try:
            user = current_user(client)
        except TooManyFailures as e:
            return _refused(429, f"too many failed logins; retry in {e.wait} s", e.wait)
        if user is None:
            if path.startswith("/api/") or path.startswith("/_dash"):
                return _refused(401, "login required")
            return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}")
        flask.g.user = user
        if flask.request.method not in SAFE_METHODS and not csrf_ok():
            log.warning("CSRF check failed: %s %s by %s", flask.request.method, path, user.name)
            return _refused(403, "CSRF check failed; reload the page")
        return None

    @server.after_request
    def csrf_cookie(resp: flask.Response) -> flask.Response:
        rec = flask.g.get("session")
        if rec is not None and flask.request.cookies.get(CSRF_COOKIE) != rec["csrf"]:
            set_cookie(resp, CSRF_COOKIE, rec["csrf"], samesite="Strict", httponly=False)
        return resp

    @server.route("/login", methods=["GET", "POST"])
    def login() -> flask.Response:
        if flask.request.method == "GET":
            return login_page()
        return _login_post(client)

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> flask.Response:
        rec = flask.g.session if "session" in flask.g else None
        if flask.request.method == "GET":  # a link cannot log anyone out: it asks first
            lang = pick_lang(flask.request.args.get("lang"), get_cookie("gw_lang"),
                             None)
            return flask.make_response(LOGOUT_PAGE.format(
                out=t("nav.sign_out", lang), csrf=escape(rec["csrf"] if rec else "")))
        users.close_session(client, get_cookie(SESSION_COOKIE) or "")
        user: User = flask.g.user
        audit(client, user.name, "logout", user.name, client_addr(), region=user.scope)
        flask.g.pop("session", None)
        resp = flask.redirect("/login")
        resp.delete_cookie(public().cookie(SESSION_COOKIE), secure=public().https)
        resp.delete_cookie(CSRF_COOKIE, secure=public().https)
        return resp


def _login_post(client: redis.Redis) -> flask.Response:
    """Check the form's token, the rate limit and the password; start a session."""
    form = flask.request.form
    cookie = get_cookie(LOGIN_CSRF_COOKIE) or ""
    if not cookie or not secret_equal(cookie, form.get("csrf", "")):
        lang = pick_lang(flask.request.args.get("lang"), get_cookie("gw_lang"), None)
        return flask.Response(t("login.csrf", lang), 400,
                              {"Content-Type": "text/plain; charset=utf-8"})
    name = form.get("username", "")
    wait = users.login_wait(client, name, client_addr())
    if wait:
        audit(client, name[:64], "login.limited", name[:64], f"{client_addr()} form wait={wait}s")
        return login_page(wait=wait)
    user = users.authenticate(client, name, form.get("password", ""))
    if user is None:
        wait = failed_login(client, name, "form")
        return login_page(error=True, wait=wait)
    users.clear_failures(client, name)
    token = users.open_session(client, user)
    log.info("login %s (%s, scope %s)", user.name, user.role, user.scope)
    audit(client, user.name, "login", user.name, client_addr(), region=user.scope)
    resp = flask.redirect(_safe_next(flask.request.args.get("next")))
    set_cookie(resp, SESSION_COOKIE, token, httponly=True, samesite="Lax",
               max_age=users.SESSION_TTL_S)
    rec = users.session_record(client, token)
    if rec is not None:
        set_cookie(resp, CSRF_COOKIE, rec["csrf"], samesite="Strict", httponly=False)
    return resp
