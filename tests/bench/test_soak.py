"""bench.soak: a short soak prints every metric with its bound and fails (exit 1) on a bound
set too tiny; the age-trim bound follows what was added within the retention."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soak_bounds import Run, stream_bound
from feeds.live.worker import POSITION_RETENTION_S
from tests.support import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
EVERY = ("open_cases", "page:dom_nodes", "page:errors", "page:js_heap_mb", "redis:keys",
         "redis:other_mb", "redis:used_memory_mb", "redis:used_memory_rss_mb",
         "rss_mb:gateway", "rss_mb:worker", "rss_mb:push", "rss_mb:web", "rss_mb:simulate",
         "rss_mb:cameras", "rss_mb:capture", "stream:pos:len", "stream:pos:added",
         "stream:inc:len", "stream:live:longest", "stream:track:longest",
         "stream:track:keys", "stream:deadletter:longest", "stream:audit:longest")


def rows(out: str) -> dict[str, list[str]]:
    """The table's rows by metric: start, end, max, bound, ok."""
    lines = out.splitlines()
    head = next(i for i, x in enumerate(lines) if x.startswith("metric "))
    table = {}
    for x in lines[head + 1:]:
        if x.startswith("soak "):
            break
        name, *cells = x.split()
        table[name] = cells
    return table


@pytest.mark.browser
@pytest.mark.timeout(240)
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no /usr/bin/chromium")
def test_a_short_soak_shows_every_metric_and_fails_on_a_tiny_redis_bound(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--minutes", "0.2", "--every", "4", "--load", "0.1",
         "--history-days", "0", "--max-redis-mb", "1", "--csv", str(tmp_path / "s.csv"),
         "--data-dir", str(tmp_path / "demo")],
        cwd=ROOT, capture_output=True, text=True, timeout=200)
    table = rows(out.stdout)
    assert out.returncode == 1, out.stdout + out.stderr[-2000:]
    assert [m for m in EVERY if m not in table] == []
    assert table["redis:used_memory_mb"][3:] == ["1.0", "NO"]  # 1 MB: no Redis fits
    failed = sorted(m for m, cells in table.items() if cells[-1] == "NO")
    assert failed == ["redis:used_memory_mb", "redis:used_memory_rss_mb"], out.stdout
    assert "past_bound=redis:used_memory_mb,redis:used_memory_rss_mb" in out.stdout
    with open(tmp_path / "s.csv") as f:
        assert set(EVERY) <= {r["metric"] for r in csv.DictReader(f)} | {"redis:other_mb"}


def run_of(added: list[float], lengths: list[float], every_s: float, speed: float) -> Run:
    """A run of one position stream sampled every `every_s`."""
    return Run([(i * every_s, {"stream:pos:added": a, "stream:pos:len": n, "stream:pos:keys": 1})
                for i, (a, n) in enumerate(zip(added, lengths, strict=True))],
               speed=speed, load=1, flat_pct=25, node_entries=100)


def test_the_age_trim_bound_is_what_was_added_within_the_retention():
    # 1,000 positions a minute for 30 min at --speed 24: the retention is 15 min (+ 1 min trim)
    added = [1000.0 * i for i in range(31)]
    run = run_of(added, [min(a, 16_000.0) for a in added], 60, 24)
    assert POSITION_RETENTION_S / 24 == 900
    assert stream_bound(run, "stream:pos:len") == 16_000 + 100
    untrimmed = run_of(added, added, 60, 24)  # the trim never ran: 30,000 kept > 16,100
    assert untrimmed.samples[-1][1]["stream:pos:len"] > stream_bound(untrimmed, "stream:pos:len")
