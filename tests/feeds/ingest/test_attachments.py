"""Attachments through the gateway against a real redis-server: a photo is acked once stored
(files without EXIF, a thumbnail, the case's record), a repeat is stored once, and every kind
of bad photo is nacked with its reason and dead-lettered."""
from __future__ import annotations

import asyncio
import base64
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import orjson
import pytest

from feeds.accounts.devices import add_device
from feeds.geo.locate import GridIndex
from feeds.ingest.attachments import MediaDir, MediaStore, read_attachments
from feeds.ingest.gateway import Gateway, device_token_check, serve_gateway
from feeds.ingest.intake import make_placer
from feeds.live.context import CityContext
from feeds.sim.photos import scene_photo
from feeds.store import keys
from feeds.store.client import async_client, sync_client
from tests.conftest import ThreadedServer
from tests.feeds.ingest.test_gateway import (
    TOKEN,
    dead_letters,
    exchange,
    officer_point,
    stream_entries,
)

OFFICER = "O000011"
GPS = b"GPS 22.9876N 113.7654E"


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


@pytest.fixture()
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


@contextmanager
def gateway_with(redis_url: str, city_ctx: CityContext, index: GridIndex, store: MediaStore
                 ) -> Iterator[str]:
    """A gateway that takes attachments into `store`; yields its ws:// URL."""
    placer = make_placer(city_ctx, sync_client(redis_url), index)

    async def run(stop: asyncio.Event, ready) -> None:
        client = async_client(redis_url)
        gw = Gateway(client, placer, device_token_check(client, TOKEN), media=store)
        await serve_gateway(gw, "127.0.0.1", 0, stop, ready)
        await client.aclose()

    server = ThreadedServer(run).start()
    try:
        yield f"ws://127.0.0.1:{server.port}/terminal"
    finally:
        server.stop()


@pytest.fixture()
def gateway(redis_url: str, city_ctx: CityContext, index: GridIndex, media: Path
            ) -> Iterator[str]:
    """A gateway that takes attachments into the folder `media`; yields its ws:// URL."""
    with gateway_with(redis_url, city_ctx, index, MediaDir(media)) as url:
        yield url


def image(ext: str, w: int = 640, h: int = 480) -> bytes:
    """A real picture (colour ramps) encoded as .jpg or .png."""
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    img[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    ok, buf = cv2.imencode(f".{ext}", img)
    assert ok
    return buf.tobytes()


def with_exif(jpeg: bytes) -> bytes:
    """The JPEG with an APP1 EXIF block right after SOI, as phone cameras write it."""
    app1 = b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00" + GPS
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def attachment(msg_id: str, body: bytes | str, mime: str = "image/jpeg",
               incident: str = "ATT-1", officer: str = OFFICER) -> bytes:
    data = body if isinstance(body, str) else base64.b64encode(body).decode()
    return orjson.dumps({"type": "attachment", "msg_id": msg_id, "incident_id": incident,
                         "officer_id": officer, "ts": time.time(), "mime": mime, "data": data})


@pytest.fixture()
def case(gateway: str, city_ctx: CityContext, index: GridIndex) -> str:
    """A case reported through the gateway; its id."""
    return report_case(gateway, city_ctx, index)


def report_case(gateway: str, city_ctx: CityContext, index: GridIndex) -> str:
    """Report the case ATT-1 through a gateway; its id."""
    lon, lat = officer_point(city_ctx, index, OFFICER)
    inc = {"type": "incident", "msg_id": "att-inc", "incident_id": "ATT-1",
           "officer_id": OFFICER, "ts": time.time(), "lat": lat, "lon": lon,
           "category": "fire", "title": "楼道堆物"}
    assert exchange(gateway, [orjson.dumps(inc)]) == [{"ack": "att-inc"}]
    return "ATT-1"


def town_of_case(redis_url: str, incident_id: str = "ATT-1") -> str:
    return sync_client(redis_url).hget(keys.INCIDENT_TOWN, incident_id).decode()


def photo_entries(redis_url: str) -> list[dict]:
    """The photo entries of the case's town stream."""
    return [m for m in stream_entries(redis_url, keys.incidents_in(town_of_case(redis_url)))
            if m["type"] == "photo"]


def test_a_photo_is_acked_stored_without_exif_with_a_thumbnail(gateway, case, redis_url,
                                                              media):
    jpeg = with_exif(image("jpg", 2000, 1500))
    assert GPS in jpeg
    assert exchange(gateway, [attachment("ph1", jpeg)]) == [{"ack": "ph1"}]
    [att] = read_attachments(sync_client(redis_url), town_of_case(redis_url), "ATT-1")
    assert att.mime == "image/jpeg" and att.officer_id == OFFICER
    stored = (media / f"{att.photo_id}.jpg").read_bytes()
    assert GPS not in stored and b"Exif" not in stored
    img = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape[:2] == (1500, 2000)
    thumb = cv2.imdecode(np.fromfile(media / f"{att.photo_id}_thumb.jpg", np.uint8),
                         cv2.IMREAD_COLOR)
    assert thumb.shape[:2] == (240, 320)
    [entry] = photo_entries(redis_url)  # for the worker: the case's timeline, its pages redraw
    assert entry["photo_id"] == att.photo_id and entry["incident_id"] == "ATT-1"


def test_a_png_stays_a_png(gateway, case, redis_url, media):
    assert exchange(gateway, [attachment("ph2", image("png"), "image/png")]) == [{"ack": "ph2"}]
    [att] = read_attachments(sync_client(redis_url), town_of_case(redis_url), "ATT-1")
    assert att.mime == "image/png"
    assert (media / f"{att.photo_id}.png").read_bytes().startswith(b"\x89PNG")


def test_the_same_msg_id_twice_is_acked_twice_and_stored_once(gateway, case, redis_url, media):
    frame = attachment("ph3", image("jpg"))
    assert exchange(gateway, [frame, frame]) == [{"ack": "ph3"}, {"ack": "ph3"}]
    assert len(read_attachments(sync_client(redis_url), town_of_case(redis_url), "ATT-1")) == 1
    assert len(list(media.iterdir())) == 2  # the photo and its thumbnail
    assert len(photo_entries(redis_url)) == 1
    assert dead_letters(redis_url) == []


BAD = [  # (what is sent, the reason's words)
    ("not*base64!", "image/jpeg", "not valid base64"),
    (base64.b64encode(b"just some text, no picture").decode(), "image/jpeg",
     "not a JPEG image"),
    (base64.b64encode(image("png")).decode(), "image/jpeg", "not a JPEG image"),
    (base64.b64encode(image("jpg")).decode(), "image/png", "not a PNG image"),
    (base64.b64encode(b"\xff\xd8\xff\xe0" + b"\x00" * 200).decode(), "image/jpeg",
     "not a JPEG image"),
    (base64.b64encode(image("jpg")[:400]).decode(), "image/jpeg", "does not decode"),
    (base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 60000, 60000)
                      + b"\x08\x02\x00\x00\x00").decode(), "image/png", "pixels"),
]


