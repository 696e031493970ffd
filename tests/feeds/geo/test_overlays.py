"""Business-grid layer files: round trip, refusals that name the grid, the demo police beats."""
from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
import shapely
from shapely.geometry import shape

from domain.overlays import Overlay
from domain.regions import Level
from feeds.geo.hierarchy import CityGeo
from feeds.geo.overlays import (
    MAX_LISTED,
    OverlayError,
    load_overlay,
    load_overlays,
    overlay_features,
    parse_overlay,
    save_overlay,
    to_document,
)
from feeds.live.context import CityContext
from feeds.sim.overlays import demo_police_beats, ensure_demo_overlays

N_GRIDS = 2958
DOC_EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "overlay-format.md"


@pytest.fixture(scope="module")
def city(city_ctx: CityContext) -> CityGeo:
    """The loaded demo city."""
    return city_ctx.city


@pytest.fixture(scope="module")
def beats(city: CityGeo) -> Overlay:
    """The demo police beats, timed."""
    started = time.perf_counter()
    overlay = demo_police_beats(city)
    print(f"\ndemo police beats: {len(overlay.units)} beats in "
          f"{time.perf_counter() - started:.2f} s")
    return overlay


def write(path: Path, doc: dict[str, Any]) -> Path:
    """Write a document as JSON."""
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def refusal(path: Path, city: CityGeo) -> str:
    """The message of the OverlayError a file is refused with."""
    with pytest.raises(OverlayError) as info:
        load_overlay(path, city)
    return str(info.value)


def test_save_and_load_round_trip(tmp_path: Path, city: CityGeo, beats: Overlay) -> None:
    path = save_overlay(beats, tmp_path / "overlays" / "police_beats.json")
    started = time.perf_counter()
    again = load_overlay(path, city)
    took = time.perf_counter() - started
    print(f"\nload + validate {len(beats.units)} beats ({path.stat().st_size / 1024:.0f} KiB): "
          f"{took * 1000:.0f} ms")
    assert again == beats
    assert path.read_text(encoding="utf-8").count("\n") == len(beats.units) + 2  # a unit a line
    assert json.loads(path.read_bytes()) == to_document(beats)
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_file_that_splits_a_base_grid_is_refused_naming_it(tmp_path: Path, city: CityGeo,
                                                             beats: Overlay) -> None:
    doc = to_document(beats)
    grid = doc["units"][1]["grids"][0]
    doc["units"][0]["grids"].append(grid)
    path = write(tmp_path / "split.json", doc)
    msg = refusal(path, city)
    first, second = doc["units"][0], doc["units"][1]
    assert str(path) in msg and "layer police_beats" in msg
    assert (f"splits base grid {grid} between units {first['code']} ({first['name']}) and "
            f"{second['code']} ({second['name']})") in msg


def test_a_file_that_misses_a_base_grid_is_refused_naming_it(tmp_path: Path, city: CityGeo,
                                                             beats: Overlay) -> None:
    doc = to_document(beats)
    unit = next(u for u in doc["units"] if len(u["grids"]) > 1)
    grid = unit["grids"].pop()
    msg = refusal(write(tmp_path / "miss.json", doc), city)
    assert f"misses base grid {grid}: it is in no unit" in msg
    assert "1 problem:" in msg


def test_many_problems_are_listed_up_to_ten_then_counted(tmp_path: Path, city: CityGeo,
                                                         beats: Overlay) -> None:
    doc = to_document(beats)
    town = "441900003"
    doc["units"] = [u for u in doc["units"] if not u["code"].startswith(town)]
    missed = sum(1 for g in city.hierarchy.descendants(town, Level.GRID))
    msg = refusal(write(tmp_path / "town_missing.json", doc), city)
    assert f"{missed} problems:" in msg
    assert msg.count("misses base grid") == MAX_LISTED
    assert msg.rstrip().endswith(f"and {missed - MAX_LISTED} more")


def test_unknown_grids_outside_the_region_are_named(tmp_path: Path, city: CityGeo) -> None:
    village = "441900003001"
    grids = list(city.hierarchy.children_of(village))
    doc = {"layer_id": "one_village", "name": "一个社区", "department": "公安",
           "region": village, "units": [
               {"code": "A", "name": "甲", "grids": grids + ["441900003002001"]}]}
    msg = refusal(write(tmp_path / "v.json", doc), city)
    assert f"unit A (甲) names 441900003002001, which is not a base grid of region {village}" \
        in msg


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.pop("layer_id"), "layer: field 'layer_id' must be a non-empty string"),
    (lambda d: d.update(layer_id="bad id!"), "field 'layer_id' must be 1-64 letters"),
    (lambda d: d.update(region="441999"), "field 'region' must be a region code of the city"),
    (lambda d: d.update(colour="red"), "layer: unknown field 'colour'"),
    (lambda d: d.update(units=[]), "field 'units' must be a non-empty list"),
    (lambda d: d["units"][0].update(grids="441900003001001"),
     "unit 441900003001-01: field 'grids' must be a list of base grid codes"),
    (lambda d: d["units"][2].update(code=7), "unit #3: field 'code' must be a string, got 7"),
    (lambda d: d["units"][0].update(size=3), "unit 441900003001-01: unknown field 'size'"),
])
def test_malformed_documents_are_refused_with_field_and_unit(change: Any, expected: str,
                                                             city: CityGeo,
                                                             beats: Overlay) -> None:
    doc = to_document(beats)
    change(doc)
    with pytest.raises(OverlayError, match="police_beats.json") as info:
        parse_overlay(doc, city, "x/police_beats.json")
    assert expected in str(info.value)


