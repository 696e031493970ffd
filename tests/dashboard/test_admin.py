"""Dead-letter review against a real redis-server: listed with reasons, fixed, resubmitted."""
from __future__ import annotations

import json
import time

import numpy as np
import orjson
import pytest

from dashboard.admin_page import render, resubmit
from dashboard.readmodel import ReadModel
from dashboard.refusals import Forbidden
from domain.access import Role, User
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.intake import make_placer, store_sync
from feeds.ingest.protocol import decode_one
from feeds.live import reads
from feeds.store import keys
from feeds.store.client import sync_client


def flatten(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda o: o.to_plotly_json(),
                      ensure_ascii=False)


def test_refused_message_is_listed_fixed_and_resubmitted(redis_url, city_ctx):
    client = sync_client(redis_url)
    officer = city_ctx.roster["O000030"]
    lon, lat = to_datum(*GridIndex(city_ctx.city).random_point(
        officer.grid, np.random.default_rng(4)), city_ctx.hierarchy.datum, "wgs84")
    bad = {"type": "position", "msg_id": "dl-1", "officer_id": officer.officer_id,
           "ts": time.time(), "lat": lat, "lon": lon, "speed_mps": -3}
    [answer] = store_sync(client, [decode_one(bad, time.time())], "phone@10.0.0.9")
    assert "speed_mps" in answer["error"]
    admin = User("root", Role.ADMIN, "441900")
    rm = ReadModel(city_ctx, client)
    page = flatten(render(rm, admin, "zh"))
    assert "speed_mps" in page and "phone@10.0.0.9" in page and "dl-1" in page
    with pytest.raises(Forbidden):
        render(rm, User("v", Role.VIEWER, "441900"), "zh")
    [entry] = reads.dead_letters(client)
    placer = make_placer(city_ctx, client)
    still_bad = resubmit(client, placer, admin, entry["id"], entry["raw"])
    assert still_bad.startswith("✗") and "speed_mps" in still_bad
    fixed = orjson.dumps(dict(bad, speed_mps=3)).decode()
    assert resubmit(client, placer, admin, entry["id"], fixed) == "✓ dl-1"
    [stored] = client.xrange(keys.positions(officer.grid[:9]))
    assert orjson.loads(stored[1][b"m"])["speed_mps"] == 3
    assert "已重新提交" in flatten(render(rm, admin, "zh"))
    [audited] = reads.audit_entries(client, 5)
    assert audited["action"] == "deadletter.resubmit" and audited["user"] == "root"
