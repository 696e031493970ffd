"""The hierarchy file declares its levels: a five-level city saved, loaded and refused by name."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from feeds.geo.hierarchy import HierarchyError, load_hierarchy, parse_hierarchy, to_document
from feeds.geo.locate import GridIndex
from tests.five_level import write_five_level_city


@pytest.fixture(scope="module")
def five(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return write_five_level_city(demo_dir, tmp_path_factory.mktemp("five"))


def test_a_five_level_file_round_trips_with_its_levels(five):
    doc = to_document(five)
    assert [lv["key"] for lv in doc["levels"]] == ["city", "district", "street", "community",
                                                   "grid"]
    assert doc["shard_level"] == "street" and doc["dispatch_level"] == "street"
    again = parse_hierarchy(doc).hierarchy
    assert {k: len(again.at_level(k)) for k in again.levels.keys} == {
        "city": 1, "district": 4, "street": 33, "community": 593, "grid": 2958}
    assert again.levels.name("district", "zh") == "区"
    district = again.at_level("district")[0].code
    assert not district.startswith(again.city.code)  # 440391 under 440390: no prefix rule


def test_a_position_lands_in_its_grid_and_the_grid_in_its_district(five):
    h = five.hierarchy
    grid = h.at_level("grid")[100]
    index = GridIndex(five)
    lon, lat = grid.centre
    placed = index.locate(lon, lat)
    assert placed is not None and placed.grid == grid.code
    assert placed.town == h.ancestor_at(grid.code, "street")
    assert h.is_within(placed.grid, h.ancestor_at(grid.code, "district"))


def _broken(five, index_of, **changes):
    doc = copy.deepcopy(to_document(five))
    i = index_of(doc)
    doc["features"][i]["properties"].update(changes)
    return doc, i


def test_a_parent_of_the_wrong_level_is_named(five):
    h = five.hierarchy
    street = h.at_level("street")[0].code

    def at(doc):
        return next(i for i, f in enumerate(doc["features"]) if f["properties"]["code"] == street)
    doc, i = _broken(five, at, parent=h.city.code)
    with pytest.raises(HierarchyError) as e:
        parse_hierarchy(doc)
    assert f"feature {i} (code {street})" in str(e.value)
    assert "a street's parent must be a district, 440390 is a city" in str(e.value)


def test_an_undeclared_level_and_a_bad_declaration_are_named(five):
    doc, i = _broken(five, lambda d: 3, level="town")
    with pytest.raises(HierarchyError, match=r"field 'level': must be one of city, district, "
                                             r"street, community, grid, got 'town'"):
        parse_hierarchy(doc)
    doc = to_document(five)
    doc["shard_level"] = "county"
    with pytest.raises(HierarchyError, match="field 'levels': the shard level 'county'"):
        parse_hierarchy(doc)


def test_the_saved_file_loads(five, tmp_path):
    from feeds.geo.hierarchy import save_hierarchy  # noqa: PLC0415
    path = save_hierarchy(five, tmp_path / "city.geojson")
    assert load_hierarchy(path).hierarchy.levels == five.hierarchy.levels
