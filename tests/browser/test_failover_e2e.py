"""The fault benchmark's failover phases in short (make test-cluster): kill -9 a cluster master
that holds towns in use, and a Sentinel-watched primary, under load with a Chromium page;
nothing acked is lost and the page shows fresh data again without a reload."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_CLUSTER

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.browser, pytest.mark.failover,
              pytest.mark.skipif(not ON_CLUSTER, reason="the failover pass (make test-cluster)")]


@pytest.mark.parametrize(("store", "phase"), [("cluster", "master-failover"),
                                              ("sentinel", "sentinel-failover")])
def test_a_failover_loses_nothing_acked_and_the_page_recovers(store, phase):
    run = subprocess.run([sys.executable, "-m", "bench.faults", "--store", store, "--phases",
                          phase, "--seconds-per-phase", "4", "--load", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=240)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr[-3000:]
    line = next(x for x in out.splitlines() if x.startswith(f"phase={phase} "))
    assert " lost=0 " in line and "fresh data" in line and "reloaded" not in line, out
    last = out.strip().splitlines()[-1]
    assert last.startswith("sent=") and last.endswith(" lost=0"), out
