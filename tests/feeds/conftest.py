"""Fixtures for the geography tests: the demo city generated once per session."""
from __future__ import annotations

import time

import pytest

from feeds.geo.hierarchy import CityGeo
from feeds.sim.citygen import generate_city


@pytest.fixture(scope="session")
def demo_city_timed() -> tuple[CityGeo, float]:
    """The demo city (default seed) and how many seconds generating it took."""
    started = time.perf_counter()
    city = generate_city()
    return city, time.perf_counter() - started


@pytest.fixture(scope="session")
def demo_city(demo_city_timed: tuple[CityGeo, float]) -> CityGeo:
    """The demo city generated with the default seed, in memory."""
    return demo_city_timed[0]
