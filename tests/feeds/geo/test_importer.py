"""`city import` underneath: a city's Shapefile (EPSG:4526) and DataV GeoJSON into one hierarchy,
every problem of a bad level named with its place and area, then trial grids and a roster."""
from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import shapely
from shapely.geometry import mapping

from feeds.geo import importer as im
from feeds.geo.hierarchy import CityGeo, load_hierarchy, save_hierarchy
from feeds.geo.locate import GridIndex
from feeds.geo.sources import Fields, SourceError, read_source
from feeds.geo.validate import area_m2
from feeds.sim import subdivide as sd
from feeds.sim.citygen import generate_officers
from tests.feeds.geo import city_files as cf

pytest.importorskip("pyogrio")


def _import(city: CityGeo | None, path: Path, level: str, **kw) -> im.ImportResult:
    fields = kw.pop("fields", Fields())
    crs = kw.pop("crs", None)
    source = read_source(path, city.datum if city else None, fields, crs)
    return im.import_level(city, source, im.ImportOptions(level, **kw))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("sources")
    cf.datav(d / "city.json", {cf.CITY: ("深圳市", cf.city_shape())}, "440000")
    cf.datav(d / "districts.json", cf.districts(), cf.CITY)
    cf.gis_file(d / "districts.shp", cf.districts(), cf.CITY)
    cf.gis_file(d / "districts.gpkg", cf.districts(), cf.CITY, 4490, "GPKG",
                ("code", "name", "parent_code"))
    return d


@pytest.fixture(scope="module")
def from_shp(files: Path) -> CityGeo:
    city = _import(None, files / "city.json", "city").city
    res = _import(city, files / "districts.shp", "district",
                  fields=Fields(code="XZQDM", name="XZQMC", parent="PARENT"))
    assert res.problems == () and res.city is not None
    return res.city


def test_a_shapefile_in_gauss_krueger_lands_on_the_datav_shapes(files: Path, from_shp):
    res = _import(None, files / "districts.json", "district", city_name="深圳市")
    assert res.problems == () and res.city is not None
    datav = res.city
    assert datav.datum == from_shp.datum == "gcj02"
    assert datav.hierarchy.city.code == cf.CITY and datav.hierarchy.city.name == "深圳市"
    for code, (name, truth) in cf.districts().items():
        assert from_shp.hierarchy[code].name == name
        for city in (datav, from_shp):
            assert city.shapes[code].symmetric_difference(truth).area < 1e-9 * truth.area
    assert len(shapely.get_parts(from_shp.shapes[cf.LUOHU])) == 2  # the island kept
    futian = shapely.get_parts(from_shp.shapes[cf.FUTIAN])
    assert len(futian) == 1 and len(futian[0].interiors) == 1  # the hole kept


def test_a_geopackage_in_cgcs2000_imports_with_no_field_flags(files: Path, from_shp):
    city = _import(None, files / "city.json", "city").city
    res = _import(city, files / "districts.gpkg", "district")
    assert res.problems == () and res.city is not None
    for code in cf.districts():
        got, want = res.city.shapes[code], from_shp.shapes[code]
        assert got.symmetric_difference(want).area < 1e-9 * want.area


def test_baidu_coordinates_come_in_through_gcj02(files: Path, from_shp, tmp_path: Path):
    to_bd = cf.np_transform("gcj02", "bd09")
    baidu = {c: (n, to_bd(g)) for c, (n, g) in cf.districts().items()}
    path = cf.datav(tmp_path / "baidu.json", baidu, cf.CITY)
    city = _import(None, files / "city.json", "city").city
    res = _import(city, path, "district", crs="bd09")
    assert res.problems == () and res.city is not None
    shift = shapely.hausdorff_distance(baidu[cf.LUOHU][1], from_shp.shapes[cf.LUOHU])
    assert shift > 0.005  # BD-09 lies ~ 1 km off GCJ-02 here
    for code in cf.districts():
        assert shapely.hausdorff_distance(res.city.shapes[code], from_shp.shapes[code]) < 2e-6


def test_a_gbk_shapefile_without_its_cpg_reads_with_encoding(from_shp, tmp_path: Path):
    path = cf.gis_file(tmp_path / "gbk.shp", cf.districts(), cf.CITY, encoding="GBK")
    (tmp_path / "gbk.cpg").unlink()
    names = {r.code: r.name for r in read_source(path, "gcj02", encoding="GBK").regions}
    assert names == {c: n for c, (n, _) in cf.districts().items()}


def test_datav_stays_gcj02_when_its_fields_are_named(files: Path, from_shp):
    src = read_source(files / "districts.json", "gcj02", Fields(code="adcode", name="name"))
    assert src.datav and src.crs == "gcj02"
    got = {r.code: r.geom for r in src.regions}
    assert got[cf.LUOHU].symmetric_difference(from_shp.shapes[cf.LUOHU]).area < 1e-12


