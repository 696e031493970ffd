"""Untrusted text in real Chromium: script payloads in every field-text field (case title,
description, terminal and desk notes, officer and camera names, dead-letter payloads, audit
entries, review notes) are shown as literal text and never run; Dash callbacks work only with
the session's CSRF token; failed sign-ins are rate limited with a clear message."""
from __future__ import annotations

import os
import shutil
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from domain.access import Role
from domain.video import Camera
from feeds.accounts import auth
from feeds.geo.datum import to_datum
from feeds.live import reads
from feeds.live.context import CityContext
from feeds.store import video_keys as vk
from feeds.store.client import sync_client
from feeds.video.registry import nearest_cameras
from feeds.video.store import read_events
from tests.support import CHROMIUM, RunningDemo, login, running_demo, send_messages

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]


def payload(key: str) -> str:
    """Markup that would set window.__xss if it ever ran, and a visible tag to look for."""
    return (f'{key}<img src=x onerror="window.__xss=(window.__xss||[]).concat(\'{key}\')">'
            f"<script>window.__xss=['{key}']</script>")


FIELDS = {k: payload(k) for k in ("TITLE", "DESC", "TNOTE", "OFFICER", "CAMERA", "DESKNOTE",
                                  "REVIEW", "LOGIN", "DEADLETTER")}


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory,
         city_ctx: CityContext) -> Iterator[tuple[RunningDemo, dict]]:
    """A demo whose roster file names one officer with a payload."""
    city_dir = tmp_path_factory.mktemp("xss-city")
    shutil.copy(demo_dir / "city.geojson", city_dir / "city.geojson")
    town = city_ctx.towns[2]
    grid = next(o.grid for o in city_ctx.roster.values() if o.grid.startswith(town))
    officer = next(o for o in city_ctx.roster.values() if o.grid == grid)
    lines = (demo_dir / "officers.csv").read_text(encoding="utf-8").splitlines()
    name = FIELDS["OFFICER"].replace('"', '""')
    lines = [f'{officer.officer_id},"{name}",{grid}' if ln.startswith(officer.officer_id + ",")
             else ln for ln in lines]
    (city_dir / "officers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with running_demo(city_dir, tmp_path_factory.mktemp("xss"), "--no-sim") as d:
        yield d, {"grid": grid, "officer": officer.officer_id}


def _seed(demo: RunningDemo, info: dict, city_ctx: CityContext):  # noqa: ANN202
    client = sync_client((demo.data_dir / "redis.url").read_text().strip())
    grid, oid = info["grid"], info["officer"]
    p = city_ctx.city.shapes[grid].representative_point()
    lon, lat = to_datum(p.x, p.y, city_ctx.hierarchy.datum, "wgs84")
    now = time.time()
    msgs = [{"type": "duty", "msg_id": "x-d", "officer_id": oid, "ts": now, "on_duty": True},
            {"type": "position", "msg_id": "x-p", "officer_id": oid, "ts": now, "lat": lat,
             "lon": lon},
            {"type": "incident", "msg_id": "x-c", "incident_id": "XSS-1", "officer_id": oid,
             "ts": now, "lat": lat, "lon": lon, "category": "dispute",
             "title": FIELDS["TITLE"], "description": FIELDS["DESC"]},
            {"type": "incident_update", "msg_id": "x-u", "incident_id": "XSS-1", "ts": now + 1,
             "status": "acknowledged", "note": FIELDS["TNOTE"]},
            {"type": "position", "msg_id": "x-bad", "officer_id": oid, "ts": now, "lat": lat,
             "lon": lon, "speed_mps": -1, "extra": FIELDS["DEADLETTER"]}]
    answers = send_messages(demo.gateway_url, msgs)
    assert [("ack" in a) for a in answers] == [True] * 4 + [False]
    deadline = time.time() + 20
    while reads.read_incident(client, "XSS-1") is None or reads.read_incident(
            client, "XSS-1").status.value != "acknowledged":
        assert time.time() < deadline, "the worker did not apply the case"
        time.sleep(0.2)
    # the registry is written by the demo, and again by its (low-priority) capture worker
    # before that serves: wait for the worker, or it would undo the renaming below
    while not (_capture_up(demo) and
               (cams := nearest_cameras(client, city_ctx.towns, p.x, p.y, 1, 50.0))):
        assert time.time() < deadline + 40, "the demo's capture worker registered no camera"
        time.sleep(0.5)
    cam: Camera = cams[0][0]
    renamed = replace(cam, name=FIELDS["CAMERA"])
    client.hset(vk.cameras(cam.town), cam.camera_id, orjson.dumps(renamed.to_json()))
    return client


def _capture_up(demo: RunningDemo) -> bool:
    """Whether the demo's capture worker answers (it has saved the camera registry)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{demo.capture_port}/health", timeout=2):
            return True
    except OSError:
        return False


def _no_script_ran(page, where: str) -> None:  # noqa: ANN001
    assert page.evaluate("window.__xss === undefined"), f"a payload ran on {where}"


def _shows(page, key: str, chars: int = 10_000) -> None:  # noqa: ANN001
    """The payload's literal text (its first `chars`) is on the page, as text."""
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=FIELDS[key][:chars],
                           timeout=30_000)


