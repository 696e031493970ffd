"""The gateway's quick position path agrees with the pydantic models on accept, refuse, reason."""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import orjson
import pytest

from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.ingest.gateway import Gateway, constant_token_check
from feeds.ingest.intake import make_placer
from feeds.ingest.placement import Routed
from feeds.ingest.protocol import (
    PositionMsg,
    Refused,
    decode,
    decode_one,
    position_body,
    quick_frame,
    quick_position,
)
from feeds.live.context import CityContext
from feeds.store.client import async_client, sync_client

NOW = 1_790_000_000.0
MUTATIONS: list[tuple[str, Any]] = [
    ("msg_id", ""), ("msg_id", "x" * 129), ("msg_id", "x" * 128), ("msg_id", "a b"),
    ("msg_id", "编号-1"), ("msg_id", "a\n"), ("msg_id", 5), ("msg_id", None),
    ("officer_id", "x" * 65), ("officer_id", "O999999"), ("officer_id", ["O1"]),
    ("ts", "2026-09-21T10:00:00Z"), ("ts", "2026-09-21T10:00:00"), ("ts", True),
    ("ts", NOW + 3600), ("ts", NOW + 299), ("ts", 1.0), ("ts", "soon"), ("ts", int(NOW)),
    ("lat", 91), ("lat", -90), ("lat", 90.0), ("lat", "23.0"), ("lat", True), ("lat", None),
    ("lon", 181), ("lon", 180), ("lon", -180.5), ("lon", 113),
    ("accuracy_m", None), ("accuracy_m", -1), ("accuracy_m", 100_000), ("accuracy_m", 100_001),
    ("accuracy_m", "5"), ("speed_mps", 200.5), ("speed_mps", 0), ("heading_deg", 360),
    ("heading_deg", 360.01), ("battery", 80), ("battery", 100.0), ("battery", 101),
    ("battery", False), ("extra", 1), ("type", "Position"), ("type", "duty"),
]


@pytest.fixture(scope="module")
def index(city_ctx: CityContext) -> GridIndex:
    return GridIndex(city_ctx.city)


def base_messages(ctx: CityContext, index: GridIndex, n: int) -> list[dict[str, Any]]:
    """n valid positions of real officers inside their grids, WGS-84 as phones send them."""
    rng = np.random.default_rng(3)
    ids = sorted(ctx.roster)[:n]
    out = []
    for i, oid in enumerate(ids):
        lon, lat = index.random_point(ctx.roster[oid].grid, rng)
        lon, lat = to_datum(lon, lat, ctx.hierarchy.datum, "wgs84")
        out.append({"type": "position", "msg_id": f"m-{i}", "officer_id": oid, "ts": NOW - i,
                    "lat": lat, "lon": lon, "accuracy_m": 5.0, "battery": 80})
    return out


def mutated(msg: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A copy of msg with 0-2 fields changed, removed or added."""
    out = dict(msg)
    for _ in range(rng.randint(0, 2)):
        if rng.random() < 0.1:
            out.pop(rng.choice(["msg_id", "officer_id", "ts", "lat", "lon"]), None)
        else:
            name, value = rng.choice(MUTATIONS)
            out[name] = value
    return out


def test_quick_position_accepts_only_what_the_model_accepts_with_the_same_fields(
        city_ctx: CityContext, index: GridIndex) -> None:
    rng = random.Random(11)
    msgs = [mutated(m, rng) for m in base_messages(city_ctx, index, 60) for _ in range(20)]
    quick_ok = model_ok = 0
    for obj in msgs:
        q = quick_position(obj, NOW)
        ref = decode_one(obj, NOW)
        model_ok += isinstance(ref, PositionMsg)
        if q is None:
            continue
        quick_ok += 1
        assert isinstance(ref, PositionMsg), (obj, ref)
        want = ref.model_dump(exclude_none=True)
        got = position_body(q)
        assert got == want and list(got) == list(want)
        assert all(type(got[k]) is type(want[k]) for k in want)
    assert 200 < quick_ok < model_ok < len(msgs)  # some of each kind, quick a strict subset


def test_quick_frame_refuses_whole_frames_it_cannot_vouch_for() -> None:
    good = {"type": "position", "msg_id": "a", "officer_id": "O1", "ts": NOW, "lat": 23.0,
            "lon": 113.7}
    assert quick_frame(orjson.dumps([good, good]), NOW) is not None
    assert quick_frame(orjson.dumps(good), NOW)[1] is False
    for bad in ([], [good, {**good, "lat": 95}], [good, {**good, "type": "duty"}],
                [{**good, "ts": NOW + 301}], {**good, "x": 1}, [good] * 2001):
        assert quick_frame(orjson.dumps(bad), NOW) is None
    assert quick_frame(b"[not json", NOW) is None


def same(got: Routed | Refused, want: Routed | Refused) -> bool:
    """Whether two routing outcomes store or refuse identically."""
    if isinstance(want, Refused):
        return isinstance(got, Refused) and (got.msg_id, got.reason) == (want.msg_id, want.reason)
    return (isinstance(got, Routed) and (got.msg_id, got.stream, got.seen_key) ==
            (want.msg_id, want.stream, want.seen_key)
            and got.body == want.body and list(got.body) == list(want.body))


def test_gateway_routes_frames_like_the_models(city_ctx: CityContext, index: GridIndex,
                                               redis_url: str) -> None:
    placer = make_placer(city_ctx, sync_client(redis_url), index)
    gw = Gateway(async_client(redis_url), placer, constant_token_check("t"))
    base = base_messages(city_ctx, index, 300)
    outside = {**base[0], "msg_id": "far", "lat": 40.0, "lon": 116.4}
    rng = random.Random(5)
    frames = [base[i:i + 50] for i in range(0, 300, 50)]  # plain: the quick path
    frames += [[mutated(m, rng) for m in base[i:i + 30]] for i in range(0, 300, 30)]
    frames += [[*base[:5], outside], base[:1]]
    raws = [orjson.dumps(f) for f in frames]
    raws += [orjson.dumps(m) for m in (base[7], outside, mutated(base[8], rng), {"x": 1})]
    quick = 0
    for raw in raws:
        for officer in (None, base[0]["officer_id"]):
            items, batch = decode(raw, NOW)
            want = [gw.route(it, officer) for it in items]
            got, got_batch = gw.route_frame(raw, officer, NOW)
            quick += quick_frame(raw, NOW) is not None
            assert got_batch == batch
            assert len(got) == len(want) and all(map(same, got, want)), raw[:200]
    assert quick >= 12