def test_bad_json_is_refused_naming_the_file(tmp_path: Path, city: CityGeo) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    assert str(path) in refusal(path, city)
    assert "not valid JSON" in refusal(path, city)


def test_the_documented_example_loads(city: CityGeo) -> None:
    text = DOC_EXAMPLE.read_text(encoding="utf-8")
    doc = json.loads(text.split("```json", 1)[1].split("```", 1)[0])
    overlay = parse_overlay(doc, city, "docs example")
    assert overlay.region == "441900003001" and len(overlay.units) == 2


def test_region_defaults_to_the_city(city: CityGeo, beats: Overlay) -> None:
    doc = to_document(beats)
    doc.pop("region")
    assert parse_overlay(doc, city).region == city.hierarchy.city.code


def test_demo_beats_cover_every_grid_exactly_once(city: CityGeo, beats: Overlay) -> None:
    held = Counter(g for u in beats.units for g in u.grids)
    assert len(held) == N_GRIDS and set(held.values()) == {1}
    assert set(held) == {r.code for r in city.hierarchy.at_level(Level.GRID)}
    sizes = Counter(len(u.grids) for u in beats.units)
    print(f"\nbeats by size: {dict(sorted(sizes.items()))}")
    assert set(sizes) == {1, 2, 3}
    assert len({u.code for u in beats.units}) == len(beats.units)


def test_demo_beats_are_adjacent_grids_of_one_village(city: CityGeo, beats: Overlay) -> None:
    for u in beats.units:
        village = u.code.split("-")[0]
        assert all(g[:12] == village for g in u.grids), u
        assert u.name.startswith(city.hierarchy[village].name) and "警区" in u.name
        assert u.name_en.endswith(f"Beat {int(u.code.split('-')[1])}")
        merged = shapely.coverage_union_all([city.shapes[g] for g in u.grids])
        assert merged.geom_type == "Polygon", u  # grids joined by shared borders


def test_demo_beats_are_deterministic(city: CityGeo, beats: Overlay) -> None:
    assert demo_police_beats(city) == beats
    assert demo_police_beats(city, seed=1) != beats


def test_features_are_one_dissolved_polygon_per_unit_and_small(city: CityGeo,
                                                               beats: Overlay) -> None:
    started = time.perf_counter()
    fc = overlay_features(beats, city)
    took = time.perf_counter() - started
    size = len(orjson.dumps(fc))
    town = overlay_features(beats, city, within="441900003")
    town_size = len(orjson.dumps(town))
    print(f"\nbeat features: city {len(fc['features'])} units {size / 1024:.0f} KiB "
          f"in {took * 1000:.0f} ms; town 441900003 {len(town['features'])} units "
          f"{town_size / 1024:.1f} KiB")
    assert len(fc["features"]) == len(beats.units)
    assert size < 800_000 and town_size < 40_000
    f = fc["features"][0]
    u = beats.units[0]
    assert f["properties"] == {"code": u.code, "name": u.name, "name_en": u.name_en,
                               "grid_count": len(u.grids)}
    xs = [c for feat in fc["features"] for ring in feat["geometry"]["coordinates"]
          for c in ring[:3]]
    assert all(round(v, 5) == v for c in xs for v in c)
    geoms = [shape(feat["geometry"]) for feat in fc["features"]]
    assert all(g.is_valid and g.geom_type == "Polygon" for g in geoms)
    area = sum(g.area for g in geoms)
    assert area == pytest.approx(city.shapes[city.hierarchy.city.code].area, rel=0.01)


def test_features_within_a_region_keep_its_units(city: CityGeo, beats: Overlay) -> None:
    fc = overlay_features(beats, city, within="441900003001", simplify_deg=0)
    codes = [f["properties"]["code"] for f in fc["features"]]
    assert codes and all(c.startswith("441900003001-") for c in codes)
    grids = sum(f["properties"]["grid_count"] for f in fc["features"])
    assert grids == len(city.hierarchy.children_of("441900003001"))


def test_ensure_and_load_demo_overlays(tmp_path: Path, city: CityGeo, beats: Overlay) -> None:
    [path] = ensure_demo_overlays(tmp_path, city)
    assert path == tmp_path / "overlays" / "police_beats.json"
    stamp = path.stat().st_mtime_ns
    assert ensure_demo_overlays(tmp_path, city) == [path]
    assert path.stat().st_mtime_ns == stamp  # left alone once there
    (tmp_path / "overlays" / "notes.txt").write_text("not a layer", encoding="utf-8")
    assert load_overlays(tmp_path, city) == [beats]
    assert load_overlays(tmp_path / "nowhere", city) == []


def test_load_overlays_names_the_bad_file_and_duplicate_ids(tmp_path: Path, city: CityGeo,
                                                            beats: Overlay) -> None:
    ensure_demo_overlays(tmp_path, city)
    copy = tmp_path / "overlays" / "z_copy.json"
    save_overlay(beats, copy)
    with pytest.raises(OverlayError, match="z_copy.json: layer police_beats: layer_id already"):
        load_overlays(tmp_path, city)
    doc = to_document(beats)
    doc["layer_id"] = "beats2"
    doc["units"][0]["grids"] = []
    write(copy, doc)
    with pytest.raises(OverlayError, match=r"z_copy\.json: layer beats2: 2 problems") as info:
        load_overlays(tmp_path, city)
    assert "is empty" in str(info.value) and "misses base grid" in str(info.value)
