"""Scope enforcement as one table: every HTTP route, page, Dash callback and push subscription,
for users scoped to the city, a town, a village and another village, in every role.

Routes come from the Flask url_map, pages from Dash Pages' registry and callbacks from
the Dash callback map: one that the table does not cover fails the test. Each answer is
compared with the expected status, and every answer a user may read is searched for the ids
and titles of cases, events, clips and cameras outside their scope (or of sensitive cases
their role is not cleared for): none may appear.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash
import pytest
import redis

from dashboard import pages
from domain.access import CLEARED_FOR_SENSITIVE, Role, User
from feeds.store import keys
from tests.dashboard.dash_client import page_status, render
from tests.dashboard.scope_world import (
    ACTING,
    CASES,
    EXEMPT_CALLBACKS,
    EXEMPT_RULES,
    FLAG,
    REVIEW,
    SCOPES,
    SEES,
    World,
)


# ---- the table -------------------------------------------------------------------------
@dataclass(frozen=True)
class Probe:
    """One request: what it asks for, about which place, and what it answers when allowed."""

    rule: str  # url_map rule, page prefix or callback output
    target: str  # path, or callback argument
    place: str | None  # "A1", "A2", "B", or None (the user's own scope / no region)
    sensitive: bool = False
    ok: int = 200
    roles: frozenset[Role] = frozenset(Role)  # roles that may use it at all
    city_only: bool = False  # only for users whose scope is the city
    missing: bool = False  # names nothing: 404 for everyone

    def expected(self, scope: str, role: Role) -> int:
        """The status the user should get."""
        if self.missing:
            return 404
        if role not in self.roles or (self.city_only and scope != "city"):
            return 403
        if self.place is not None and self.place not in SEES[scope]:
            return 403
        if self.sensitive and role not in CLEARED_FOR_SENSITIVE:
            return 403
        return self.ok


def http_probes(w: World) -> list[Probe]:
    """Every Flask route with each kind of target."""
    out = [Probe("/api/v1/openapi.json", "/api/v1/openapi.json", None),
           Probe("/logout", "/logout", None),
           Probe("/lang/<code>", "/lang/en", None, ok=302)]
    for place in ("A1", "A2", "B"):
        code = w.codes[place]
        for api in ("summary", "incidents", "officers", "cameras", "video/events"):
            out.append(Probe(f"/api/v1/{api}", f"/api/v1/{api}?region={code}", place))
        out.append(Probe("/api/v1/officers/<officer_id>",
                         f"/api/v1/officers/{w.officers[place]}", place))
        out.append(Probe("/api/v1/regions/<code>", f"/api/v1/regions/{code}", place))
        out.append(Probe("/wall/playlist.json", f"/wall/playlist.json?home={code}", place))
        cam = w.cameras[place]
        out += [Probe("/video/camera/<camera_id>.jpg", f"/video/camera/{cam}.jpg", place,
                      ok=503),  # allowed: then the (absent) capture worker is asked
                Probe("/video/camera/<camera_id>.mjpg", f"/video/camera/{cam}.mjpg", place,
                      ok=302),
                Probe("/video/live/<camera_id>", f"/video/live/{cam}", place),
                Probe("/video/camera/<camera_id>/live/<path:rest>",  # an MJPEG camera: 404
                      f"/video/camera/{cam}/live/{cam}.mjpg", place, ok=404)]
    for api in ("summary", "incidents", "officers", "cameras", "video/events"):
        out.append(Probe(f"/api/v1/{api}", f"/api/v1/{api}", None))  # own scope
    out += [Probe("/api/v1/regions/<code>", "/api/v1/regions/441999999", None, missing=True),
            Probe("/wall/playlist.json", "/wall/playlist.json", None),
            Probe("/wall/playlist.json", "/wall/playlist.json?home=441999999", None,
                  missing=True)]
    for case_id, (place, sensitive) in CASES.items():
        clip = w.clips[case_id]
        out += [Probe("/api/v1/incidents/<incident_id>", f"/api/v1/incidents/{case_id}", place,
                      sensitive),
                Probe("/video/clip/<clip_id>.webm", f"/video/clip/{clip}.webm", place,
                      sensitive),
                Probe("/video/clip/<clip_id>.mp4", f"/video/clip/{w.mp4_clips[case_id]}.mp4",
                      place, sensitive),
                Probe("/api/v1/video/events/<event_id>",
                      f"/api/v1/video/events/{w.events[case_id]}", place, sensitive),
                Probe("/video/clip/<clip_id>.jpg", f"/video/clip/{clip}.jpg", place,
                      sensitive)]
    out += media_probes(w)
    out += [Probe("/api/v1/incidents/<incident_id>", "/api/v1/incidents/NOPE", None,
                  missing=True),
            Probe("/api/v1/officers/<officer_id>", "/api/v1/officers/NOPE", None, missing=True),
            Probe("/api/v1/video/events/<event_id>", "/api/v1/video/events/ev000000000000",
                  None, missing=True),
            Probe("/video/camera/<camera_id>.jpg", "/video/camera/nope.jpg", None, missing=True),
            Probe("/video/clip/<clip_id>.webm", "/video/clip/cl000000000000.webm", None,
                  missing=True),
            Probe("/video/clip/<clip_id>.mp4", "/video/clip/cl000000000000.mp4", None,
                  missing=True),
            Probe("/admin/audit.csv", "/admin/audit.csv", None, roles=frozenset({Role.ADMIN}))]
    return out


MEDIA = "/media/<incident_id>/<name>"


def media_probes(w: World) -> list[Probe]:
    """A case's photo and thumbnail; a photo asked for under another case, a name that is no
    photo's, an unknown case: 404 to whoever may see the case named."""
    out = []
    for case_id, (place, sensitive) in CASES.items():
        photo = w.photos[case_id]
        out += [Probe(MEDIA, f"/media/{case_id}/{photo}.jpg", place, sensitive),
                Probe(MEDIA, f"/media/{case_id}/{photo}_thumb.jpg", place, sensitive)]
    a1, other = w.photos["SCOPE-A1"], w.photos["SCOPE-B"]
    return out + [Probe(MEDIA, f"/media/SCOPE-A1/{other}.jpg", "A1", ok=404),
                  Probe(MEDIA, f"/media/SCOPE-A1/{a1}.png", "A1", ok=404),
                  Probe(MEDIA, f"/media/SCOPE-A1/..{a1}.jpg", "A1", ok=404),
                  Probe(MEDIA, f"/media/NOPE/{a1}.jpg", None, missing=True)]


