"""Officers clustered per viewport: counts per town or village, cells, single officers."""
from __future__ import annotations

import numpy as np
import pytest

from domain.model import Officer
from feeds.live.clusters import SINGLE_MAX, OfficerIndex, View
from feeds.live.context import CityContext


@pytest.fixture(scope="module")
def crowd(city_ctx: CityContext) -> tuple[OfficerIndex, np.ndarray, np.ndarray]:
    """40,000 officers around their grids' label points (seeded), with their positions."""
    h = city_ctx.hierarchy
    grids = sorted({o.grid for o in city_ctx.roster.values()})
    rng = np.random.default_rng(2)
    roster = [Officer(f"P{i:06d}", "", grids[i % len(grids)]) for i in range(40_000)]
    index = OfficerIndex(h, roster)
    lon = np.array([h[o.grid].centre[0] for o in roster]) + rng.normal(0, 0.002, len(roster))
    lat = np.array([h[o.grid].centre[1] for o in roster]) + rng.normal(0, 0.002, len(roster))
    for i, o in enumerate(roster):
        if i % 10:  # one in ten has not reported yet
            index.update(o.officer_id, float(lon[i]), float(lat[i]), i % 3 == 0)
    return index, lon, lat


def whole(city_ctx: CityContext, zoom: float) -> View:
    minx, miny, maxx, maxy = city_ctx.city.shapes[city_ctx.hierarchy.city.code].bounds
    return View(minx, miny, maxx, maxy, zoom)


def total(features: list[dict]) -> int:
    return sum(f["properties"].get("point_count", 1) for f in features)


def test_city_zoom_counts_per_town_at_its_label_point(crowd, city_ctx) -> None:
    index, _, _ = crowd
    feats = index.features(whole(city_ctx, 10), city_ctx.hierarchy.city.code)
    assert len(feats) == len(city_ctx.towns)
    assert total(feats) == 36_000
    for f in feats:
        p = f["properties"]
        assert p["kind"] == "town" and p["cluster"] and 0 < p["on"] < p["point_count"]
        centre = city_ctx.hierarchy[p["code"]].centre
        assert f["geometry"]["coordinates"] == [round(centre[0], 6), round(centre[1], 6)]


def test_closer_in_counts_per_village_and_a_town_page_sees_only_its_town(crowd,
                                                                         city_ctx) -> None:
    index, _, _ = crowd
    h = city_ctx.hierarchy
    feats = index.features(whole(city_ctx, 12.5), h.city.code)  # 593 villages: too many
    kinds = {f["properties"].get("kind") for f in feats}  # single officers have none
    assert "cell" in kinds and kinds <= {"cell", None}
    x, y = h.city.centre  # a 1920 x 1080 screen at zoom 12.5 is 0.46 x 0.24 degrees
    screen = index.features(View(x - 0.23, y - 0.12, x + 0.23, y + 0.12, 12.5), h.city.code)
    assert 0 < len(screen) <= 350
    assert total(feats) == 36_000
    minx, miny, maxx, maxy = city_ctx.city.shapes[city_ctx.towns[5]].bounds
    feats = index.features(View(minx, miny, maxx, maxy, 12.5), h.city.code)
    assert {f["properties"]["kind"] for f in feats} == {"village"}
    assert all(minx - 0.1 <= f["geometry"]["coordinates"][0] <= maxx + 0.1 for f in feats)
    town = city_ctx.towns[3]
    feats = index.features(whole(city_ctx, 10), town)
    assert feats and all(f["properties"]["code"].startswith(town) for f in feats)
    assert total(feats) == sum(1 for i, g in enumerate(index.homes.tolist())
                               if g.startswith(town) and i % 10)


def test_near_zoom_cells_then_single_officers(crowd, city_ctx) -> None:
    index, lon, lat = crowd
    town = city_ctx.hierarchy[city_ctx.towns[0]].centre
    view = View(town[0] - 0.03, town[1] - 0.02, town[0] + 0.03, town[1] + 0.02, 14)
    inside = [i for i in range(len(lon)) if i % 10 and view.west - 0.006 <= lon[i] <=
              view.east + 0.006 and view.south - 0.004 <= lat[i] <= view.north + 0.004]
    assert len(inside) > SINGLE_MAX
    feats = index.features(view, city_ctx.hierarchy.city.code)
    assert total(feats) == len(inside)
    assert len(feats) < len(inside) / 3 and any(f["properties"].get("cluster") for f in feats)
    small = View(town[0] - 0.002, town[1] - 0.001, town[0] + 0.002, town[1] + 0.001, 18)
    feats = index.features(small, city_ctx.hierarchy.city.code)
    assert feats and all("id" in f["properties"] and "cluster" not in f["properties"]
                         for f in feats)


def test_view_parse_refuses_nonsense() -> None:
    ok = {"west": 113.5, "south": 22.6, "east": 114.2, "north": 23.1, "zoom": 10}
    assert View.parse(ok) == View(113.5, 22.6, 114.2, 23.1, 10.0)
    for bad in ({**ok, "west": 115}, {**ok, "zoom": 40}, {**ok, "north": "x"},
                {"west": 1}, {**ok, "south": float("nan")}):
        assert View.parse(bad) is None