@pytest.mark.parametrize(("data", "mime", "words"), BAD,
                         ids=["base64", "text", "png-as-jpeg", "jpeg-as-png", "no-frame",
                              "truncated", "pixel-bomb"])
def test_a_bad_photo_is_nacked_with_its_reason_and_dead_lettered(gateway, case, redis_url,
                                                                 media, data, mime, words):
    [reply] = exchange(gateway, [attachment("bad", data, mime)])
    assert reply["nack"] == "bad" and words in reply["error"], reply
    [dead] = dead_letters(redis_url)
    assert dead["msg_id"] == "bad" and dead["reason"] == reply["error"]
    assert read_attachments(sync_client(redis_url), town_of_case(redis_url), "ATT-1") == []
    assert not media.exists() or not list(media.iterdir())


def test_a_photo_over_8_mb_is_nacked(gateway, case, redis_url):
    big = b"\xff\xd8\xff\xe0" + np.random.default_rng(1).bytes(8 * 1024 * 1024)
    [reply] = exchange(gateway, [attachment("huge", big)])  # a 10.7 MB frame gets through
    assert reply["nack"] == "huge" and "over the 8 MB limit" in reply["error"]
    [dead] = dead_letters(redis_url)
    assert len(dead["raw"]) < 1000  # the image's data is not copied into the dead letters


def test_unknown_case_wrong_type_and_another_officers_device_are_nacked(gateway, case,
                                                                        redis_url):
    token = add_device(sync_client(redis_url), "phone-11", OFFICER)
    jpeg = image("jpg")
    replies = exchange(gateway, [attachment("n1", jpeg, incident="NOPE-404"),
                                 attachment("n2", jpeg, mime="image/gif"),
                                 attachment("n3", jpeg, officer="O000012")], token=token)
    assert replies[0]["nack"] == "n1" and "unknown incident 'NOPE-404'" in replies[0]["error"]
    assert replies[1]["nack"] == "n2" and replies[1]["error"].startswith("mime:")
    assert replies[2]["nack"] == "n3" and "belongs to O000011" in replies[2]["error"]
    assert [d["msg_id"] for d in dead_letters(redis_url)] == ["n1", "n2", "n3"]
    assert exchange(gateway, [attachment("n4", jpeg)], token=token) == [{"ack": "n4"}]


def test_the_demo_officers_photo_is_accepted_like_a_phones(gateway, case, redis_url, media):
    """feeds.sim.photos makes what a phone would send: acked, stored, listed on the case."""
    data = scene_photo(np.random.default_rng(3), "fire", time.time())
    assert exchange(gateway, [attachment("ph-sim", data)]) == [{"ack": "ph-sim"}]
    [att] = read_attachments(sync_client(redis_url), town_of_case(redis_url), "ATT-1")
    assert (media / f"{att.photo_id}.jpg").read_bytes().startswith(b"\xff\xd8\xff")
