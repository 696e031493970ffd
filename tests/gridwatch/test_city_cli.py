"""`gridwatch city import|subdivide|roster` as a user runs them: the console script, from a cwd,
with a relative --data-dir, then `gridwatch demo` on the city made; a refused import leaves the
city file as it was."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import shapely

from feeds.geo.hierarchy import load_hierarchy
from feeds.geo.locate import GridIndex
from feeds.geo.roster import load_officers
from tests.feeds.geo import city_files as cf
from tests.support import ADMIN_BASIC, running_demo

pytest.importorskip("pyogrio")
ROOT = Path(__file__).resolve().parents[2]


def _script() -> Path:
    """The checkout's .venv/bin/gridwatch (make install), else the running venv's."""
    local = ROOT / ".venv" / "bin" / "gridwatch"
    return local if local.exists() else Path(sys.executable).parent / "gridwatch"


def gridwatch(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("GRIDWATCH_CONFIG", None)
    return subprocess.run([str(_script()), "city", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=60)


@pytest.fixture()
def src(tmp_path: Path) -> Path:
    d = tmp_path / "boundaries"
    d.mkdir()
    cf.datav(d / "shenzhen_districts.json", cf.districts(), cf.CITY)
    cf.gis_file(d / "districts.shp", cf.districts(), cf.CITY)
    return d


def test_three_commands_bring_a_city_in(src: Path, tmp_path: Path):
    run = gridwatch(tmp_path, "import", "boundaries/shenzhen_districts.json", "--level",
                    "district", "--city-name", "深圳市", "--data-dir", "sz")
    assert run.returncode == 0, run.stderr
    assert "(DataV) → gcj02" in run.stderr and "district: 3 regions, 0 problems" in run.stderr
    assert "1 city, 3 district, 0 street" in run.stdout
    run = gridwatch(tmp_path, "subdivide", "--below", "district", "--levels",
                    "street,community,grid", "--sizes", "2,3,2", "--data-dir", "sz")
    assert run.returncode == 0, run.stderr
    assert "grid: 36 regions in 18 parents" in run.stderr
    run = gridwatch(tmp_path, "roster", "--per-grid", "3", "--data-dir", "sz")
    assert run.returncode == 0, run.stderr
    assert "108 officers in 36 grids" in run.stdout
    again = gridwatch(tmp_path, "roster", "--per-grid", "2", "--data-dir", "sz")
    assert again.returncode == 2 and "pass --force to replace it" in again.stderr
    fresh = tmp_path / "sz2"
    fresh.mkdir()
    for name in ("city.geojson", "officers.csv"):
        (fresh / name).write_bytes((tmp_path / "sz" / name).read_bytes())
    stale = gridwatch(tmp_path, "subdivide", "--below", "street", "--sizes", "2,1",
                      "--data-dir", "sz2")
    assert stale.returncode == 0
    assert re.search(r"note: \d+ officers of \S*sz2/officers.csv are in grids the city no "
                     r"longer has: run gridwatch city roster --force", stale.stderr)
    city = load_hierarchy(tmp_path / "sz" / "city.geojson")
    officers = load_officers(tmp_path / "sz" / "officers.csv")
    assert {o.grid for o in officers} == {g.code for g in city.hierarchy.at_level("grid")}
    placed = GridIndex(city).locate(113.95, 22.56)  # in 南山区, the enclave in 福田区's hole
    assert placed is not None and city.hierarchy.ancestor_at(placed.grid, "district") == cf.NANSHAN
    assert city.shapes[placed.grid].contains(shapely.Point(113.95, 22.56))
    with running_demo(tmp_path / "sz", tmp_path / "run", "--no-sim", "--history-days", "0",
                      cwd=tmp_path) as demo:
        summary = _get_json(f"{demo.url}/api/v1/summary")
        assert summary["region"] == {"code": cf.CITY, "name": "深圳市", "level": "city"}
        assert summary["counts"]["regions"] == {"city": 1, "district": 3, "street": 6,
                                                "community": 18, "grid": 36}
        assert summary["counts"]["officers"] == 108
        assert {c["code"] for c in summary["children"]} == set(cf.districts())
        region = _get_json(f"{demo.url}/api/v1/regions/{cf.LUOHU}")
        assert region["level_name"] == "区" and len(region["children"]) == 2


def _get_json(url: str) -> dict:
    req = urllib.request.Request(url, headers={"Authorization": ADMIN_BASIC})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_a_refused_import_names_its_problems_and_changes_nothing(src: Path, tmp_path: Path):
    assert gridwatch(tmp_path, "import", "boundaries/districts.shp", "--level", "district",
                     "--city-code", cf.CITY, "--city-name", "深圳市",
                     "--data-dir", "sz").returncode == 0
    before = (tmp_path / "sz" / "city.geojson").read_bytes()
    box = cf._box
    streets = {"440304001": ("园岭街道", box(113.90, 22.50, 113.96, 22.62).difference(cf.HOLE)),
               "440304002": ("华富街道", box(113.95, 22.50, 114.00, 22.60).difference(cf.HOLE)),
               "440303001": ("东门街道", box(114.00, 22.50, 114.12, 22.62))}
    cf.datav(src / "streets.json", streets, None, {c: c[:6] for c in streets})
    run = gridwatch(tmp_path, "import", "boundaries/streets.json", "--level", "street",
                    "--data-dir", "sz")
    assert run.returncode == 1
    err = run.stderr
    assert "street: 3 regions, " in err and "refused: " in err and "is unchanged" in err
    assert "overlap: 440304001 " in err and "overlaps its sibling 440304002" in err
    assert "gap: 440304 " in err and "gap: 440303 " in err  # 福田's north strip, 罗湖's island
    assert "outside: 440303001 " in err and "outside its parent 440303" in err
    assert " km² at 11" in err  # areas and places
    assert (tmp_path / "sz" / "city.geojson").read_bytes() == before
    bad = gridwatch(tmp_path, "import", "boundaries/streets.json", "--level", "street",
                    "--crs", "EPSG:99999", "--data-dir", "sz")
    assert bad.returncode == 2 and "EPSG:99999" in bad.stderr