def page_probes(w: World) -> list[Probe]:
    """Every page kind (Dash render callback) with each kind of target."""
    out = [Probe("", "/", None), Probe("city", "/city", "city_only"),
           Probe("video", "/video", None),
           Probe("admin/audit", "/admin/audit", None, roles=frozenset({Role.ADMIN})),
           Probe("admin/deadletters", "/admin/deadletters", None,
                 roles=frozenset({Role.ADMIN}), city_only=True),
           Probe("case", "/case/NOPE", None, missing=True),
           Probe("town", "/town/999999999", None, missing=True),
           Probe("region", "/region/999999999", None, missing=True)]
    for place in ("A1", "A2", "B"):
        code, grid = w.codes[place], w.grids[place]
        out += level_probes(w, place)
        out += [Probe("grid", f"/grid/{grid}", place),
                Probe("region", f"/region/{code}", place),
                Probe("region", f"/region/{grid}", place),
                Probe("town", f"/town/{code}", None, missing=True),  # an alias keeps its level
                Probe("stats", f"/stats/{code}", place),
                Probe("track", f"/track?officer={w.officers[place]}", place),
                Probe("track", f"/track?grid={grid}", place)]
    for case_id, (place, sensitive) in CASES.items():
        out += [Probe("case", f"/case/{case_id}", place, sensitive),
                Probe("video", f"/video/{w.events[case_id]}", place, sensitive),
                Probe("track", f"/track?at={case_id}", place, sensitive)]
    return out


def level_probes(w: World, place: str) -> list[Probe]:
    """The pages of a place's upper regions: Dongguan's town and village aliases; the
    five-level city's district, street and community under /region/ (and no village page)."""
    code = w.codes[place]
    upper = "town_a" if place != "B" else place  # town or district A: both its places' own
    if w.kind == "dongguan":
        return [Probe("town", f"/town/{code[:9]}", upper),
                Probe("village", f"/village/{code}", place)]
    h = w.ctx.hierarchy
    district, street = h.ancestor_at(code, "district"), h.ancestor_at(code, "street")
    return [Probe("region", f"/region/{district}", upper),
            Probe("region", f"/region/{street}", place),
            Probe("village", f"/village/{code}", None, missing=True)]


def page_expected(p: Probe, scope: str, role: Role) -> int:
    """Pages: the two pseudo-places, and 404 (not 403) for a hidden case's track."""
    if p.place == "city_only":
        return 200 if scope == "city" else 403
    if p.place == "town_a":
        return 200 if scope in ("city", "town") else 403
    e = p.expected(scope, role)
    return 404 if e == 403 and p.rule == "track" and "at=" in p.target else e


