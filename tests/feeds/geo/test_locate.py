"""Point → grid lookup agrees with brute-force containment and is fast to build."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, mapping

from domain.model import Placement
from domain.regions import Level
from feeds.geo.hierarchy import parse_hierarchy
from feeds.geo.locate import GridIndex


@pytest.fixture(scope="module")
def index(demo_city) -> GridIndex:
    return GridIndex(demo_city)


def brute_force(city, lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
    """Grid code of each point by testing every grid with shapely."""
    grid_codes = [r.code for r in city.hierarchy.at_level(Level.GRID)]
    geoms = np.array([city.shapes[c] for c in grid_codes])
    out: list[str | None] = [None] * len(lons)
    for k, (x, y) in enumerate(zip(lons, lats, strict=True)):
        hit = np.flatnonzero(shapely.contains_xy(geoms, x, y))
        assert len(hit) <= 1  # no overlaps
        out[k] = grid_codes[hit[0]] if len(hit) else None
    return out


def random_points(city, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    xmin, ymin, xmax, ymax = city.shapes[city.hierarchy.city.code].bounds
    rng = np.random.default_rng(seed)
    return rng.uniform(xmin - 0.01, xmax + 0.01, n), rng.uniform(ymin - 0.01, ymax + 0.01, n)


def test_locate_agrees_with_brute_force(demo_city, index):
    lons, lats = random_points(demo_city, 2000, seed=3)
    want = brute_force(demo_city, lons, lats)
    assert 0 < want.count(None) < 1500  # both inside and outside points were drawn
    got = [index.locate_code(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)]
    assert got == want
    assert index.locate_many(lons, lats) == want


def test_locate_near_borders_agrees_with_brute_force(demo_city, index):
    # points within ~20 m of grid borders, where the exact test runs
    rng = np.random.default_rng(4)
    grids = [demo_city.shapes[c] for c in rng.choice(index.codes, 200, replace=False)]
    pts = shapely.get_coordinates(shapely.line_interpolate_point(
        shapely.boundary(grids), rng.uniform(0, 1, 200), normalized=True))
    lons = pts[:, 0] + rng.normal(0, 0.0002, len(pts))
    lats = pts[:, 1] + rng.normal(0, 0.0002, len(pts))
    want = brute_force(demo_city, lons, lats)
    assert [index.locate_code(x, y) for x, y in zip(lons, lats, strict=True)] == want
    assert index.locate_many(lons, lats) == want


def test_placement_comes_from_code_prefixes(demo_city, index):
    code = "441900121003002"
    lon, lat = demo_city.hierarchy[code].centre
    assert index.locate(lon, lat) == Placement("441900121", "441900121003", code)


@pytest.mark.parametrize(("lon", "lat"), [(0.0, 0.0), (113.0, 23.0), (113.53, 23.14),
                                          (114.25, 22.66), (float("nan"), 23.0)])
def test_outside_the_city_is_none(index, lon, lat):
    assert index.locate(lon, lat) is None
    assert index.locate_many(np.array([lon]), np.array([lat])) == [None]


def test_random_point_lands_in_its_grid(demo_city, index):
    rng = np.random.default_rng(5)
    for code in rng.choice(index.codes, 300, replace=False):
        lon, lat = index.random_point(str(code), rng)
        assert demo_city.shapes[code].contains(shapely.Point(lon, lat))
        assert index.locate(lon, lat).grid == code


def test_random_point_is_uniform_enough(index):
    rng = np.random.default_rng(6)
    pts = np.array([index.random_point("441900003001001", rng) for _ in range(400)])
    assert len(np.unique(pts, axis=0)) == 400


def test_locate_many_empty(index):
    assert index.locate_many(np.array([]), np.array([])) == []


def test_small_city_with_partly_covered_cells():
    """An L-shaped city whose border crosses cells, two villages, a hole-free pair of grids."""
    def feat(code, level, parent, geom):
        return {"type": "Feature", "geometry": mapping(geom),
                "properties": {"code": code, "name": code, "level": level, "parent": parent}}

    a = Polygon([(113.0, 23.0), (113.013, 23.0), (113.013, 23.007), (113.0, 23.011)])
    b = Polygon([(113.0, 23.011), (113.013, 23.007), (113.006, 23.019), (113.0, 23.019)])
    whole = shapely.union_all([a, b])
    doc = {"type": "FeatureCollection", "datum": "wgs84", "features": [
        feat("441900", "city", None, whole), feat("441900101", "town", "441900", whole),
        feat("441900101001", "village", "441900101", a),
        feat("441900101002", "village", "441900101", b),
        feat("441900101001001", "grid", "441900101001", a),
        feat("441900101002001", "grid", "441900101002", b)]}
    city = parse_hierarchy(doc)
    index = GridIndex(city, cell_deg=0.004)
    rng = np.random.default_rng(8)
    lons, lats = rng.uniform(112.998, 113.015, 3000), rng.uniform(22.998, 23.021, 3000)
    want = brute_force(city, lons, lats)
    assert {None, "441900101001001", "441900101002001"} == set(want)
    assert [index.locate_code(x, y) for x, y in zip(lons, lats, strict=True)] == want
    assert index.locate_many(lons, lats) == want


def test_locate_batch_gives_locates_answers_near_borders_and_on_vertices(demo_city, index):
    # the gateway places whole frames with locate_batch: every answer must be locate's own,
    # also for points exactly on grid vertices and on raster cell lines
    rng = np.random.default_rng(6)
    grids = [demo_city.shapes[c] for c in rng.choice(index.codes, 300, replace=False)]
    edge = shapely.get_coordinates(shapely.line_interpolate_point(
        shapely.boundary(grids), rng.uniform(0, 1, 300), normalized=True))
    vertices = shapely.get_coordinates(shapely.boundary(grids[:40]))
    cell_line = np.column_stack([index.x0 + index.cell * rng.integers(0, index.nx, 200),
                                 rng.uniform(index.y0, index.y0 + index.cell * index.ny, 200)])
    near = edge + rng.normal(0, 0.0001, edge.shape)
    pts = np.vstack([edge, near, vertices, cell_line, np.column_stack(random_points(
        demo_city, 1000, seed=7))])
    lons, lats = pts[:, 0].copy(), pts[:, 1].copy()
    want = [index.locate(x, y) for x, y in zip(lons.tolist(), lats.tolist(), strict=True)]
    assert sum(w is not None for w in want) > 1500
    assert index.locate_batch(lons, lats) == want
    assert index.locate_batch(lons[:0], lats[:0]) == []
