"""Open311 GeoReport v2 under /open311/v2/: citizens' service requests become cases.

GETs are open to anyone (public fields of non-sensitive requests); with the api_key they show
staff notes as before. POST requests needs the api_key. Every call answers .json or .xml."""
from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import flask
import orjson
import redis

from domain.model import Incident
from feeds.ingest.intake import store_sync
from feeds.ingest.placement import Placer
from feeds.ingest.protocol import Refused, decode_one
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.store import keys
from layouts.i18n import DEFAULT_LANG, category_name, norm_lang, t

log = logging.getLogger(__name__)

REPORTER = "open311"
PREFIX = "/open311/v2"
FMT = "<any(json, xml):fmt>"  # the spec's two formats, chosen by the path's extension
ITEM_OF = {"services": "service", "service_requests": "request", "errors": "error"}
# phone numbers (mobile, landline) and ID card numbers a citizen may type into a description
PERSONAL = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|[0-9]{17}[0-9Xx]|0[0-9]{2,3}-?[0-9]{7,8})"
                      r"(?![0-9])")
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # no XML 1.0 for these


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(
        timespec="seconds").replace("+00:00", "Z")


def request_lang() -> str:
    """The answer's language: ?locale= (or form field), else Accept-Language, else zh-CN."""
    locale = flask.request.values.get("locale")
    if locale:
        return norm_lang(locale)
    for value in flask.request.accept_languages.values():
        if value.lower().startswith(("en", "zh")):
            return norm_lang(value)
    return DEFAULT_LANG


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def to_xml(root: str, rows: list[dict[str, Any]]) -> bytes:
    """The spec's XML form of a list of records: <root><item><field>…</field>…</item>…</root>."""
    top = ET.Element(root)
    for row in rows:
        item = ET.SubElement(top, ITEM_OF[root])
        for name, value in row.items():
            ET.SubElement(item, name).text = _text(value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _reply(rows: list[dict[str, Any]], root: str, status: int = 200) -> flask.Response:
    if (flask.request.view_args or {}).get("fmt") == "xml":
        return flask.Response(to_xml(root, rows), status,
                              {"Content-Type": "text/xml; charset=utf-8"})
    return flask.Response(orjson.dumps(rows), status, {"Content-Type": "application/json"})


def _errors(status: int, description: str) -> flask.Response:
    return _reply([{"code": status, "description": description}], "errors", status)


def service_name(code: str, ctx: CityContext, lang: str) -> str:
    """A category's name in a language (the catalogue's, else the rule's own)."""
    name = category_name(code, lang)
    rule = ctx.rules.get(code)
    if name == code and rule:
        return rule.name_en if norm_lang(lang) == "en" else rule.name
    return name


def service_request(inc: Incident, ctx: CityContext, lang: str = DEFAULT_LANG,
                    public: bool = True) -> dict[str, Any]:
    """A case in GeoReport v2's service-request form; public: a status notice, no staff
    notes and no alert level."""
    notes = [e["note"] for e in inc.events if e.get("note")]
    notice = t(f"o311.notice.{inc.status.value}", lang)
    req = {"service_request_id": inc.incident_id,
           "status": "open" if inc.status.is_open else "closed",
           "status_notes": notice if public else (notes[-1] if notes else None),
           "service_name": service_name(inc.category, ctx, lang),
           "service_code": inc.category,
           "description": PERSONAL.sub("***", inc.description) if public else inc.description,
           "agency_responsible": inc.town, "service_notice": notice,
           "requested_datetime": _iso(inc.reported_ts),
           "updated_datetime": _iso(inc.updated_ts or inc.reported_ts),
           "expected_datetime": None, "address": None, "address_id": None, "zipcode": None,
           "lat": inc.lat, "long": inc.lon, "media_url": None}
    if not public:
        req["level"] = inc.level.value
    return req


def services_list(ctx: CityContext, lang: str) -> list[dict[str, Any]]:
    """The non-sensitive categories as GeoReport v2 services, named in a language."""
    out = []
    for code, rule in ctx.rules.items():
        if rule.sensitive:
            continue
        name = service_name(code, ctx, lang)
        out.append({"service_code": code, "service_name": name,
                    "description": t("o311.service_desc", lang, name=name),
                    "metadata": False, "type": "realtime",
                    "keywords": code.replace("_", ","), "group": "grid"})
    return out


def _check_key(api_key: str) -> flask.Response | None:
    """Anonymous GETs pass (public view); a given key must be right; POST needs one."""
    given = flask.request.values.get("api_key")
    flask.g.open311_keyed = False
    if given is None and flask.request.method in ("GET", "HEAD"):
        return None
    if given is None:
        return _errors(403, "api_key required to submit a service request")
    if not api_key or not hmac.compare_digest(given.encode(), api_key.encode()):
        return _errors(403, "api_key invalid")
    flask.g.open311_keyed = True
    return None


def blueprint(ctx: CityContext, client: redis.Redis, api_key: str,
              placer: Callable[[], Placer]) -> flask.Blueprint:
    """The GeoReport v2 routes: GETs open to all (public fields), POST with the api_key."""
    bp = flask.Blueprint("open311", __name__, url_prefix=PREFIX)
    bp.before_request(lambda: _check_key(api_key))

    def shown(iid: str) -> Incident | None:
        inc = reads.read_incident(client, iid)
        if inc is None or inc.officer_id != REPORTER:
            return None
        rule = ctx.rules.get(inc.category)
        if not flask.g.open311_keyed and (rule is None or rule.sensitive):
            return None  # the public never sees a sensitive case, even one re-filed as such
        return inc

    def as_request(inc: Incident) -> dict[str, Any]:
        return service_request(inc, ctx, request_lang(), public=not flask.g.open311_keyed)

    @bp.get(f"/services.{FMT}")
    def services(fmt: str) -> flask.Response:
        return _reply(services_list(ctx, request_lang()), "services")

    @bp.post(f"/requests.{FMT}")
    def create(fmt: str) -> flask.Response:
        return _create(ctx, client, placer(), request_lang())

    @bp.get(f"/requests.{FMT}")
    def list_requests(fmt: str) -> flask.Response:
        args = flask.request.args
        wanted = [i for i in args.get("service_request_id", "").split(",") if i]
        status, codes = args.get("status"), set(filter(None, args.get("service_code",
                                                                      "").split(",")))
        ids = wanted or [k.decode() for k in client.zrevrange(keys.OPEN311, 0, 999)]
        out = []
        for inc in filter(None, map(shown, ids[:1000])):
            req = as_request(inc)
            if status in (None, "", req["status"]) and (not codes or inc.category in codes):
                out.append(req)
        return _reply(out, "service_requests")

    @bp.get(f"/requests/<request_id>.{FMT}")
    def one(request_id: str, fmt: str) -> flask.Response:
        inc = shown(request_id)
        if inc is None:
            return _errors(404, f"no service request {request_id}")
        return _reply([as_request(inc)], "service_requests")

    return bp


def _create(ctx: CityContext, client: redis.Redis, placer: Placer,
            lang: str) -> flask.Response:
    v = flask.request.values
    code = v.get("service_code", "")
    rule = ctx.rules.get(code)
    if rule is None or rule.sensitive:
        return _errors(400, f"service_code: unknown service {code!r}")
    if not v.get("lat") or not v.get("long"):
        reason = ("address geocoding is not available: send lat and long"
                  if v.get("address_string") or v.get("address_id") else "lat and long required")
        return _errors(400, reason)
    now = time.time()
    description = (v.get("description") or "").strip()
    if v.get("media_url"):
        description = f"{description}\n{v['media_url']}".strip()
    iid = f"R{secrets.token_hex(6)}"
    msg = {"type": "incident", "msg_id": f"o311-{iid}", "incident_id": iid,
           "officer_id": REPORTER, "ts": now, "lat": v.get("lat"), "lon": v.get("long"),
           "category": code, "title": (description.splitlines() or [rule.name])[0][:80]
           or rule.name, "description": description[:4000]}
    try:
        msg["lat"], msg["lon"] = float(msg["lat"]), float(msg["lon"])
    except ValueError:
        return _errors(400, "lat/long: not numbers")
    item = decode_one(msg, now)
    routed = item if isinstance(item, Refused) else placer.route(item)
    [answer] = store_sync(client, [routed], f"open311@{flask.request.remote_addr}", now)
    if "nack" in answer:
        return _errors(400, str(answer["error"]))
    client.zadd(keys.OPEN311, {iid: now})
    log.info("open311 request %s (%s)", iid, code)
    return _reply([{"service_request_id": iid, "service_notice": t(
        "o311.received", lang, name=service_name(code, ctx, lang)), "account_id": None}],
        "service_requests", 201)
