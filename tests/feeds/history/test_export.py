"""History export to Parquet against a real redis-server: complete, incremental, readable."""
from __future__ import annotations

import time

import orjson
import pandas as pd

from feeds.history.export import export_history
from feeds.store import keys
from feeds.store.client import sync_client


def test_export_writes_each_entry_once_across_runs(redis_url, tmp_path):
    client = sync_client(redis_url)
    town = "441900101"
    for i in range(25):
        client.xadd(keys.positions(town), {"m": orjson.dumps({
            "type": "position", "msg_id": f"m{i}", "officer_id": "O1", "ts": 1790000000 + i,
            "lon": 113.7, "lat": 23.0 + i / 1000, "grid": "441900101001001"})})
    client.xadd(keys.incidents_in(town), {"m": orjson.dumps({
        "type": "incident", "msg_id": "c", "incident_id": "I1", "ts": 1790000000,
        "category": "fire", "title": "冒烟", "lon": 113.7, "lat": 23.0,
        "grid": "441900101001001"})})
    first = export_history(client, [town], tmp_path, time.time() + 1)
    assert first == {keys.positions(town): 25, keys.incidents_in(town): 1}
    for i in range(25, 30):
        client.xadd(keys.positions(town), {"m": orjson.dumps({
            "type": "position", "msg_id": f"m{i}", "officer_id": "O1", "ts": 1790000000 + i,
            "lon": 113.7, "lat": 23.0, "grid": "441900101001001"})})
    second = export_history(client, [town], tmp_path, time.time() + 1)
    assert second[keys.positions(town)] == 5 and second[keys.incidents_in(town)] == 0
    df = pd.concat(pd.read_parquet(p) for p in sorted((tmp_path / "positions").glob("*.parquet")))
    assert sorted(df["msg_id"]) == sorted(f"m{i}" for i in range(30))
    assert df["lat"].iloc[3] == 23.003
    cases = pd.read_parquet(next((tmp_path / "cases").glob("*.parquet")))
    assert list(cases["title"]) == ["冒烟"]
