"""The field terminal /m/ (no user session): its page and PWA files, its settings and texts,
and the one-time pairing code exchanged for a device token."""
from __future__ import annotations

import logging

import flask
import orjson
import redis

from dashboard import auth as web_auth
from dashboard.config import DashboardConfig
from dashboard.paths import assets_dir
from feeds.accounts import devices, pairing
from feeds.live.commands import audit
from feeds.live.context import CityContext
from layouts.i18n import field_texts, html_lang, langs, norm_lang, t

log = logging.getLogger(__name__)

ASSETS_SUBDIR = "field"  # assets/field: served under /m/static/, kept out of the Dash pages
FIELD_DIR = assets_dir() / ASSETS_SUBDIR
PREFIX = "/m"
STATUS_OF = {pairing.Refusal.FORMAT: 400, pairing.Refusal.WRONG: 404,
             pairing.Refusal.USED: 409, pairing.Refusal.EXPIRED: 410,
             pairing.Refusal.REPLACED: 410, pairing.Refusal.LIMITED: 429}
NO_STORE = {"Cache-Control": "no-store"}


def _json(body: object, status: int = 200, **headers: str) -> flask.Response:
    return flask.Response(orjson.dumps(body), status,
                          {"Content-Type": "application/json", **NO_STORE, **headers})


def gateway_url(settings: DashboardConfig) -> str:
    """The terminal gateway as this phone reaches it: the configured URL, else the page's
    host on the gateway's port (wss:// under https)."""
    if settings.field.gateway_url:
        return settings.field.gateway_url
    host = flask.request.host
    host = host[:host.index("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
    scheme = "wss" if flask.request.is_secure else "ws"
    return f"{scheme}://{host}:{settings.ingest.gateway_port}/terminal"


def terminal_settings(settings: DashboardConfig, ctx: CityContext) -> dict[str, object]:
    """What the terminal's script reads at start: gateway, intervals, categories, languages."""
    return {"gateway_url": gateway_url(settings), "position_s": settings.field.position_s,
            "photo_px": settings.field.photo_px, "max_photo_bytes": 8 * 1024 * 1024,
            "categories": list(ctx.rules), "langs": list(langs()),
            "default_lang": settings.web.lang}


def manifest(lang: str) -> dict[str, object]:
    """The web app manifest: installable, standalone, its own icons, scoped to /m/."""
    icons = [{"src": f"{PREFIX}/static/icons/icon-{n}.png", "sizes": f"{n}x{n}",
              "type": "image/png", "purpose": "any"} for n in (192, 512)]
    icons.append({"src": f"{PREFIX}/static/icons/maskable-512.png", "sizes": "512x512",
                  "type": "image/png", "purpose": "maskable"})
    return {"name": t("m.app", lang), "short_name": t("m.app_short", lang),
            "lang": html_lang(lang), "start_url": f"{PREFIX}/",
            "scope": f"{PREFIX}/", "display": "standalone", "orientation": "portrait",
            "background_color": "#f4f6f8", "theme_color": "#0b3d91", "icons": icons}


def _static(name: str, mime: str | None = None) -> flask.Response:
    resp = flask.send_from_directory(FIELD_DIR, name, mimetype=mime, max_age=0)
    resp.headers["Cache-Control"] = "no-cache"  # revalidated; the service worker keeps copies
    return resp


def blueprint(ctx: CityContext, client: redis.Redis, settings: DashboardConfig
              ) -> flask.Blueprint:
    """/m/: the page, its service worker, manifest, settings, texts, assets, and pairing."""
    bp = flask.Blueprint("field", __name__)

    @bp.get(PREFIX)
    def bare() -> flask.Response:
        return flask.redirect(f"{PREFIX}/")

    @bp.get(f"{PREFIX}/")
    def page() -> flask.Response:
        resp = _static("index.html", "text/html")
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' blob: data:; connect-src 'self' ws: wss:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
        return resp

    @bp.get(f"{PREFIX}/sw.js")
    def service_worker() -> flask.Response:
        return _static("sw.js", "text/javascript")

    @bp.get(f"{PREFIX}/static/<path:name>")
    def asset(name: str) -> flask.Response:
        return _static(name)

    @bp.get(f"{PREFIX}/manifest.webmanifest")
    def app_manifest() -> flask.Response:
        lang = norm_lang(flask.request.args.get("lang") or settings.web.lang)
        return flask.Response(orjson.dumps(manifest(lang)), 200,
                              {"Content-Type": "application/manifest+json"})

    @bp.get(f"{PREFIX}/config.json")
    def config() -> flask.Response:
        return _json(terminal_settings(settings, ctx))

    @bp.get(f"{PREFIX}/i18n/<lang>.json")
    def texts(lang: str) -> flask.Response:
        if lang not in langs():
            return _json({"error": f"no language {lang!r}"}, 404)
        return _json(field_texts(lang))

    @bp.post(f"{PREFIX}/pair")
    def pair() -> flask.Response:
        return _pair(ctx, client)

    @bp.get(f"{PREFIX}/device")
    def device() -> flask.Response:
        """Whether the phone's token still holds (the phone asks when the gateway keeps
        refusing it): its device and officer, or 401 once revoked or re-registered."""
        header = flask.request.headers.get("Authorization", "")
        found = (devices.device_of_token(client, header[7:].strip())
                 if header.lower().startswith("bearer ") else None)
        if found is None:
            return _json({"error": "revoked"}, 401)
        return _json({"device_id": found.device_id, "officer_id": found.officer_id})

    return bp


def _pair(ctx: CityContext, client: redis.Redis) -> flask.Response:
    """POST /m/pair {"code"}: same-origin JSON only; the device, its officer and a token, or
    the reason the code was refused (400/404/409/410/429)."""
    if not web_auth.same_origin():
        return _json({"error": "origin", "message": "cross-site request refused"}, 403)
    body = flask.request.get_json(silent=True) if flask.request.is_json else None
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return _json({"error": "format", "message": 'send JSON {"code": "XXXX-XXXX"}'}, 400)
    addr = web_auth.client_addr()
    try:
        paired = pairing.redeem(client, body["code"][:64], addr)
    except pairing.PairingRefused as e:
        headers = {"Retry-After": str(e.wait_s)} if e.wait_s else {}
        return _json({"error": e.reason.value, "wait_s": e.wait_s,
                      "message": f"pairing code refused: {e.reason.value}"},
                     STATUS_OF[e.reason], **headers)
    officer = ctx.roster.get(paired.officer_id)
    audit(client, f"device:{paired.device_id}", "device.paired", paired.officer_id, addr,
          region=officer.grid if officer else "")
    return _json({"token": paired.token, "device_id": paired.device_id,
                  "officer_id": paired.officer_id, "officer_name": officer.name if officer else "",
                  "grid": officer.grid if officer else ""})
