"""Region code helpers: a town or village cut out of a longer code, by the code rules."""
from __future__ import annotations

import pytest

from domain.regions import above_town, above_village, town_of, towns_covering, village_of

GRID = "441900101002003"


def test_town_and_village_of_longer_codes():
    assert town_of(GRID) == town_of(GRID[:12]) == town_of("441900101") == "441900101"
    assert village_of(GRID) == village_of("441900101002") == "441900101002"
    with pytest.raises(ValueError):
        town_of("441900")
    with pytest.raises(ValueError):
        village_of("441900101")


def test_levels_above_and_the_towns_a_region_covers():
    towns = ["441900101", "441900102"]
    assert above_town("441900") and not above_town("441900101")
    assert above_village("441900101") and not above_village("441900101002")
    assert towns_covering("441900", towns) == towns
    assert towns_covering(GRID, towns) == towns_covering("441900101", towns) == ["441900101"]
