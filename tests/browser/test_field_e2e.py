"""The field terminal /m/ in Chromium at 360×800 against a running demo: paired with the code
`gridwatch devices add` prints, its position reaches the API, a desk's dispatch reaches it
and is answered with a photo, offline it loses nothing and doubles nothing, and a revoked
phone goes back to pairing."""
from __future__ import annotations

import base64
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.live.context import CityContext
from tests.support import (
    ADMIN_BASIC,
    CHROMIUM,
    SCREENSHOTS,
    RunningDemo,
    devices_add,
    login,
    running_demo,
    send_messages,
)

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")]
PHONE = {"width": 360, "height": 800}
TASK_S = 2.0  # a dispatch is on the phone within this
# Acks lost on purpose when the phone comes back: a new report and a case update (sent again
# after its first copy was applied, it is acked as a repeat, not checked against the new state).
LOSE = ("i-", "u-")


def api(demo: RunningDemo, path: str) -> dict:
    req = urllib.request.Request(demo.url + path, headers={"Authorization": ADMIN_BASIC})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def wait_for(check, timeout: float = 15.0, what: str = ""):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def photo(path: Path, w: int, h: int, exif: bytes = b"") -> Path:
    """A real photo (colour ramps) for the file picker: PNG, or JPEG with an EXIF block."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    img[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    img[..., 2] = 140
    ok, data = cv2.imencode(path.suffix, img)
    assert ok
    body = data.tobytes()
    if exif:  # an APP1 segment right after SOI, as cameras write it
        app1 = b"Exif\x00\x00" + exif
        body = body[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + body[2:]
    path.write_bytes(body)
    return path


# a little-endian TIFF block: IFD0 with Orientation = 1, then bytes a phone would leak
EXIF = (b"II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x01\x00\x00\x00"
        b"\x00\x00\x00\x00" + b"GPS 22.9876N 113.7654E")


class Proxy:
    """The phone's sockets, proxied: every frame it sends is kept; the first ack of a msg_id
    starting with each prefix in `lose` is lost together with the connection."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lose: set[str] = set()
        self.lost: set[str] = set()

    def route(self, ws) -> None:  # noqa: ANN001
        server = ws.connect_to_server()

        def up(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            self.sent.append(text)
            server.send(message)

        def down(message: str | bytes) -> None:
            text = str(message).replace(" ", "")
            hit = [p for p in self.lose - self.lost if f'"ack":"{p}' in text]
            if hit:
                self.lost.update(hit)
                ws.close()
                server.close()
                return
            ws.send(message)

        server.on_message(down)
        ws.on_message(up)

    def messages(self, kind: str) -> list[dict]:
        """The messages of a type the phone sent (repeats included)."""
        out = []
        for frame in self.sent:
            value = json.loads(frame)
            out += [m for m in (value if isinstance(value, list) else [value])
                    if isinstance(m, dict) and m.get("type") == kind]
        return out


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with running_demo(demo_dir, tmp_path_factory.mktemp("field"), "--no-sim") as d:
        yield d


@pytest.fixture(scope="module")
def where(city_ctx: CityContext) -> dict:
    """An officer and a WGS-84 point in their grid (where the phone says it is)."""
    ids = sorted(city_ctx.roster)
    officer, reporter = city_ctx.roster[ids[3]], ids[0]
    lon, lat = to_datum(*GridIndex(city_ctx.city).random_point(
        officer.grid, np.random.default_rng(5)), city_ctx.hierarchy.datum, "wgs84")
    return {"officer": officer, "lon": lon, "lat": lat, "datum": city_ctx.hierarchy.datum,
            "reporter": reporter}


@pytest.fixture(scope="module")
def phone(browser, where: dict):  # noqa: ANN001, ANN201
    context = browser.new_context(bypass_csp=True,
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN",
        geolocation={"latitude": where["lat"], "longitude": where["lon"], "accuracy": 8},
        permissions=["geolocation"])
    proxy = Proxy()
    context.route_web_socket(re.compile(r".*/terminal.*"), proxy.route)
    page = context.new_page()
    yield context, page, proxy
    context.close()


def shot(page, name: str) -> None:  # noqa: ANN001
    """A screenshot of the phone; nothing may stick out of its 360 px (a mobile browser
    would zoom the whole page out)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"field_{name}.png"))


def test_the_phone_pairs_with_the_printed_code_and_shares_its_position(demo, browser, phone,
                                                                       where):
    context, page, proxy = phone
    officer = where["officer"]
    code = devices_add(demo, "phone-e2e", officer.officer_id)["pairing code"]
    page.goto(demo.url + "/m/")
    page.wait_for_selector("#gw-pair:not([hidden])")
    shot(page, "pair")
    page.fill("#gw-code", "2345-6789")
    page.click("#gw-pair-go")
    page.wait_for_selector("#gw-pair-error:not([hidden])")
    assert "配对码不正确" in page.inner_text("#gw-pair-error")
    page.fill("#gw-code", code.lower())
    page.click("#gw-pair-go")
    page.wait_for_selector("#gw-conn.gw-conn--online", timeout=15_000)
    assert page.inner_text("#gw-officer") == officer.name
    assert "token" not in page.url and code not in page.url

    other = browser.new_page(bypass_csp=True,
                             viewport=PHONE)  # the same code on another phone: used
    other.goto(demo.url + "/m/")
    other.fill("#gw-code", code)
    other.click("#gw-pair-go")
    other.wait_for_selector("#gw-pair-error:not([hidden])")
    assert "已经使用过" in other.inner_text("#gw-pair-error")
    other.close()

    def arrived() -> dict | None:
        o = api(demo, f"/api/v1/officers/{officer.officer_id}")
        return o if o.get("position") and o.get("on_duty") else None

    pos = wait_for(arrived, 20, "the phone's position in the API")["position"]
    lon, lat = to_datum(pos["lon"], pos["lat"], where["datum"], "wgs84")
    assert abs(lon - where["lon"]) < 2e-5 and abs(lat - where["lat"]) < 2e-5
    shot(page, "tasks_empty")


def assign_on_desk(desk, demo: RunningDemo, incident_id: str, page) -> float:  # noqa: ANN001
    """Assign a case on its /case/ page (the phone's officer is the nearest on duty); seconds
    until the phone shows the task."""
    desk.goto(f"{demo.url}/case/{incident_id}")
    desk.wait_for_selector("#gw-conn.gw-conn--open", timeout=20_000)
    desk.wait_for_selector("button.gw-btn-assign")
    t0 = time.monotonic()
    desk.click("button.gw-btn-assign")
    page.wait_for_selector(f".gw-card[data-incident='{incident_id}']", timeout=10_000)
    return time.monotonic() - t0


def report_case(demo: RunningDemo, where: dict, incident_id: str, title: str) -> None:
    assert all("ack" in r for r in send_messages(demo.gateway_url, [{
        "type": "incident", "msg_id": f"m-{incident_id}", "incident_id": incident_id,
        "officer_id": where["reporter"], "ts": time.time(), "lat": where["lat"] + 0.0004,
        "lon": where["lon"], "category": "safety_hazard", "title": title}]))
    wait_for(lambda: _exists(demo, incident_id), 10, f"{incident_id} in the store")


def _exists(demo: RunningDemo, incident_id: str) -> bool:
    try:
        return bool(api(demo, f"/api/v1/incidents/{incident_id}"))
    except urllib.error.HTTPError:
        return False


def resolve_on_phone(page, incident_id: str, note: str, photo: Path | None) -> None:  # noqa: ANN001
    card = f".gw-card[data-incident='{incident_id}']"
    page.click(f"{card} button[data-step=resolved]")
    page.fill("#gw-resolve-note", note)
    if photo:
        page.set_input_files("#gw-resolve-file", str(photo))
        page.wait_for_selector("#gw-resolve-photos .gw-thumb img")
    page.click("#gw-resolve button[type=submit]")


def test_a_dispatch_reaches_the_phone_and_is_answered_with_a_photo(demo, browser, phone,
                                                                    where, tmp_path):
    context, page, proxy = phone
    report_case(demo, where, "FIELD-1", "电动车在楼道充电")
    desk = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 900})
    login(desk, demo.url)
    seconds = assign_on_desk(desk, demo, "FIELD-1", page)
    print(f"\ndesk assign → task on the phone: {seconds:.3f} s")
    assert seconds < TASK_S
    card = ".gw-card[data-incident='FIELD-1']"
    assert "电动车在楼道充电" in page.inner_text(card)
    shot(page, "task_new")
    page.click(f"{card} button[data-step=acknowledged]")
    page.wait_for_selector(f"{card}[data-local=acknowledged][data-sync=sent]")
    page.click(f"{card} button[data-step=on_scene]")
    page.wait_for_selector(f"{card}[data-local=on_scene][data-sync=sent]")
    desk.wait_for_function("() => document.querySelector('#gw-case-details')"
                           ".innerText.includes('已到场')", timeout=10_000)
    resolve_on_phone(page, "FIELD-1", "已劝离，电动车已移至充电棚",
                     photo(tmp_path / "p.png", 1200, 900))
    shot(page, "resolved")
    page.wait_for_selector(".gw-card[data-incident='FIELD-1'][data-sync=sent]",
                           timeout=30_000)  # photos are resized and sent first
    inc = api(demo, "/api/v1/incidents/FIELD-1")
    assert inc["status"] == "resolved"
    by = [e.get("by") for e in inc["events"] if e.get("kind") == "status"]
    assert by[-2:] == ["device:phone-e2e"] * 2  # on scene, resolved: from the phone
    photos = [m for m in proxy.messages("attachment") if m["incident_id"] == "FIELD-1"]
    assert len(photos) == 1 and photos[0]["officer_id"] == where["officer"].officer_id
    assert [a["mime"] for a in inc["attachments"]] == ["image/jpeg"]
    desk.wait_for_function("() => document.querySelector('#gw-case-details')"
                           ".innerText.includes('已办结')", timeout=10_000)
    [att] = inc["attachments"]  # the desk's open page shows the photo, pushed with the case
    thumb = desk.wait_for_selector("#gw-case-photos a.gw-photo-link img.gw-photo-thumb")
    desk.wait_for_function("() => document.querySelector('#gw-case-photos img')"
                           ".naturalWidth > 0", timeout=10_000)  # served by /media, scoped
    assert thumb.get_attribute("src") == att["thumb_url"]
    link = desk.get_attribute("#gw-case-photos a.gw-photo-link", "href")
    assert link.endswith(att["url"]) and att["url"].endswith(f"/{att['id']}.jpg")
    desk.locator("#gw-case-photos").screenshot(path=str(SCREENSHOTS / "field_desk_photo.png"))
    desk.close()


def test_offline_the_phone_loses_nothing_and_doubles_nothing(demo, browser, phone, where,
                                                              tmp_path):
    context, page, proxy = phone
    report_case(demo, where, "FIELD-2", "井盖缺失")
    desk = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 900})
    login(desk, demo.url)
    assign_on_desk(desk, demo, "FIELD-2", page)
    desk.close()
    page.wait_for_function("!!navigator.serviceWorker.controller", timeout=10_000)
    context.set_offline(True)
    page.wait_for_selector("#gw-conn.gw-conn--offline", timeout=10_000)
    resolve_on_phone(page, "FIELD-2", "已设置警示围挡，通知市政", None)
    page.click(".gw-tab[data-view=v-report]")
    page.click("#gw-cats [data-category=environment]")
    page.fill("#gw-r-title", "河道垃圾堆积")
    page.fill("#gw-r-desc", "桥下约 20 米河段")
    page.set_input_files("#gw-r-file", str(photo(tmp_path / "r.jpg", 3000, 4000, EXIF)))
    page.wait_for_selector("#gw-r-photos .gw-thumb img")
    page.click("#gw-report button[type=submit]")
    page.wait_for_selector("#gw-reports li[data-sync=queued]")
    new_id = page.get_attribute("#gw-reports li", "data-incident")
    page.reload()  # offline: the service worker serves the app, IndexedDB keeps the queue
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    page.wait_for_selector("#gw-queue:not([hidden])")
    assert page.inner_text("#gw-queue").startswith("3")  # update, report, photo
    shot(page, "offline")
    proxy.lose = set(LOSE)
    context.set_offline(False)
    page.wait_for_selector("#gw-queue", state="hidden", timeout=30_000)
    assert proxy.lost == set(LOSE)  # those first acks were lost: sent again, same msg_id
    page.click(".gw-tab[data-view=v-report]")
    page.wait_for_selector(f"#gw-reports li[data-incident='{new_id}'][data-sync=sent]")
    assert page.query_selector("#gw-problems li") is None  # nothing refused
    mine = wait_for(lambda: _exists(demo, new_id) and api(demo, f"/api/v1/incidents/{new_id}"),
                    10, "the offline report")
    assert mine["title"] == "河道垃圾堆积" and mine["category"] == "environment"
    assert [e["kind"] for e in mine["events"]].count("reported") == 1
    sent = [m for m in proxy.messages("incident") if m["incident_id"] == new_id]
    assert len(sent) >= 2 and len({m["msg_id"] for m in sent}) == 1  # again, same msg_id
    pics = [m for m in proxy.messages("attachment") if m["incident_id"] == new_id]
    jpeg = base64.b64decode(pics[-1]["data"])
    assert pics[-1]["mime"] == "image/jpeg" and jpeg[:2] == b"\xff\xd8"
    assert b"Exif" not in jpeg and b"GPS 22.98" not in jpeg  # EXIF dropped on the phone
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape[:2] == (
        1600, 1200)  # 3000×4000 made small before it travels
    assert len(mine["attachments"]) == 1
    done = wait_for(lambda: (i := api(demo, "/api/v1/incidents/FIELD-2"))["status"] ==
                    "resolved" and i, 10, "the offline resolution")
    assert [e.get("status") for e in done["events"]].count("resolved") == 1


def test_a_step_the_case_no_longer_allows_is_refused_with_the_reason(demo, browser, phone,
                                                                      where):
    context, page, _ = phone
    page.click(".gw-tab[data-view=v-tasks]")
    report_case(demo, where, "FIELD-3", "路灯不亮")
    desk = browser.new_page(bypass_csp=True, viewport={"width": 1400, "height": 900})
    login(desk, demo.url)
    assign_on_desk(desk, demo, "FIELD-3", page)
    context.set_offline(True)
    page.wait_for_selector("#gw-conn.gw-conn--offline", timeout=10_000)
    page.click(".gw-card[data-incident='FIELD-3'] button[data-step=acknowledged]")
    desk.click("button.gw-btn-resolve")  # meanwhile the desk resolves it
    wait_for(lambda: api(demo, "/api/v1/incidents/FIELD-3")["status"] == "resolved", 10,
             "the desk's resolution")
    desk.close()
    context.set_offline(False)
    card = page.wait_for_selector(".gw-card[data-incident='FIELD-3'][data-sync=refused]",
                                  timeout=15_000)
    assert "未被接受" in card.inner_text() and "resolved" in card.inner_text()
    assert card.get_attribute("data-local") == ""  # the refused step is undone on the phone
    shot(page, "refused")
    page.click(".gw-card[data-incident='FIELD-3'] button[data-step=dismiss]")
    page.wait_for_selector("#gw-tasks-done .gw-card[data-incident='FIELD-3']")
    page.click(".gw-tab[data-view=v-me]")
    assert "resolved" in page.inner_text("#gw-problems")


def test_a_revoked_phone_goes_back_to_pairing_and_says_why(demo, phone):
    context, page, proxy = phone
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    subprocess.run([sys.executable, "-m", "gridwatch.cli", "devices", "revoke", "phone-e2e",
                    "--data-dir", str(demo.data_dir)], check=True, timeout=60, env=env,
                   capture_output=True)
    context.set_offline(True)  # the next connection meets the revoked token
    page.wait_for_selector("#gw-conn.gw-conn--offline", timeout=10_000)
    context.set_offline(False)
    page.wait_for_selector("#gw-pair:not([hidden])", timeout=30_000)
    assert "已被注销" in page.inner_text("#gw-pair-error")
    assert page.evaluate("""() => new Promise(ok => { const r = indexedDB.open('gridwatch-field');
        r.onsuccess = () => r.result.transaction('kv').objectStore('kv').get('pairing')
          .onsuccess = (e) => ok(e.target.result === undefined); })""")  # token forgotten
