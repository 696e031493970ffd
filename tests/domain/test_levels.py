"""Levels as data: a five-level city whose codes say nothing of their level or parent."""
from __future__ import annotations

import pytest

from domain.regions import (
    DONGGUAN_LEVELS,
    Hierarchy,
    Levels,
    LevelSpec,
    Region,
    ancestors_of,
    chain_to_shard,
    is_within,
    level_of,
    town_of,
    towns_covering,
    village_of,
)

FIVE = Levels((LevelSpec("city", "市", "City"), LevelSpec("district", "区", "District"),
               LevelSpec("street", "街道", "Street"), LevelSpec("community", "社区", "Community"),
               LevelSpec("grid", "网格", "Grid")), shard="street", dispatch="street")


def five_level() -> Hierarchy:
    """Codes of mixed lengths and no prefix rule: only the parent links say the tree."""
    return Hierarchy.build([
        Region("SZ", "深圳市", "city", None), Region("FT", "福田区", "district", "SZ"),
        Region("NS", "南山区", "district", "SZ"),
        Region("ft-1", "园岭街道", "street", "FT"), Region("ns-1", "粤海街道", "street", "NS"),
        Region("c-77", "百花社区", "community", "ft-1"),
        Region("c-78", "科技园社区", "community", "ns-1"),
        Region("g9", "百花1号网格", "grid", "c-77"), Region("g10", "科技园1号网格", "grid", "c-78"),
    ], "gcj02", FIVE)


def test_walks_follow_the_parents_not_the_codes():
    h = five_level()
    assert h.ancestors("g9") == ("g9", "c-77", "ft-1", "FT", "SZ")
    assert h.ancestor_at("g9", "district") == "FT"
    assert h.shard_of("c-77") == "ft-1"
    assert h.is_within("g9", "FT") and not h.is_within("g9", "NS")
    assert [r.code for r in h.descendants("FT", "grid")] == ["g9"]
    assert h.shards_under("SZ") == ["ft-1", "ns-1"] and h.shards_under("g10") == ["ns-1"]
    assert h.above_shard("FT") and not h.above_shard("ft-1")
    with pytest.raises(ValueError, match="above the street level"):
        h.ancestor_at("FT", "street")


def test_the_code_walks_answer_for_the_hierarchy_that_holds_a_code():
    five_level()  # registers its codes
    assert level_of("c-77") == "community" and level_of("SZ") == "city"
    assert town_of("g9") == "ft-1" and village_of("g9") == "c-77"
    assert ancestors_of("g10") == ["g10", "c-78", "ns-1", "NS", "SZ"]
    assert chain_to_shard("g10") == ["g10", "c-78", "ns-1"]  # counts live in the street
    assert is_within("g10", "NS") and not is_within("g10", "FT")
    assert towns_covering("FT", ["ft-1", "ns-1"]) == ["ft-1"]
    # a Dongguan code no hierarchy holds keeps the documented fixed-length scheme
    assert town_of("441900999001001") == "441900999" and level_of("441900999") == "town"


def test_a_parent_must_be_one_level_up():
    with pytest.raises(ValueError, match="must have a district as parent, SZ is a city"):
        Hierarchy.build([Region("SZ", "深圳市", "city", None),
                         Region("ft-1", "园岭街道", "street", "SZ")], "gcj02", FIVE)
    with pytest.raises(ValueError, match="level 'town' is not one of city, district"):
        Hierarchy.build([Region("SZ", "深圳市", "city", None),
                         Region("x", "某镇", "town", "SZ")], "gcj02", FIVE)


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"shard": "county"}, "the shard level 'county' is not one of"),
    ({"shard": "city"}, "shard level must be below the city"),
    ({"dispatch": "ward"}, "the dispatch level 'ward'"),
])
def test_bad_level_declarations_are_refused_by_name(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        Levels(FIVE.specs, **{"shard": "street", "dispatch": "street", **kwargs})


def test_level_names_and_neighbours():
    assert FIVE.name("district", "zh") == "区" and FIVE.name("district", "en") == "District"
    assert FIVE.below("street") == "community" and FIVE.above("district") == "city"
    assert FIVE.top == "city" and FIVE.leaf == "grid" and FIVE.below("grid") is None
    assert DONGGUAN_LEVELS.keys == ("city", "town", "village", "grid")
    assert DONGGUAN_LEVELS.code_digits == (6, 9, 12, 15)