def test_a_shapefile_read_as_the_wrong_datum_is_refused_by_name(files: Path):
    with pytest.raises(SourceError, match="not lon/lat .*--crs EPSG"):
        read_source(files / "districts.shp", "gcj02", crs="wgs84")
    with pytest.raises(SourceError, match="no field 'CODE_X' for the code; the file has XZQDM"):
        read_source(files / "districts.shp", "gcj02", Fields(code="CODE_X"))


def _bad_streets(path: Path) -> Path:
    """Streets with one of each problem."""
    box = cf._box
    streets = {
        "440304001": ("园岭街道", box(113.90, 22.50, 113.951, 22.62).difference(cf.HOLE)),
        "440304002": ("华富街道", box(113.95, 22.50, 114.00, 22.60).difference(cf.HOLE)),
        "440303001": ("东门街道", shapely.union(box(114.00, 22.50, 114.11, 22.62), cf.ISLAND)),
        "440305001": ("南头街道", cf.HOLE),
        "440399001": ("无主街道", box(114.2, 22.5, 114.21, 22.51)),
        "440305002": ("蝴蝶街道", shapely.Polygon([(113.94, 22.55), (113.96, 22.57),
                                                   (113.96, 22.55), (113.94, 22.57)])),
    }
    parents = {c: c[:6] for c in streets}
    return cf.datav(path, streets, None, parents)


def test_every_problem_of_a_level_is_named_with_place_and_area(files: Path, from_shp, tmp_path):
    res = _import(from_shp, _bad_streets(tmp_path / "streets.json"), "street")
    assert res.refused
    by = {(p.kind, p.code, p.other): p for p in res.problems}
    overlap = by[("overlap", "440304001", "440304002")]
    # 0.001° wide, from 22.50 to 22.60 less the hole's 0.02°: ≈ 0.91 km²
    assert overlap.area_m2 == pytest.approx(0.001 * 0.08 * 111195 ** 2 * 0.923, rel=0.02)
    assert 113.95 < overlap.at[0] < 113.951 and 22.50 < overlap.at[1] < 22.62
    gaps = [p for p in res.problems if p.kind == "gap"]
    futian_gap = next(p for p in gaps if p.code == cf.FUTIAN)
    assert futian_gap.area_m2 == pytest.approx(0.05 * 0.02 * 111195 ** 2 * 0.923, rel=0.05)
    assert 22.60 < futian_gap.at[1] < 22.62
    outside = by[("outside", "440303001", cf.LUOHU)]
    assert 114.10 < outside.at[0] < 114.11 and outside.area_m2 > 1e6
    assert "outside its parent 440303" in outside.message()
    assert ("unknown-parent", "440399001", "") in by
    assert "names parent 440399, which is no district" in by[
        ("unknown-parent", "440399001", "")].message()
    assert by[("repaired", "440305002", "")].fatal is False
    assert ("overlap", "440305001", "440305002") in by  # the repaired bowtie overlaps its sibling
    strict = _import(from_shp, tmp_path / "streets.json", "street", repair=False)
    invalid = [p for p in strict.problems if p.kind == "invalid"]
    assert [p.code for p in invalid] == ["440305002"] and "Self-intersection" in invalid[0].detail


def test_duplicate_codes_and_unusable_features_are_named(from_shp, tmp_path: Path):
    box = cf._box
    west, east = box(113.90, 22.50, 113.95, 22.62), box(113.95, 22.50, 114.00, 22.62)
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "440304001", "name": "园岭街道",
                                           "parent": cf.FUTIAN}, "geometry": mapping(west)},
        {"type": "Feature", "properties": {"code": "440304001", "name": "华富街道",
                                           "parent": cf.FUTIAN}, "geometry": mapping(east)},
        {"type": "Feature", "properties": {"code": "440304003", "name": "",
                                           "parent": cf.FUTIAN}, "geometry": mapping(east)},
        {"type": "Feature", "properties": {"code": "440304004", "name": "线",
                                           "parent": cf.FUTIAN},
         "geometry": {"type": "LineString", "coordinates": [[113.9, 22.5], [114.0, 22.6]]}},
        {"type": "Feature", "properties": {"code": cf.LUOHU, "name": "罗湖",
                                           "parent": cf.FUTIAN}, "geometry": mapping(east)}]}
    path = tmp_path / "dups.geojson"
    path.write_bytes(orjson.dumps(doc))
    res = _import(from_shp, path, "street", crs="gcj02")
    got = {(p.kind, p.code) for p in res.problems}
    assert {("duplicate", "440304001"), ("no-name", "440304003"),
            ("not-a-polygon", "440304004"), ("duplicate", cf.LUOHU)} <= got
    assert "features 0 and 1 have the same code" in next(
        p.message() for p in res.problems if p.kind == "duplicate" and p.code == "440304001")
    assert res.refused


