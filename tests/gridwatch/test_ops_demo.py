"""Operations of a running demo: /metrics counts what the gateway acked and refused across
`--processes 2`, the probes follow Redis going down and coming back, log lines are dated."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime

import numpy as np
import orjson
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from domain.access import Role, User
from feeds.accounts import auth
from feeds.geo.datum import to_datum
from feeds.geo.locate import GridIndex
from feeds.store.client import sync_client
from feeds.store.embedded import EmbeddedRedis
from tests.support import running_demo, send_messages


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def scrape(base: str) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics: (name, sorted labels) → value."""
    status, body = get(f"{base}/metrics")
    assert status == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(body.decode()) for s in fam.samples}


def wait_for(check, timeout: float = 40.0, every: float = 0.3):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(every)


def positions(city_ctx, n: int) -> list[dict]:  # noqa: ANN001
    index, rng, h = GridIndex(city_ctx.city), np.random.default_rng(3), city_ctx.hierarchy
    officers = list(city_ctx.roster.values())[:n]
    now = time.time()
    out = []
    for k, o in enumerate(officers):
        lon, lat = to_datum(*index.random_point(o.grid, rng), h.datum, "wgs84")
        out.append({"type": "position", "msg_id": f"ops-{k}-{now}", "officer_id": o.officer_id,
                    "ts": now, "lat": lat, "lon": lon})
    return out


def watch_push(demo, town: str, check):  # noqa: ANN001, ANN201
    """Subscribe to the push channel as the admin (scope: a town) while `check` runs."""
    client = sync_client((demo.data_dir / "redis.url").read_text().strip())
    token = auth.open_session(client, User("admin", Role.ADMIN, town))

    async def go():  # noqa: ANN202
        url = f"ws://127.0.0.1:{demo.live_port}/live?region={town}"
        async with connect(url, additional_headers={"Cookie": f"gw_session={token}"},
                           origin=demo.url, max_size=None) as ws:  # as the dashboard's page
            await ws.recv()  # the sync frame
            return await asyncio.to_thread(check)

    return asyncio.run(go())


def ready(base: str) -> tuple[int, dict]:
    status, body = get(f"{base}/health/ready")
    return status, orjson.loads(body)


def test_metrics_count_acks_and_refusals_over_two_processes(demo_dir, city_ctx, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("GRIDWATCH_LOG_FORMAT", "json")
    with running_demo(demo_dir, tmp_path / "demo", "--no-sim", "--history-days", "0",
                      "--processes", "2", timeout=120) as demo:
        assert wait_for(lambda: ready(demo.url)[0] == 200), ready(demo.url)
        before = scrape(demo.url)
        acked0 = before.get(("gridwatch_positions_acked_total", ()), 0.0)
        msgs = positions(city_ctx, 7)
        bad = [{**msgs[0], "msg_id": "ops-bad-1", "lat": 0.0, "lon": 0.0},
               {**msgs[1], "msg_id": "ops-bad-2", "officer_id": "NOBODY"}]
        answers = []
        for i in range(0, 7, 2):  # four connections: the kernel spreads them over both
            answers += send_messages(demo.gateway_url, msgs[i:i + 2])
        answers += send_messages(demo.gateway_url, bad)
        assert sum("ack" in a for a in answers) == 7 and sum("nack" in a for a in answers) == 2

        def moved() -> dict | None:
            m = scrape(demo.url)
            applied = m.get(("gridwatch_worker_applied_total", ()), 0)
            return m if m.get(("gridwatch_positions_acked_total", ()), 0) == acked0 + 7 \
                and applied >= 7 and ("gridwatch_feed_lag_seconds", ()) in m else None
        after = wait_for(moved)
        assert after, scrape(demo.url)
        refused = {dict(k[1])["reason"]: v for k, v in after.items()
                   if k[0] == "gridwatch_messages_refused_total"}
        assert refused == {"lat/lon": 1.0, "officer_id": 1.0}
        assert ("gridwatch_worker_backlog", ()) in after
        assert 0 <= after[("gridwatch_feed_lag_seconds", ())] < 30
        assert ("gridwatch_push_clients", (("scope_level", "city"),)) in after
        assert ("gridwatch_push_bytes_total", ()) in after
        subscribed = watch_push(demo, city_ctx.towns[0], lambda: wait_for(lambda: (
            m := scrape(demo.url))[("gridwatch_push_clients", (("scope_level", "town"),))] == 1
            and m))
        assert subscribed, scrape(demo.url)
        assert subscribed[("gridwatch_push_bytes_total", ())] > 0  # the sync frame at least
        assert wait_for(lambda: scrape(demo.url)[
            ("gridwatch_push_clients", (("scope_level", "town"),))] == 0)  # it left
        status, live = get(f"{demo.url}/health/live")
        assert status == 200 and orjson.loads(live)["status"] == "live"
    lines = (tmp_path / "demo" / "demo.log").read_text(errors="replace").splitlines()
    records = [orjson.loads(x) for x in lines if x.startswith("{")]
    workers = [r for r in records if r["component"] == "worker"
               and "running for" in r["message"]]
    assert len(workers) == 2, lines[:40]
    r = workers[0]
    assert set(r) >= {"time", "level", "component", "logger", "message"}
    assert r["level"] == "INFO" and r["logger"] == "feeds.live.main"
    assert datetime.fromisoformat(r["time"]).tzinfo is not None


def probe(component: str, demo, url: str) -> subprocess.CompletedProcess:  # noqa: ANN001
    """`gridwatch probe COMPONENT` (a container's health check) against the demo's Redis."""
    return subprocess.run([sys.executable, "-m", "gridwatch.cli", "probe", component,
                           "--data-dir", str(demo.data_dir), "--redis-url", url],
                          capture_output=True, text=True, timeout=30)


def test_readiness_follows_redis_down_and_back(demo_dir, tmp_path):
    redis = EmbeddedRedis(tmp_path / "ext", port=0).start()
    port = redis.port
    try:
        with running_demo(demo_dir, tmp_path / "demo", "--no-sim", "--history-days", "0",
                          redis_url=redis.url) as demo:
            assert wait_for(lambda: ready(demo.url)[0] == 200), ready(demo.url)
            assert ready(demo.url)[1]["checks"]["worker"] == {"ok": True}
            assert probe("worker", demo, redis.url).returncode == 0
            redis.stop()
            status, body = wait_for(lambda: (r := ready(demo.url))[0] == 503 and r)
            assert status == 503 and body["status"] == "not ready"
            assert body["checks"]["redis"]["ok"] is False
            assert "redis" in body["checks"]["redis"]["error"]
            assert get(f"{demo.url}/health/live")[0] == 200  # the process itself is up
            down = probe("worker", demo, redis.url)
            assert down.returncode == 1 and "redis" in down.stderr
            redis = EmbeddedRedis(tmp_path / "ext", port=port).start()
            assert wait_for(lambda: ready(demo.url)[0] == 200, timeout=60), ready(demo.url)
    finally:
        redis.stop()
    text = (tmp_path / "demo" / "demo.log").read_text(errors="replace").splitlines()
    dated = [x for x in text if " [worker] " in x]
    assert dated, text[:40]
    for line in dated:  # 2026-12-02T15:07:30.123+08:00 INFO    [worker] …
        assert datetime.fromisoformat(line.split(" ", 1)[0]).tzinfo is not None, line
    assert os.path.isdir(tmp_path / "demo" / "metrics")
