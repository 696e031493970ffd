"""The basemap section: presets with their datum, GRIDWATCH_TILES, and bad values that stop
start-up with the field and the reason."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from gridwatch.config import load_config
from tests.feeds.geo.tile_archives import make_mbtiles


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No GRIDWATCH_… from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("GRIDWATCH_") or name == "REDIS_URL":
            monkeypatch.delenv(name)


def bad(monkeypatch, **env: str) -> str:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SystemExit) as e:
        load_config()
    return str(e.value)


def test_no_basemap_by_default():
    assert load_config().dashboard().basemap_view is None


def test_presets_carry_their_datum(monkeypatch):
    monkeypatch.setenv("GRIDWATCH_BASEMAP__PROVIDER", "tianditu")
    monkeypatch.setenv("GRIDWATCH_BASEMAP__TK", "k123")
    bm = load_config().dashboard().basemap_view
    assert bm.datum == "cgcs2000" and len(bm.layers) == 2  # vector + annotation
    assert "LAYER=vec" in bm.layers[0].url and "LAYER=cva" in bm.layers[1].url
    assert all("tk=k123" in x.url and x.subdomains == "01234567" for x in bm.layers)
    monkeypatch.setenv("GRIDWATCH_BASEMAP__PROVIDER", "amap")
    bm = load_config().dashboard().basemap_view
    assert bm.datum == "gcj02" and bm.layers[0].subdomains == "1234"
    monkeypatch.setenv("GRIDWATCH_BASEMAP__PROVIDER", "osm")
    assert load_config().dashboard().basemap_view.datum == "wgs84"
    monkeypatch.setenv("GRIDWATCH_BASEMAP__PROVIDER", "xyz")
    monkeypatch.setenv("GRIDWATCH_BASEMAP__URL", "https://t{s}.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("GRIDWATCH_BASEMAP__DATUM", "GCJ-02")
    assert load_config().dashboard().basemap_view.datum == "gcj02"


def test_a_local_archive_wins_with_its_datum(monkeypatch, tmp_path: Path):
    path = make_mbtiles(tmp_path / "city.mbtiles", [(0, 0, 0)])
    monkeypatch.setenv("GRIDWATCH_TILES", str(path))
    monkeypatch.setenv("GRIDWATCH_TILES_DATUM", "gcj02")
    monkeypatch.setenv("GRIDWATCH_BASEMAP__PROVIDER", "osm")
    cfg = load_config()
    assert cfg.basemap.tiles == path
    bm = cfg.dashboard().basemap_view
    assert bm.datum == "gcj02" and bm.layers[0].url == "/tiles/{z}/{x}/{y}"
    assert bm.layers[0].max_zoom == 0  # the archive's deepest zoom: deeper are scaled


def test_bad_basemaps_stop_start_up_with_field_and_reason(monkeypatch, tmp_path: Path):
    msg = bad(monkeypatch, GRIDWATCH_BASEMAP__PROVIDER="baidu")
    assert "basemap.provider" in msg and "tianditu" in msg
    msg = bad(monkeypatch, GRIDWATCH_BASEMAP__PROVIDER="tianditu")
    assert msg.startswith("gridwatch: bad settings: basemap") and "tk" in msg
    msg = bad(monkeypatch, GRIDWATCH_BASEMAP__PROVIDER="xyz")
    assert "basemap" in msg and "datum" in msg
    monkeypatch.setenv("GRIDWATCH_BASEMAP__PROVIDER", "none")
    (tmp_path / "broken.pmtiles").write_bytes(b"no archive")
    msg = bad(monkeypatch, GRIDWATCH_TILES=str(tmp_path / "broken.pmtiles"))
    assert "basemap.tiles" in msg and "not a PMTiles" in msg
    msg = bad(monkeypatch, GRIDWATCH_TILES=str(tmp_path / "missing.mbtiles"))
    assert "basemap.tiles" in msg and "no such file" in msg
    msg = bad(monkeypatch, GRIDWATCH_TILES=str(tmp_path / "broken.pmtiles"),
              GRIDWATCH_TILES_DATUM="bd09")
    assert "basemap.tiles_datum" in msg and "unknown datum" in msg