def test_slivers_under_the_tolerance_are_not_problems(files: Path, from_shp, tmp_path):
    box = cf._box
    streets = {"440304001": ("园岭街道", box(113.90, 22.50, 113.95, 22.62).difference(cf.HOLE)),
               "440304002": ("华富街道", box(113.95, 22.50, 114.0, 22.619999).difference(cf.HOLE))}
    path = cf.datav(tmp_path / "s.json", streets, cf.FUTIAN)
    sliver = area_m2(box(113.95, 22.619999, 114.0, 22.62))  # 5 km × 0.1 m
    assert 100 < sliver < 1e-4 * area_m2(cf.districts()[cf.FUTIAN][1])
    strict = _import(from_shp, path, "street", tolerance=im.Tolerance(1.0, 0.0))
    assert [p.kind for p in strict.problems] == ["gap"]
    loose = _import(from_shp, path, "street")  # default: < 0.01 % of the parent is a sliver
    assert loose.problems == () and loose.city is not None
    assert loose.city.hierarchy.children_of(cf.FUTIAN) == ("440304001", "440304002")


def test_refusals_name_what_to_do(files: Path, from_shp):
    with pytest.raises(sd.SubdivideError, match="--sizes gives 2 numbers for 3 new levels"):
        sd.plan(from_shp, "district", im.level_specs("street,community,grid"), (3, 4))
    with pytest.raises(sd.SubdivideError, match="'county' is not one of the city's levels"):
        sd.plan(from_shp, "county", None, (3,))
    with pytest.raises(im.ImportRefused, match="not one of the city's levels"):
        _import(from_shp, files / "districts.json", "town")
    with pytest.raises(im.ImportRefused, match="no city yet: import the city or the district"):
        _import(None, files / "districts.json", "street")
    res = _import(from_shp, files / "districts.json", "district", repair=False)
    assert res.replaced == 3 and not res.refused  # re-import of a level replaces it
    res = _import(from_shp, files / "districts.shp", "district",
                  fields=Fields(code="XZQDM", name="XZQMC", parent="XZQMC"))
    assert res.refused  # a parent field naming no city is named, not guessed
    assert {p.kind for p in res.problems} == {"unknown-parent"}


def test_a_level_without_parents_lies_in_the_one_region_above(files: Path, from_shp, tmp_path):
    recoded = {str(int(c) + 10): v for c, v in cf.districts().items()}  # 2024's new codes
    path = cf.datav(tmp_path / "orphans.json", recoded, None)
    res = _import(from_shp, path, "district")
    assert res.problems == () and res.replaced == 3  # the old codes go: no overlaps with them
    assert res.city is not None
    assert res.city.hierarchy.children_of(cf.CITY) == ("440313", "440314", "440315")


def test_subdivide_then_roster_then_a_position_lands_in_its_grid(from_shp, tmp_path):
    p = sd.plan(from_shp, "district", im.level_specs("street,community,grid"), (3, 4, 2))
    city = sd.subdivide(from_shp, p)
    h = city.hierarchy
    assert {k: len(h.at_level(k)) for k in h.levels.keys} == {
        "city": 1, "district": 3, "street": 9, "community": 36, "grid": 72}
    assert h.levels.shard == "street" and h[f"{cf.FUTIAN}001"].name == "福田区第1街道"
    assert h[f"{cf.FUTIAN}001001"].name == "福田区第1街道第1社区"
    assert h[f"{cf.FUTIAN}001001001"].name == "福田区第1街道第1社区1号网格"
    island = shapely.Point(114.13, 22.525)
    owner = [g.code for g in h.at_level("grid") if city.shapes[g.code].contains(island)]
    assert len(owner) == 1 and h.ancestor_at(owner[0], "district") == cf.LUOHU
    save_hierarchy(city, tmp_path / "city.geojson")
    loaded = load_hierarchy(tmp_path / "city.geojson")
    index = GridIndex(loaded)
    for lon, lat, district in ((113.95, 22.56, cf.NANSHAN), (113.92, 22.56, cf.FUTIAN),
                               (114.13, 22.525, cf.LUOHU)):
        placed = index.locate(lon, lat)
        assert placed is not None
        assert loaded.hierarchy.ancestor_at(placed.grid, "district") == district
        assert loaded.shapes[placed.grid].contains(shapely.Point(lon, lat))
    officers = generate_officers(loaded, 3 * 72)
    assert len(officers) == 216 and {o.grid for o in officers} == {
        g.code for g in loaded.hierarchy.at_level("grid")}