def test_payloads_stay_text_everywhere_and_callbacks_need_csrf(demo, browser, city_ctx):
    d, info = demo
    client = _seed(d, info, city_ctx)
    dialogs: list[str] = []
    context = browser.new_context(bypass_csp=True, viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    page.on("dialog", lambda dlg: (dialogs.append(dlg.message), dlg.dismiss()))
    _detector_works_and_a_payload_signs_in(page, d)
    login(page, d.url)
    _case_page_shows_text_and_takes_a_note(page, d)
    _review_pages_show_text(page, d, client, info)
    _case_list_shows_text(page, d, info)
    _admin_and_track_pages_show_text(page, d)
    assert dialogs == []
    _callback_without_the_token_is_refused(page, context, d, client)
    context.close()


def _detector_works_and_a_payload_signs_in(page, d) -> None:
    """A payload parsed as HTML does run (the detector works); a failed sign-in whose user
    name is a payload is audited, later shown on the audit page."""
    page.goto(d.url + "/login")
    page.evaluate("h => { const d = document.createElement('div'); d.innerHTML = h; "
                  "document.body.append(d); }", FIELDS["TITLE"])
    page.wait_for_function("window.__xss !== undefined", timeout=5_000)
    page.goto(d.url + "/login")
    page.fill("input[name=username]", FIELDS["LOGIN"])
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".gw-error").count() == 1


def _case_page_shows_text_and_takes_a_note(page, d) -> None:
    """The case page's fields as text; a desk note through the real callback (the renderer
    sends the CSRF header) and a video flag."""
    page.goto(d.url + "/case/XSS-1")
    for key in ("TITLE", "DESC", "TNOTE", "OFFICER", "CAMERA"):
        _shows(page, key)
    _no_script_ran(page, "the case page")
    page.wait_for_selector("#gw-conn.gw-conn--open", timeout=30_000)
    page.fill("textarea.gw-note", FIELDS["DESKNOTE"])
    page.click("button.gw-btn-note")
    page.wait_for_function("document.getElementById('gw-action-msg').innerText !== ''",
                           timeout=10_000)
    answer = page.inner_text("#gw-action-msg")
    assert "已提交" in answer, answer  # the callback ran: the renderer sent the token
    _shows(page, "DESKNOTE")
    page.click("#gw-video-flag")
    page.wait_for_selector("#gw-video-flag-msg a", timeout=10_000)
    _no_script_ran(page, "the case page after actions")


def _review_pages_show_text(page, d, client, info) -> None:
    """The review queue and the event page, with a review note."""
    ev = next(e for e in read_events(client, [info["grid"][:9]]) if e.incident_id == "XSS-1")
    page.goto(d.url + "/video")
    _shows(page, "TITLE")
    page.goto(d.url + f"/video/{ev.event_id}")
    page.wait_for_selector("#gw-video-note", timeout=15_000)
    page.fill("#gw-video-note", FIELDS["REVIEW"])
    page.click("#gw-video-reviewed")
    _shows(page, "REVIEW")
    _no_script_ran(page, "the review page")


