"""Reading stored cases back for statistics, against a real redis-server."""
from __future__ import annotations

import math
from dataclasses import replace

import orjson
import pytest
import redis

from domain.alerts import AlertLevel
from domain.model import Incident, Status
from feeds.history import cases as history
from feeds.history.cases import COLUMNS, read_cases
from feeds.live.state import incident_to_json
from feeds.store import keys
from feeds.store.client import sync_client

T0 = 1764000000.0
TOWN_A, TOWN_B = "441900101", "441900102"
EVIL = "<script>alert('x')</script>"


def case(iid: str, grid: str, reported: float, **kw) -> Incident:
    """A stored case in `grid`."""
    return Incident(incident_id=iid, category=kw.pop("category", "dispute"), title=kw.pop(
        "title", "邻里噪音纠纷"), lat=23.0, lon=113.7, grid=grid, reported_ts=reported, **kw)


@pytest.fixture()
def client(redis_url: str):
    c = sync_client(redis_url)
    yield c
    c.close()


def store(client: redis.Redis, *cases: Incident) -> None:
    """Write cases the way the worker does: JSON in the town's incidents hash."""
    pipe = client.pipeline(transaction=False)
    for inc in cases:
        pipe.hset(keys.incidents(inc.town), inc.incident_id, orjson.dumps(incident_to_json(inc)))
    pipe.execute()


def demo_cases() -> list[Incident]:
    closed = case("C1", "441900101001001", T0, status=Status.CLOSED, level=AlertLevel.RED,
                  ack_ts=T0 + 60, dispatched_ts=T0 + 300, on_scene_ts=T0 + 900,
                  resolved_ts=T0 + 3600, closed_ts=T0 + 4000, assignee="O0001",
                  category="fire", title=EVIL)
    return [
        closed,
        case("O1", "441900101001002", T0 + 100),  # open, just reported
        case("O2", "441900101002001", T0 + 200, status=Status.DISPATCHED, ack_ts=T0 + 250,
             dispatched_ts=T0 + 260, level=AlertLevel.YELLOW),
        case("B1", "441900102001001", T0 + 300),
        case("OLD", "441900101001001", T0 - 40 * 86400),
    ]


def test_reads_open_and_closed_cases_of_the_city_with_their_times(client):
    store(client, *demo_cases())
    df = read_cases(client, [TOWN_A, TOWN_B], "441900", since_ts=T0 - 86400)
    assert sorted(df["incident_id"]) == ["B1", "C1", "O1", "O2"]
    assert list(df.columns) == list(COLUMNS)
    c1 = df.set_index("incident_id").loc["C1"]
    assert (c1["category"], c1["level"], c1["status"]) == ("fire", "red", "closed")
    assert (c1["village"], c1["town"]) == ("441900101001", "441900101")
    assert c1["dispatched_ts"] - c1["reported_ts"] == 300
    assert c1["resolved_ts"] == T0 + 3600 and c1["assignee"] == "O0001"
    assert c1["title"] == EVIL  # kept verbatim; layouts render it as text
    o1 = df.set_index("incident_id").loc["O1"]
    assert math.isnan(o1["dispatched_ts"]) and math.isnan(o1["closed_ts"])
    assert o1["assignee"] == ""


def test_region_and_since_bound_what_is_read(client):
    store(client, *demo_cases())
    town = read_cases(client, [TOWN_A, TOWN_B], TOWN_A, since_ts=0)
    assert sorted(town["incident_id"]) == ["C1", "O1", "O2", "OLD"]
    village = read_cases(client, [TOWN_A, TOWN_B], "441900101001", since_ts=T0 - 86400)
    assert sorted(village["incident_id"]) == ["C1", "O1"]
    grid = read_cases(client, [TOWN_A, TOWN_B], "441900101001001", since_ts=T0 - 86400)
    assert grid["incident_id"].tolist() == ["C1"]
    later = read_cases(client, [TOWN_A, TOWN_B], "441900", since_ts=T0 + 150)
    assert sorted(later["incident_id"]) == ["B1", "O2"]


def test_nothing_stored_gives_an_empty_frame_with_the_columns(client):
    df = read_cases(client, [TOWN_A, TOWN_B], "441900", since_ts=0)
    assert df.empty and list(df.columns) == list(COLUMNS)
    assert df["reported_ts"].dtype == "float64"


def test_big_hashes_are_paged_with_hscan_and_give_the_same_rows(client, monkeypatch):
    many = [case(f"M{i:04d}", f"4419001010010{i % 3 + 1:02d}", T0 + i) for i in range(1200)]
    store(client, *many, *demo_cases())
    whole = read_cases(client, [TOWN_A, TOWN_B], "441900", since_ts=T0 - 86400)
    monkeypatch.setattr(history, "HSCAN_ABOVE", 100)
    paged = read_cases(client, [TOWN_A, TOWN_B], "441900", since_ts=T0 - 86400)
    assert len(whole) == 1204
    assert sorted(paged["incident_id"]) == sorted(whole["incident_id"])


def test_an_unreadable_stored_value_is_skipped(client):
    store(client, *demo_cases())
    client.hset(keys.incidents(TOWN_A), "BROKEN", b"441900101 not json")
    df = read_cases(client, [TOWN_A], "441900", since_ts=T0 - 86400)
    assert sorted(df["incident_id"]) == ["C1", "O1", "O2"]


def test_a_reopened_case_is_read_as_open_again(client):
    c1 = demo_cases()[0]
    reopened = replace(c1, status=Status.ACKNOWLEDGED, resolved_ts=None, closed_ts=None)
    store(client, reopened)
    row = read_cases(client, [TOWN_A], "441900", since_ts=0).iloc[0]
    assert row["status"] == "acknowledged" and math.isnan(row["resolved_ts"])
