"""Photos in an S3-compatible bucket (a real s3rver process on a free loopback port, which
`make test` installs from npm): the gateway stores a phone's photo there before acking it, a
store that is down gets the photo nacked and dead-lettered, and /media/ serves it back."""
from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import flask
import pytest
from pydantic import ValidationError

from dashboard import media_routes
from domain.access import Role, User
from feeds.geo.locate import GridIndex
from feeds.ingest.attachments import read_attachments
from feeds.ingest.media_s3 import S3Media
from feeds.live.context import CityContext
from feeds.live.state import CityState
from feeds.live.worker import StateWorker
from feeds.store.client import sync_client
from feeds.store.config import StoreConfig
from feeds.store.embedded import free_port
from tests.feeds.ingest.test_attachments import (
    attachment,
    gateway_with,
    image,
    report_case,
    town_of_case,
)
from tests.feeds.ingest.test_gateway import dead_letters, exchange
from tests.support import background

S3RVER = Path(__file__).resolve().parents[3] / ".cache" / "s3rver" / "node_modules" / ".bin" / \
    "s3rver"
BUCKET = "gw-media"


def _wait_listening(port: int, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"s3rver did not listen on {port}")


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running s3rver with the bucket; its endpoint URL."""
    assert S3RVER.exists(), "s3rver missing: `make test` installs it (npm, into .cache/s3rver)"
    root, port = tmp_path_factory.mktemp("s3"), free_port()
    cmd = [str(S3RVER), "--address", "127.0.0.1", "--port", str(port), "--directory",
           str(root / "data"), "--configure-bucket", BUCKET, "--silent"]
    with background(cmd, root / "s3rver.log"):
        _wait_listening(port)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


@pytest.fixture()
def case(gateway: str, city_ctx: CityContext, index: GridIndex) -> str:
    return report_case(gateway, city_ctx, index)


@pytest.fixture()
def media(s3_endpoint: str) -> S3Media:
    return S3Media(s3_endpoint, BUCKET, "S3RVER", "S3RVER")


@pytest.fixture()
def gateway(redis_url: str, city_ctx: CityContext, index: GridIndex, media: S3Media
            ) -> Iterator[str]:
    """The gateway of test_attachments, its photos going to the bucket."""
    with gateway_with(redis_url, city_ctx, index, media) as url:
        yield url


def test_a_photo_goes_to_the_bucket_and_is_served_back_scoped(gateway, case, redis_url,
                                                              media, city_ctx, tmp_path):
    jpeg = image("jpg", 1200, 900)
    assert exchange(gateway, [attachment("s3-1", jpeg)]) == [{"ack": "s3-1"}]
    [att] = read_attachments(sync_client(redis_url), town_of_case(redis_url), "ATT-1")
    stored, thumb = media.read(f"{att.photo_id}.jpg"), media.read(f"{att.photo_id}_thumb.jpg")
    assert stored and stored.startswith(b"\xff\xd8\xff") and thumb
    assert not list(tmp_path.rglob("*.jpg"))  # nothing on the local disk
    assert media.read("0" * 64 + ".jpg") is None
    apply_cases(redis_url, city_ctx)
    app = flask.Flask(__name__)
    users = {"city": User("c", Role.DUTY, city_ctx.hierarchy.city.code),
             "other": User("o", Role.DUTY, next(c for c in city_ctx.towns
                                                  if c != town_of_case(redis_url)))}

    @app.before_request
    def who() -> None:
        flask.g.user = users[flask.request.headers["X-Who"]]
    app.register_blueprint(media_routes.blueprint(city_ctx, sync_client(redis_url), media))
    http = app.test_client()
    got = http.get(f"/media/ATT-1/{att.photo_id}.jpg", headers={"X-Who": "city"})
    assert got.status_code == 200 and got.data == stored and got.mimetype == "image/jpeg"
    again = http.get(f"/media/ATT-1/{att.photo_id}.jpg", headers={
        "X-Who": "city", "If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304
    assert http.get(f"/media/ATT-1/{att.photo_id}.jpg",
                    headers={"X-Who": "other"}).status_code == 403


def apply_cases(redis_url: str, city_ctx: CityContext) -> None:
    """Let the state worker store what the gateway took (the case and its photo)."""
    worker = StateWorker(sync_client(redis_url), CityState.with_roster(
        city_ctx.rules, city_ctx.roster), city_ctx.towns, ZoneInfo("Asia/Shanghai"))
    worker.bootstrap()
    ids = {s: ">" for s in worker.streams}
    for _ in range(2):
        ids = worker.step(ids, block_ms=20)


def test_a_store_that_is_down_nacks_the_photo_and_keeps_it(redis_url, case_down):
    url, down = case_down
    data = base64.b64encode(image("jpg")).decode()
    [answer] = exchange(url, [attachment("s3-down", data)])
    assert answer == {"nack": "s3-down", "error": "store unavailable, retry later"}, answer
    assert any(d["msg_id"] == "s3-down" for d in dead_letters(redis_url))
    assert down.read("x.jpg") is None


@pytest.fixture()
def case_down(redis_url: str, city_ctx: CityContext, index: GridIndex
              ) -> Iterator[tuple[str, S3Media]]:
    """A gateway whose bucket's endpoint does not answer, with the case ATT-1 reported."""
    down = S3Media(f"http://127.0.0.1:{free_port()}", BUCKET, "k", "s")
    with gateway_with(redis_url, city_ctx, index, down) as url:
        report_case(url, city_ctx, index)
        yield url, down


def test_a_bad_bucket_url_stops_start_up_with_the_field():
    with pytest.raises(ValidationError, match="media_s3_url"):
        StoreConfig(media_s3_url="ftp://minio:9000/media")
    with pytest.raises(ValidationError, match="media_s3_url"):
        StoreConfig(media_s3_url="http://minio:9000")  # no bucket
    assert StoreConfig(media_s3_url="http://minio:9000/gw-media").media_s3_url