def render_prefixes() -> set[str]:
    """The page kinds registered with Dash Pages: each page's path without its variables
    (the not-found page aside: it is what no kind matches)."""
    kinds = set()
    for page in dash.page_registry.values():
        if not page["module"].startswith(pages.MODULE + ".") or \
                page["module"].endswith("not_found_404"):
            continue
        path = page["path_template"] or page["path"]
        kinds.add("/".join(p for p in path.strip("/").split("/") if not p.startswith("<")))
    return kinds


# ---- the tests -------------------------------------------------------------------------
def test_table_covers_every_route_page_and_callback(world: World):
    rules = {r.rule for r in world.http_app.server.url_map.iter_rules()}
    covered = {p.rule for p in http_probes(world)}
    assert rules - EXEMPT_RULES == covered, "a route is missing from the scope table"
    assert render_prefixes() == {p.rule for p in page_probes(world)}, \
        "a page kind is missing from the scope table"
    callbacks = {k.split("@")[0] for k in world.http_app.callback_map}
    assert callbacks - EXEMPT_CALLBACKS == set(CALLBACKS), \
        "a callback is missing from the scope table"


def _check_body(w: World, scope: str, role: Role, what: str, body: str) -> None:
    leaked = [m for m in w.hidden_markers(scope, role) if m in body]
    assert not leaked, f"{scope}-{role.value} read {leaked} through {what}"


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("scope", SCOPES)
def test_http_routes_and_pages_are_scoped(world: World, scope: str, role: Role):
    http = world.client_for(scope, role)
    wrong = []
    for p in http_probes(world):
        r = http.get(p.target)
        want = p.expected(scope, role)
        if r.status_code != want:
            wrong.append(f"{p.target}: {r.status_code} != {want}")
        if r.status_code < 400:
            _check_body(world, scope, role, p.target, r.get_data().decode(errors="replace"))
    for p in page_probes(world):
        path, _, search = p.target.partition("?")
        status, body = render(http, path, f"?{search}" if search else "")
        got, want = page_status(status, body), page_expected(p, scope, role)
        if got != want:
            wrong.append(f"page {p.target}: {got} != {want}")
        if got == 200:
            _check_body(world, scope, role, f"page {p.target}", body)
    assert not wrong, "\n".join(wrong)


# ---- callbacks: (payload builder, applied?) per callback output --------------------------
def _cb(output: str, outputs: Any, inputs: list, state: list, changed: str) -> dict[str, Any]:
    return {"output": output, "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": [changed]}


CASE_REFRESH = ("..gw-case-details.children...gw-case-timeline.children...gw-case-actions."
                "children...gw-case-audit.children...gw-case-actions-sig.data..."
                "gw-case-photos.children..")


def case_refresh(case_id: str, _: World) -> dict[str, Any]:
    outs = [("gw-case-details", "children"), ("gw-case-timeline", "children"),
            ("gw-case-actions", "children"), ("gw-case-audit", "children"),
            ("gw-case-actions-sig", "data"), ("gw-case-photos", "children")]
    return _cb(CASE_REFRESH, [{"id": o, "property": p} for o, p in outs],
               [{"id": "gw-case-store", "property": "data", "value": {"incident_id": case_id}}],
               [{"id": "gw-root", "property": "data-lang", "value": "en"},
                {"id": "gw-case-actions-sig", "property": "data", "value": None}],
               "gw-case-store.data")


def case_note(case_id: str, _: World) -> dict[str, Any]:
    btn = {"action": "note", "type": "gw-act"}
    return _cb("gw-action-msg.children", {"id": "gw-action-msg", "property": "children"},
               [[{"id": btn, "property": "n_clicks", "value": 1}]],
               [[], [{"id": {"i": 0, "type": "gw-note"}, "property": "value", "value": "n"}],
                {"id": "gw-case-store", "property": "data", "value": {"incident_id": case_id}},
                {"id": "gw-root", "property": "data-lang", "value": "en"}],
               json.dumps(btn, separators=(",", ":"), sort_keys=True) + ".n_clicks")


