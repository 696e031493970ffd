"""OsmAnd requests exactly as tracker apps send them, through a real gateway and Redis."""
from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import numpy as np
import orjson
import pytest

from feeds.accounts.devices import add_device
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, device_token_check
from feeds.ingest.intake import make_placer
from feeds.ingest.osmand import (
    KNOT_MPS,
    OsmandError,
    OsmandServer,
    device_officer,
    parse_request,
    serve_osmand,
)
from feeds.live.context import CityContext
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer


def test_classic_query_form_and_location_forms():
    fix = parse_request("GET", "/?id=dev1&lat=23.01&lon=113.75&timestamp=1790000000"
                        "&speed=10&bearing=90&batt=55&accuracy=8", "", b"")
    assert fix["device"] == "dev1" and (fix["lat"], fix["lon"]) == (23.01, 113.75)
    assert fix["ts"] == 1790000000 and fix["speed_mps"] == pytest.approx(10 * KNOT_MPS)
    assert (fix["heading_deg"], fix["battery"], fix["accuracy_m"]) == (90, 55, 8)
    form = parse_request("POST", "/", "application/x-www-form-urlencoded",
                         b"deviceid=dev2&location=23.02%2C113.76&timestamp=1790000000123")
    assert form["device"] == "dev2" and (form["lat"], form["lon"]) == (23.02, 113.76)
    assert form["ts"] == pytest.approx(1790000000.123)
    dated = parse_request("GET", "/?id=d&lat=1&lon=2&timestamp=2026-09-21%2002:00:00", "", b"")
    assert dated["ts"] == 1789956000  # date -u -d '2026-09-21 02:00:00' +%s


def test_json_body_of_current_traccar_client():
    body = orjson.dumps({"device_id": "dev3", "location": {
        "timestamp": "2026-09-21T02:00:00.000Z", "is_moving": True, "odometer": 12.5,
        "coords": {"latitude": 23.03, "longitude": 113.77, "accuracy": 4.5, "speed": 1.5,
                   "heading": 180, "altitude": 20},
        "battery": {"level": 0.42, "is_charging": False}}})
    fix = parse_request("POST", "/", "application/json", body)
    assert (fix["device"], fix["lat"], fix["lon"]) == ("dev3", 23.03, 113.77)
    assert fix["ts"] == 1789956000 and fix["speed_mps"] == 1.5
    assert fix["battery"] == pytest.approx(42) and fix["heading_deg"] == 180


@pytest.mark.parametrize(("method", "target", "body", "reason"), [
    ("GET", "/?lat=1&lon=2", b"", "id"),
    ("GET", "/?id=d&lat=north&lon=2", b"", "lat"),
    ("GET", "/?id=d", b"", "missing position"),
    ("POST", "/", b"{\"device_id\": \"d\"}", "location"),
    ("GET", "/?id=d&lat=1&lon=2&timestamp=yesterday", b"", "timestamp"),
])
def test_bad_requests_say_why(method, target, body, reason):
    with pytest.raises(OsmandError, match=reason):
        parse_request(method, target, "", body)


@pytest.fixture()
def tracker_port(redis_url: str, city_ctx: CityContext) -> Iterator[int]:
    placer = make_placer(city_ctx, sync_client(redis_url))

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        gw = Gateway(client, placer, device_token_check(client))
        await serve_osmand(OsmandServer(gw, device_officer(client)), "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    yield server.port
    server.stop()


def http(port: int, method: str, path: str, body: bytes | None = None,
         ctype: str = "") -> tuple[int, str]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_tracker_fixes_move_the_officer_and_unknown_devices_are_refused(
        tracker_port, redis_url, city_ctx):
    client = sync_client(redis_url)
    officer = city_ctx.roster["O000020"]
    add_device(client, "tracker-20", officer.officer_id)
    lon, lat = GridIndex(city_ctx.city).random_point(officer.grid, np.random.default_rng(1))
    wlon, wlat = to_datum(lon, lat, city_ctx.hierarchy.datum, "wgs84")
    now = int(time.time())
    q = urllib.parse.urlencode({"id": "tracker-20", "lat": wlat, "lon": wlon,
                                "timestamp": now, "speed": 2})
    assert http(tracker_port, "GET", f"/?{q}") == (200, "")
    form = urllib.parse.urlencode({"deviceid": "tracker-20", "location": f"{wlat},{wlon}",
                                   "timestamp": (now + 10) * 1000}).encode()
    assert http(tracker_port, "POST", "/", form, "application/x-www-form-urlencoded")[0] == 200
    js = orjson.dumps({"device_id": "tracker-20", "location": {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 20)),
        "coords": {"latitude": wlat, "longitude": wlon, "speed": 1.2},
        "battery": {"level": 0.9}}})
    assert http(tracker_port, "POST", "/", js, "application/json")[0] == 200
    assert http(tracker_port, "GET", f"/?{q}")[0] == 200  # a retried fix: stored once
    stored = [orjson.loads(f[b"m"]) for _, f in
              client.xrange(keys.positions(officer.grid[:9]))]
    assert [m["officer_id"] for m in stored] == [officer.officer_id] * 3
    assert stored[0]["grid"] == officer.grid and stored[2]["battery"] == pytest.approx(90)
    status, reason = http(tracker_port, "GET", "/?id=stranger&lat=23&lon=113.7")
    assert status == 400 and "unknown device" in reason
    status, reason = http(tracker_port, "GET", "/?id=tracker-20&lat=95&lon=113.7")
    assert status == 400 and "lat" in reason
    dead = [{k.decode(): v.decode() for k, v in f.items()}
            for _, f in client.xrange(keys.DEAD_LETTER)]
    assert [("unknown device" in d["reason"]) for d in dead] == [True, False]
    assert all(d["source"].startswith("osmand") for d in dead)
