"""The demo-city generator: exact counts, a gap-free overlap-free hierarchy, determinism."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import shapely

from domain.regions import Level
from feeds.geo.hierarchy import CityGeo, load_hierarchy, save_hierarchy
from feeds.geo.roster import load_officers, save_officers
from feeds.sim import citygen
from feeds.sim.citygen import (
    allocate,
    ensure_demo_city,
    generate_city,
    generate_officers,
    load_outline,
    load_town_seeds,
)

UPPER = (Level.CITY, Level.TOWN, Level.VILLAGE)


def codes(city: CityGeo, level: Level) -> list[str]:
    return [r.code for r in city.hierarchy.at_level(level)]


def test_exact_counts(demo_city):
    h = demo_city.hierarchy
    assert (h.city.code, h.city.name, h.city.name_en) == ("441900", "东莞市", "Dongguan")
    assert h.datum == "gcj02"
    assert [len(codes(demo_city, lvl)) for lvl in Level] == [1, 33, 593, 2958]
    assert set(demo_city.shapes) == set(h.regions)


def test_generation_is_fast(demo_city_timed):
    assert demo_city_timed[1] < 30.0


def test_towns_are_the_real_towns(demo_city):
    rows = load_town_seeds()
    assert codes(demo_city, Level.TOWN) == [r["code"] for r in rows]
    for r in rows:
        town = demo_city.hierarchy[r["code"]]
        assert (town.name, town.name_en, town.parent) == (r["name"], r["name_en"], "441900")
        # Voronoi seeded at the real centres: each town holds its own centre
        assert demo_city.shapes[r["code"]].contains(shapely.Point(float(r["lon"]),
                                                                  float(r["lat"])))


def test_minimum_children(demo_city):
    h = demo_city.hierarchy
    assert min(len(h.children_of(c)) for c in codes(demo_city, Level.TOWN)) >= 3
    assert min(len(h.children_of(c)) for c in codes(demo_city, Level.VILLAGE)) >= 2


def test_codes_and_names(demo_city):
    h = demo_city.hierarchy
    for parent in codes(demo_city, Level.TOWN) + codes(demo_city, Level.VILLAGE):
        kids = h.children_of(parent)
        assert list(kids) == [f"{parent}{k:03d}" for k in range(1, len(kids) + 1)]
    assert h["441900003001"].name == "东城第1社区"
    assert h["441900003001"].name_en == "Dongcheng Community 1"
    assert h["441900401002"].name == "松山湖第2社区"
    assert h["441900003001002"].name == "东城第1社区2号网格"
    assert h["441900003001002"].name_en == "Grid 2"
    village = re.compile(r"^\w+第\d+社区$")
    assert all(village.match(h[c].name) for c in codes(demo_city, Level.VILLAGE))


def test_all_geometries_valid_single_polygons(demo_city):
    geoms = np.array(list(demo_city.shapes.values()))
    assert shapely.is_valid(geoms).all()
    assert (shapely.area(geoms) > 0).all()
    assert {g.geom_type for g in geoms} == {"Polygon"}


def test_centres_lie_inside_their_regions(demo_city):
    for code, region in demo_city.hierarchy.regions.items():
        assert demo_city.shapes[code].contains(shapely.Point(region.centre)), code


@pytest.mark.parametrize("level", UPPER)
def test_children_cover_parent_without_gaps(demo_city, level):
    h = demo_city.hierarchy
    for parent in codes(demo_city, level):
        whole = demo_city.shapes[parent]
        union = shapely.union_all([demo_city.shapes[c] for c in h.children_of(parent)])
        assert whole.symmetric_difference(union).area < 1e-9 * whole.area, parent


@pytest.mark.parametrize("level", UPPER)
def test_children_lie_within_parent(demo_city, level):
    h = demo_city.hierarchy
    for parent in codes(demo_city, level):
        whole = demo_city.shapes[parent]
        kids = np.array([demo_city.shapes[c] for c in h.children_of(parent)])
        outside = shapely.area(shapely.difference(kids, whole))
        assert outside.max() < 1e-12 * whole.area, parent


@pytest.mark.parametrize("level", [Level.TOWN, Level.VILLAGE, Level.GRID])
def test_no_overlaps(demo_city, level):
    geoms = np.array([demo_city.shapes[c] for c in codes(demo_city, level)])
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    assert pairs.sum() > len(geoms)  # neighbours were found at all
    overlap = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert overlap.max() < 1e-12 * shapely.area(geoms).min()
    assert shapely.coverage_is_valid(geoms)  # edge-matched: shared borders have equal vertices


def test_city_is_the_real_outline(demo_city):
    outline = load_outline()
    city = demo_city.shapes["441900"]
    # the outline plus the vertices where borders meet it, rounded to 1e-6 degree (~0.1 m)
    assert shapely.hausdorff_distance(city, outline) < 1e-6
    assert city.symmetric_difference(outline).area < 1e-5 * outline.area


def test_grids_are_even(demo_city):
    area = shapely.area(np.array([demo_city.shapes[c] for c in codes(demo_city, Level.GRID)]))
    median = np.median(area)
    assert area.max() < 4 * median and area.min() > 0.05 * median


@pytest.mark.parametrize(("weights", "total", "minimum", "want"), [
    ([1, 1, 1], 10, 2, [4, 3, 3]),
    ([10, 1, 1], 12, 3, [6, 3, 3]),
    ([5, 3, 2], 10, 0, [5, 3, 2]),
    ([0.3, 0.3, 0.4], 3, 1, [1, 1, 1]),
    ([100, 1, 1, 1], 20, 3, [11, 3, 3, 3]),
])
def test_allocate(weights, total, minimum, want):
    assert allocate(np.array(weights, dtype=float), total, minimum) == want


def test_allocate_rejects_impossible():
    with pytest.raises(ValueError, match="at least 3"):
        allocate(np.ones(4), 11, 3)


def test_allocation_follows_area(demo_city):
    h = demo_city.hierarchy
    towns = codes(demo_city, Level.TOWN)
    areas = np.array([demo_city.shapes[t].area for t in towns])
    counts = np.array([len(h.children_of(t)) for t in towns])
    assert np.corrcoef(areas, counts)[0, 1] > 0.95


def test_same_seed_gives_byte_identical_file(demo_city, demo_dir: Path, tmp_path: Path):
    # demo_dir's city.geojson was generated separately (ensure_demo_city) in this session
    mine = save_hierarchy(demo_city, tmp_path / "city.geojson").read_bytes()
    assert mine == (demo_dir / "city.geojson").read_bytes()


def test_other_seed_gives_other_partition_and_reports_progress(demo_city):
    calls: list[tuple[str, int, int]] = []
    other = generate_city(seed=7, progress=lambda s, d, t: calls.append((s, d, t)))
    assert [len(codes(other, lvl)) for lvl in Level] == [1, 33, 593, 2958]
    assert codes(other, Level.TOWN) == codes(demo_city, Level.TOWN)
    same = sum(other.shapes[c].equals(demo_city.shapes[c]) for c in codes(other, Level.GRID)
               if c in demo_city.shapes)
    assert same < 10
    per_stage = Counter(stage for stage, _, _ in calls)
    assert per_stage["villages"] == 33 and per_stage["grids"] == 33
    assert ("grids", 33, 33) in calls


def test_officers(demo_city):
    officers = generate_officers(demo_city)
    assert len(officers) == 9756
    assert [o.officer_id for o in officers[:2]] == ["O000001", "O000002"]
    assert officers[-1].officer_id == "O009756"
    assert len({o.officer_id for o in officers}) == 9756
    per_grid = Counter(o.grid for o in officers)
    assert set(per_grid) == set(codes(demo_city, Level.GRID))
    assert min(per_grid.values()) >= 2 and max(per_grid.values()) <= 5
    assert 3.0 <= 9756 / len(per_grid) <= 3.5
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", o.name) for o in officers)
    assert len({o.name for o in officers}) > 1000
    assert generate_officers(demo_city) == officers
    assert generate_officers(demo_city, seed=1) != officers


def test_officers_bounds(demo_city):
    with pytest.raises(ValueError, match="2–5"):
        generate_officers(demo_city, n=100)
    assert len(generate_officers(demo_city, n=2958 * 5)) == 2958 * 5


def test_officers_csv_round_trip(demo_city, tmp_path: Path):
    officers = generate_officers(demo_city, n=6000)
    path = save_officers(officers, tmp_path / "officers.csv")
    assert path.read_text(encoding="utf-8").splitlines()[0] == "officer_id,name,grid"
    assert load_officers(path) == officers


@pytest.mark.parametrize(("text", "needle"), [
    ("id,name,grid\n", "header"),
    ("officer_id,name,grid\nO000001,张三\n", ":2:"),
    ("officer_id,name,grid\nO000001,,441900003001001\n", ":2:"),
])
def test_load_officers_rejects_bad_files(tmp_path: Path, text, needle):
    path = tmp_path / "o.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=needle):
        load_officers(path)


def test_ensure_demo_city_writes_once(demo_city, tmp_path: Path, monkeypatch):
    made: list[int] = []

    def fake(seed: int = 2958, progress=None) -> CityGeo:
        made.append(seed)
        return demo_city

    monkeypatch.setattr(citygen, "generate_city", fake)
    city_path, officers_path = ensure_demo_city(tmp_path / "data")
    assert (city_path.name, officers_path.name) == ("city.geojson", "officers.csv")
    assert load_hierarchy(city_path).hierarchy.regions == demo_city.hierarchy.regions
    assert len(load_officers(officers_path)) == 9756
    stamp = city_path.stat().st_mtime_ns, officers_path.stat().st_mtime_ns
    officers_path.unlink()
    ensure_demo_city(tmp_path / "data")  # officers remade from the saved city
    assert made == [2958] and city_path.stat().st_mtime_ns == stamp[0]
    assert load_officers(officers_path) == generate_officers(demo_city)


def test_town_centre_outside_the_outline_is_moved_inside():
    outline = load_outline()
    rows = [{"code": "441900999", "lon": "113.30", "lat": "22.90"},  # in the estuary, west
            {"code": "441900998", "lon": "113.75", "lat": "23.02"}]  # already inside
    seeds = citygen._town_seeds(outline, rows)
    assert outline.contains(shapely.points(seeds)).all()
    assert tuple(seeds[1]) == (113.75, 23.02)
    # moved to the nearest interior point: close to the border, not somewhere arbitrary
    assert outline.exterior.distance(shapely.Point(seeds[0])) < 0.01
    assert shapely.Point(seeds[0]).distance(shapely.Point(113.30, 22.90)) == pytest.approx(
        outline.distance(shapely.Point(113.30, 22.90)), abs=0.01)