def _case_list_shows_text(page, d, info) -> None:
    """The region page's case list (AG Grid): the title as text in its cell, also after the
    push channel's live rows replaced the server's."""
    page.goto(d.url + f"/town/{info['grid'][:9]}")
    cell = page.wait_for_selector("#gw-case-table .ag-row[row-id='XSS-1'] [col-id='title']",
                                  timeout=20_000)
    assert cell.inner_text() == FIELDS["TITLE"]
    page.wait_for_function("() => gridwatch.live.synced", timeout=20_000)  # the sync came
    page.evaluate("() => gridwatch.cases.onIncidents(gridwatch.live.incidents)")
    assert page.locator("#gw-case-table img, #gw-case-table script").count() == 0
    _no_script_ran(page, "the case list")


def _admin_and_track_pages_show_text(page, d) -> None:
    """Dead letters, the audit log and the track page."""
    page.goto(d.url + "/admin/deadletters")
    page.wait_for_selector("textarea.gw-dl-raw", timeout=15_000)
    raws = page.locator("textarea.gw-dl-raw").evaluate_all("els => els.map(e => e.value)")
    assert any(FIELDS["DEADLETTER"] in orjson.loads(r).get("extra", "") for r in raws)
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_selector("#gw-dl-grid .ag-row", timeout=15_000)  # the list (AG Grid)
    _no_script_ran(page, "the dead letters")
    page.goto(d.url + "/admin/audit")
    _shows(page, "LOGIN", 64)  # user names are audited up to 64 characters
    _shows(page, "DESKNOTE")
    assert page.locator("#gw-audit-table img, #gw-audit-table script").count() == 0
    _no_script_ran(page, "the audit page")
    page.goto(d.url + "/track?at=XSS-1")
    _shows(page, "TITLE")
    _no_script_ran(page, "the track page")


def _callback_without_the_token_is_refused(page, context, d, client) -> None:
    """The note callback without the CSRF token: 403, nothing applied; with it: applied."""
    before = len(reads.audit_entries(client, 1000, target="XSS-1"))
    r = page.request.post(d.url + "/_dash-update-component", data=orjson.dumps(
        _note_payload("forged")).decode(), headers={"Content-Type": "application/json"})
    assert r.status == 403
    assert len(reads.audit_entries(client, 1000, target="XSS-1")) == before
    token = next(c["value"] for c in context.cookies() if c["name"] == "_csrf_token")
    ok = page.request.post(d.url + "/_dash-update-component", data=orjson.dumps(
        _note_payload("with token")).decode(), headers={"Content-Type": "application/json",
                                                        "X-CSRFToken": token})
    assert ok.status == 200
    assert len(reads.audit_entries(client, 1000, target="XSS-1")) == before + 1


def _note_payload(note: str) -> dict:
    btn = {"action": "note", "type": "gw-act"}
    return {"output": "gw-action-msg.children",
            "outputs": {"id": "gw-action-msg", "property": "children"},
            "inputs": [[{"id": btn, "property": "n_clicks", "value": 1}]],
            "state": [[], [{"id": {"i": 0, "type": "gw-note"}, "property": "value",
                            "value": note}],
                      {"id": "gw-case-store", "property": "data",
                       "value": {"incident_id": "XSS-1"}},
                      {"id": "gw-root", "property": "data-lang", "value": "zh"}],
            "changedPropIds": ['{"action":"note","type":"gw-act"}.n_clicks']}


def test_sign_in_is_paused_after_repeated_failures(demo, browser):
    d, _ = demo
    client = sync_client((d.data_dir / "redis.url").read_text().strip())
    auth.add_user(client, "ratelimited", "right-one", Role.VIEWER, "441900")
    page = browser.new_page(bypass_csp=True)
    for _ in range(auth.LOGIN_FAILS_PER_USER):
        page.goto(d.url + "/login")
        page.fill("input[name=username]", "ratelimited")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
    login(page, d.url, "ratelimited", "right-one")  # the right password now waits too
    assert "/login" in page.url
    assert "请在" in page.inner_text(".gw-error") and "秒后再试" in page.inner_text(".gw-error")
    kinds = [e["action"] for e in reads.audit_entries(client, 50)]
    assert "login.limited" in kinds
    page.close()