def video_review(case_id: str, w: World) -> dict[str, Any]:
    return _cb("..gw-video-review-msg.children...gw-video-review-state.children..",
               [{"id": "gw-video-review-msg", "property": "children"},
                {"id": "gw-video-review-state", "property": "children"}],
               [{"id": "gw-video-reviewed", "property": "n_clicks", "value": 1}],
               [{"id": "gw-video-note", "property": "value", "value": "seen"},
                {"id": "gw-video-event", "property": "data",
                 "value": {"event_id": w.events[case_id]}},
                {"id": "gw-root", "property": "data-lang", "value": "en"}],
               "gw-video-reviewed.n_clicks")


def video_flag(case_id: str, _: World) -> dict[str, Any]:
    return _cb("gw-video-flag-msg.children", {"id": "gw-video-flag-msg", "property": "children"},
               [{"id": "gw-video-flag", "property": "n_clicks", "value": 1}],
               [{"id": "gw-case-store", "property": "data", "value": {"incident_id": case_id}},
                {"id": "gw-root", "property": "data-lang", "value": "en"}],
               "gw-video-flag.n_clicks")


def deadletter_send(_: str, w: World) -> dict[str, Any]:
    key = {"id": "0-1", "type": "gw-dl-send"}
    fixed = json.dumps({"type": "duty", "msg_id": f"dl-{time.time_ns()}", "on_duty": True,
                        "officer_id": w.officers["A1"], "ts": time.time()})
    return _cb('{"id":["MATCH"],"type":"gw-dl-result"}.children',
               {"id": {"id": "0-1", "type": "gw-dl-result"}, "property": "children"},
               [{"id": key, "property": "n_clicks", "value": 1}],
               [{"id": {"id": "0-1", "type": "gw-dl-text"}, "property": "value",
                 "value": fixed}],
               json.dumps(key, separators=(",", ":"), sort_keys=True) + ".n_clicks")


def _last_audit_id(client: redis.Redis) -> str:
    last = client.xrevrange(keys.AUDIT, count=1)
    return last[0][0].decode() if last else "0-0"


def _applied_by_audit(action: str) -> Callable[[World, str, User, str], bool]:
    """Whether an action was applied: its audit entry by that user appeared after `before`."""
    def applied(w: World, case_id: str, user: User, before: str) -> bool:
        return any(f[b"action"].decode() == action and f[b"user"].decode() == user.name
                   for _, f in w.client.xrange(keys.AUDIT, min=f"({before}"))
    return applied


CALLBACKS: dict[str, tuple[Callable, Callable | None, frozenset[Role], bool]] = {
    # output → (payload, applied-check or None for reads, roles, per case?)
    CASE_REFRESH: (case_refresh, None, frozenset(Role), True),
    "gw-action-msg.children": (case_note, _applied_by_audit("case.note"), frozenset(ACTING),
                               True),
    "..gw-video-review-msg.children...gw-video-review-state.children..":
        (video_review, _applied_by_audit("video.review"), frozenset(REVIEW), True),
    "gw-video-flag-msg.children": (video_flag, _applied_by_audit("video.flag"),
                                   frozenset(FLAG), True),
    '{"id":["MATCH"],"type":"gw-dl-result"}.children':
        (deadletter_send, _applied_by_audit("deadletter.resubmit"),
         frozenset({Role.ADMIN}), False),
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("scope", SCOPES)
def test_callbacks_act_and_read_only_in_scope(world: World, scope: str, role: Role):
    http = world.client_for(scope, role)
    user = world.user(scope, role)
    wrong = []
    for output, (payload, applied, roles, per_case) in CALLBACKS.items():
        for case_id in CASES if per_case else [""]:
            place, sensitive = CASES.get(case_id, (None, False))
            allowed = role in roles and (place is None and scope == "city" or place is not None
                                         and place in SEES[scope] and (
                                             not sensitive or role in CLEARED_FOR_SENSITIVE))
            before = _last_audit_id(world.client)
            r = http.post("/_dash-update-component", json=payload(case_id, world),
                          headers={"X-CSRFToken": http.get_cookie("_csrf_token").value})
            body = r.get_data(as_text=True)
            if applied is None:  # a read: content only when allowed
                got = r.status_code == 200 and f"TITLE-{case_id}" in body
                visible = place in SEES[scope] and (not sensitive or role in
                                                    CLEARED_FOR_SENSITIVE)
                if got != visible or r.status_code not in (200, 204):
                    wrong.append(f"{output[:20]} {case_id}: {r.status_code} {got}")
            elif applied(world, case_id, user, before) != allowed:
                wrong.append(f"{output[:20]} {case_id}: applied != {allowed} ({body[:80]})")
            if r.status_code == 200:
                _check_body(world, scope, role, f"callback {output[:20]}", body)
    assert not wrong, "\n".join(wrong)
