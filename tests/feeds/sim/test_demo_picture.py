"""The demo's city as the wall shows it: run `gridwatch demo` with its month of history and
its simulated dispatchers and officers; the open cases make a believable picture."""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.city_picture import Picture, picture, wait_for_history
from tests.support import RunningDemo, running_demo

SETTLE_S = 45  # the dispatchers' first rounds after the history


@pytest.fixture(scope="module")
def demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with running_demo(demo_dir, tmp_path_factory.mktemp("picture"), timeout=180) as d:
        yield d


@pytest.mark.timeout(900)
def test_the_demo_city_after_its_history_is_believable(demo):
    print(f"\nhistory sent after {wait_for_history(demo, 600):.0f} s")
    time.sleep(SETTLE_S)
    seen: list[Picture] = []
    for _ in range(3):
        seen.append(picture(demo))
        print(seen[-1].line())
        time.sleep(10)
    assert all(p.open >= 10 for p in seen), "an empty city"  # cases are being worked
    assert [p.problems() for p in seen] == [[], [], []]
    history = (demo.data_dir / ".history-sent").read_text()
    assert " 0 refused" in history, history  # every past case and update was taken
