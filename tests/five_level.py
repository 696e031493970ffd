"""A five-level test city (市 → 区 → 街道 → 社区 → 网格) made from the demo city's shapes.

Its districts group the demo's towns; streets, communities and grids are the demo's towns,
villages and grids under new codes. As in real cities, a district's code does not extend its
city's (district 440391 of city 440390, its streets 440391001 …): nothing may derive a parent
or a level from a code's length; the file declares its levels.
"""
from __future__ import annotations

from pathlib import Path

import shapely

from domain.model import Officer
from domain.regions import Hierarchy, Levels, LevelSpec, Region
from feeds.geo.hierarchy import CityGeo, label_point, load_hierarchy, save_hierarchy
from feeds.geo.roster import load_officers, save_officers

CITY = "440390"
LEVELS = Levels((LevelSpec("city", "市", "City"), LevelSpec("district", "区", "District"),
                 LevelSpec("street", "街道", "Street"), LevelSpec("community", "社区", "Community"),
                 LevelSpec("grid", "网格", "Grid")), shard="street", dispatch="street")
DISTRICTS = 4


def _codes(demo: Hierarchy) -> dict[str, str]:
    """New code of every demo region below the city: district = 44039d, then 3 digits a level."""
    out: dict[str, str] = {}
    towns = [t.code for t in demo.at_level("town")]
    for i, town in enumerate(towns):
        out[town] = f"44039{1 + i * DISTRICTS // len(towns)}{i + 1:03d}"
        for v in demo.children_of(town):
            out[v] = out[town] + v[-3:]
            for g in demo.children_of(v):
                out[g] = out[v] + g[-3:]
    return out


def _district_regions(demo: CityGeo, codes: dict[str, str]) -> tuple[list[Region], dict]:
    shapes: dict = {}
    for town in demo.hierarchy.at_level("town"):
        shapes.setdefault(codes[town.code][:6], []).append(demo.shapes[town.code])
    names = "福中南北"
    regions, out = [], {}
    for k, (d, parts) in enumerate(sorted(shapes.items())):
        geom = shapely.coverage_union_all(parts)
        out[d] = geom
        regions.append(Region(d, f"{names[k]}田区", "district", CITY, f"Futian {k + 1}",
                              label_point(geom)))
    return regions, out


def five_level_city(demo: CityGeo) -> CityGeo:
    """The five-level city: the demo's shapes under four districts and new codes."""
    codes = _codes(demo.hierarchy)
    key = {"town": "street", "village": "community", "grid": "grid"}
    districts, shapes = _district_regions(demo, codes)
    regions = [Region(CITY, "深港市", "city", None, "Shengang", demo.hierarchy.city.centre),
               *districts]
    shapes[CITY] = demo.shapes[demo.hierarchy.city.code]
    for old, new in codes.items():
        r = demo.hierarchy[old]
        parent = new[:6] if r.level == "town" else codes[r.parent or ""]
        regions.append(Region(new, r.name, key[r.level], parent, r.name_en, r.centre))
        shapes[new] = demo.shapes[old]
    return CityGeo(Hierarchy.build(regions, demo.datum, LEVELS), shapes)


def write_five_level_city(demo_dir: Path, out_dir: Path) -> CityGeo:
    """Write the five-level city.geojson and its roster (the demo's officers) into out_dir."""
    demo = load_hierarchy(demo_dir / "city.geojson")
    city = five_level_city(demo)
    codes = _codes(demo.hierarchy)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_hierarchy(city, out_dir / "city.geojson")
    officers = [Officer(o.officer_id, o.name, codes[o.grid])
                for o in load_officers(demo_dir / "officers.csv")]
    save_officers(officers, out_dir / "officers.csv")
    return load_hierarchy(out_dir / "city.geojson")
