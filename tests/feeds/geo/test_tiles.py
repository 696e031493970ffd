"""Local tile archives: MBTiles' TMS rows come back as XYZ, PMTiles read, bad files refused."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from feeds.geo.tiles import BadArchive, open_archive
from tests.feeds.geo.tile_archives import make_mbtiles, make_pmtiles, png

TILES = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (1, 0, 1), (5, 26, 13)]


@pytest.mark.parametrize("make, name", [(make_mbtiles, "a.mbtiles"),
                                        (make_pmtiles, "a.pmtiles")])
def test_tiles_come_back_by_xyz(tmp_path: Path, make, name):
    archive = open_archive(make(tmp_path / name, TILES))
    for z, x, y in TILES:
        data, media = archive.tile(z, x, y)
        assert media == "image/png" and data == png(z, x, y)
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert img.shape == (256, 256, 3)
    assert archive.tile(1, 1, 1) is None and archive.tile(7, 3, 3) is None
    assert archive.max_zoom == 5  # the map scales z5 tiles beyond


def test_mbtiles_rows_are_flipped(tmp_path: Path):
    archive = open_archive(make_mbtiles(tmp_path / "f.mbtiles", [(1, 0, 0)]))
    assert archive.tile(1, 0, 0) is not None  # stored as TMS row 1
    assert archive.tile(1, 0, 1) is None


@pytest.mark.parametrize("name, body, why", [
    ("gone.mbtiles", None, "no such file"), ("x.mbtiles", b"not sqlite", "not an MBTiles"),
    ("x.pmtiles", b"garbage" * 30, "not a PMTiles"), ("x.tif", b"", "expected an .mbtiles")])
def test_unreadable_archives_are_refused(tmp_path: Path, name, body, why):
    path = tmp_path / name
    if body is not None:
        path.write_bytes(body)
    with pytest.raises(BadArchive, match=why):
        open_archive(path)
