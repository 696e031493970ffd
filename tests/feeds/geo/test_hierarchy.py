"""The hierarchy file format: round trip, validation errors, browser export."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import shapely
from shapely.geometry import box, mapping

from domain.regions import Level
from feeds.geo.hierarchy import (
    HierarchyError,
    load_hierarchy,
    parse_hierarchy,
    region_features,
    save_hierarchy,
)


def feature(code: str, level: str, parent: str | None, geom: Any, **extra: Any) -> dict:
    props = {"code": code, "name": f"区域{code}", "name_en": f"Region {code}", "level": level,
             "parent": parent, **extra}
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


def small_doc() -> dict:
    """City 441900 → town 441900101 → 2 villages → 2 grids each, all boxes."""
    feats = [feature("441900", "city", None, box(0, 0, 4, 2)),
             feature("441900101", "town", "441900", box(0, 0, 4, 2))]
    for v in range(2):
        vcode = f"441900101{v + 1:03d}"
        feats.append(feature(vcode, "village", "441900101", box(2 * v, 0, 2 * v + 2, 2)))
        for g in range(2):
            gbox = box(2 * v + g, 0, 2 * v + g + 1, 2)
            feats.append(feature(f"{vcode}{g + 1:03d}", "grid", vcode, gbox))
    return {"type": "FeatureCollection", "datum": "gcj02", "features": feats}


def errors_of(doc: dict) -> str:
    with pytest.raises(HierarchyError) as info:
        parse_hierarchy(doc)
    return str(info.value)


def test_small_document_parses():
    city = parse_hierarchy(small_doc())
    h = city.hierarchy
    assert h.datum == "gcj02" and city.datum == "gcj02"
    assert h.city.code == "441900"
    assert h.children_of("441900101") == ("441900101001", "441900101002")
    assert h["441900101002001"].level == Level.GRID
    assert h["441900101002001"].name_en == "Region 441900101002001"
    # centre absent in the file: computed, inside the region
    for code, region in h.regions.items():
        assert city.shapes[code].contains(shapely.Point(region.centre))


def test_centre_read_when_present():
    doc = small_doc()
    doc["features"][2]["properties"]["centre"] = [1.25, 0.5]
    assert parse_hierarchy(doc).hierarchy["441900101001"].centre == (1.25, 0.5)


def test_name_en_is_optional():
    doc = small_doc()
    del doc["features"][3]["properties"]["name_en"]
    assert parse_hierarchy(doc).hierarchy["441900101001001"].name_en == ""


def broken(index: int, **changes: Any) -> dict:
    doc = small_doc()
    props = doc["features"][index]["properties"]
    for key, value in changes.items():
        if value is KeyError:
            del props[key]
        else:
            props[key] = value
    return doc


@pytest.mark.parametrize(("doc", "needles"), [
    (broken(3, name=KeyError), ["feature 3", "441900101001001", "'name'", "missing"]),
    (broken(1, name="  "), ["feature 1", "'name'", "non-empty"]),
    (broken(2, code=KeyError), ["feature 2", "'code'", "missing"]),
    (broken(2, code="44190010100A"), ["feature 2", "'code'", "string of digits"]),
    (broken(2, level=KeyError), ["feature 2", "'level'", "missing"]),
    (broken(2, level="county"), ["feature 2", "'level'", "'county'"]),
    (broken(2, level="grid"), ["feature 2", "'code'", "grid code has 15 digits, got 12"]),
    (broken(3, parent=KeyError), ["feature 3", "'parent'", "missing"]),
    (broken(3, parent="441900101002"), ["feature 3", "'parent'", "prefix '441900101001'"]),
    (broken(0, parent="440000"), ["feature 0", "'parent'", "null for the city"]),
    (broken(2, name_en=7), ["feature 2", "'name_en'", "must be a string"]),
    (broken(2, centre=[1.0]), ["feature 2", "'centre'", "[lon, lat]"]),
])
def test_each_error_names_feature_field_and_reason(doc, needles):
    message = errors_of(doc)
    for needle in needles:
        assert needle in message, message


def test_unknown_parent():
    doc = small_doc()
    village = copy.deepcopy(doc["features"][2])
    village["properties"].update(code="441900102001", parent="441900102")
    doc["features"].append(village)
    message = errors_of(doc)
    assert "feature 8 (code 441900102001)" in message
    assert "'parent'" in message and "unknown parent '441900102'" in message


def test_duplicate_code():
    doc = small_doc()
    doc["features"].append(copy.deepcopy(doc["features"][4]))
    message = errors_of(doc)
    assert "feature 8" in message and "'code'" in message
    assert "duplicate code (first used by feature 4)" in message


def test_invalid_geometry_names_the_reason():
    doc = small_doc()
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    doc["features"][3]["geometry"] = bowtie
    message = errors_of(doc)
    assert "feature 3" in message and "'geometry'" in message
    assert "invalid" in message and "Self-intersection" in message


@pytest.mark.parametrize("geometry", [
    {"type": "Point", "coordinates": [0, 0]}, None,
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},
    {"type": "Polygon", "coordinates": "nope"},
])
def test_non_area_geometry_is_rejected(geometry):
    doc = small_doc()
    doc["features"][4]["geometry"] = geometry
    message = errors_of(doc)
    assert "feature 4" in message and "'geometry'" in message


@pytest.mark.parametrize(("change", "needle"), [
    ({"datum": "bd09"}, "'datum'"), ({"datum": None}, "'datum'"),
    ({"type": "Feature"}, "'type'"), ({"features": []}, "'features'"),
])
def test_document_level_errors(change, needle):
    doc = small_doc() | change
    assert needle in errors_of(doc)


def test_two_cities_rejected():
    doc = small_doc()
    other = copy.deepcopy(doc["features"][0])
    other["properties"]["code"] = "441800"
    doc["features"].append(other)
    assert "exactly one city" in errors_of(doc)


def test_multipolygon_regions_round_trip(tmp_path: Path):
    doc = small_doc()
    doc["features"][3]["geometry"] = mapping(shapely.MultiPolygon(
        [box(0, 0, 1, 0.9), box(0, 1.1, 1, 2)]))
    city = parse_hierarchy(doc)
    again = load_hierarchy(save_hierarchy(city, tmp_path / "m.geojson"))
    assert again.shapes["441900101001001"].geom_type == "MultiPolygon"
    assert again.shapes["441900101001001"].equals(city.shapes["441900101001001"])


def test_load_rejects_bad_json(tmp_path: Path):
    path = tmp_path / "bad.geojson"
    path.write_text("{not json")
    with pytest.raises(HierarchyError, match="not valid JSON"):
        load_hierarchy(path)


def test_small_round_trip(tmp_path: Path):
    city = parse_hierarchy(small_doc())
    path = save_hierarchy(city, tmp_path / "small.geojson")
    again = load_hierarchy(path)
    assert again.hierarchy.regions == city.hierarchy.regions
    doc = orjson.loads(path.read_bytes())
    assert doc["datum"] == "gcj02"
    assert [f["properties"]["level"] for f in doc["features"]][:2] == ["city", "town"]
    assert b": " not in path.read_bytes()  # compact


def test_save_rounds_to_six_decimals(tmp_path: Path):
    doc = small_doc()
    doc["features"][0]["geometry"] = mapping(box(0, 0, 4.0000001234, 2))
    path = save_hierarchy(parse_hierarchy(doc), tmp_path / "r.geojson")
    coords = orjson.loads(path.read_bytes())["features"][0]["geometry"]["coordinates"]
    assert 4.0 in [c[0] for c in coords[0]]


def test_demo_city_round_trip_is_lossless(demo_city, tmp_path: Path):
    path = save_hierarchy(demo_city, tmp_path / "city.geojson")
    again = load_hierarchy(path)
    assert again.hierarchy.regions == demo_city.hierarchy.regions
    assert again.hierarchy.children == demo_city.hierarchy.children
    codes = sorted(demo_city.shapes)
    a = np.array([demo_city.shapes[c] for c in codes])
    b = np.array([again.shapes[c] for c in codes])
    assert shapely.equals_exact(a, b, tolerance=0.0).all()
    assert save_hierarchy(again, tmp_path / "again.geojson").read_bytes() == path.read_bytes()


def test_region_features_for_towns_are_small_and_rounded(demo_city):
    towns = [r.code for r in demo_city.hierarchy.at_level(Level.TOWN)]
    fc = region_features(demo_city, towns)
    raw = orjson.dumps(fc)
    assert len(raw) < 150_000
    assert [f["properties"]["code"] for f in fc["features"]] == towns
    props = fc["features"][0]["properties"]
    assert set(props) == {"code", "name", "name_en", "level", "centre"}
    assert props["level"] == "town"
    coords = shapely.get_coordinates(shapely.from_geojson(raw.decode()))
    assert np.allclose(coords, np.round(coords, 5), atol=1e-12, rtol=0)
    shapes = [shapely.geometry.shape(f["geometry"]) for f in fc["features"]]
    full = sum(demo_city.shapes[c].area for c in towns)
    assert sum(s.area for s in shapes) == pytest.approx(full, rel=0.01)
    # simplified as a coverage: neighbouring towns still share their borders exactly
    assert shapely.is_valid(shapes).all()
    assert shapely.coverage_is_valid(shapes)


def test_region_features_villages_of_a_town(demo_city):
    codes = demo_city.hierarchy.children_of("441900121")
    fc = region_features(demo_city, codes, simplify_deg=0.0002)
    assert len(fc["features"]) == len(codes)
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in fc["features"])
    with pytest.raises(KeyError):
        region_features(demo_city, ["441900999"])
