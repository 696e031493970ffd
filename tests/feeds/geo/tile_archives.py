"""Small tile archives the tests make: real PNG tiles (OpenCV) in MBTiles and PMTiles."""
from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer


def png(z: int, x: int, y: int) -> bytes:
    """A 256×256 PNG tile whose colour and text tell where it is."""
    img = np.full((256, 256, 3), (40 + 20 * (z % 5), 90 + (x % 7) * 20, 60 + (y % 7) * 25),
                  np.uint8)
    cv2.rectangle(img, (0, 0), (255, 255), (255, 255, 255), 1)
    cv2.putText(img, f"{z}/{x}/{y}", (20, 130), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point at zoom z (Web Mercator)."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return min(n - 1, x), min(n - 1, y)


def tiles_over(bounds: tuple[float, float, float, float], zooms: range
               ) -> Iterator[tuple[int, int, int]]:
    """Every XYZ tile over (west, south, east, north) at the zooms."""
    w, s, e, n = bounds
    for z in zooms:
        x0, y0 = tile_xy(w, n, z)
        x1, y1 = tile_xy(e, s, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y


def make_mbtiles(path: Path, tiles: list[tuple[int, int, int]]) -> Path:
    """An MBTiles file (TMS rows, as the spec stores them) of those XYZ tiles."""
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                     "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER,"
                     " tile_row INTEGER, tile_data BLOB);")
    db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", "test"), ("format", "png")])
    db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)",
                   [(z, x, (1 << z) - 1 - y, png(z, x, y)) for z, x, y in tiles])
    db.commit()
    db.close()
    return path


def make_pmtiles(path: Path, tiles: list[tuple[int, int, int]]) -> Path:
    """A PMTiles v3 archive (raster PNG) of those XYZ tiles."""
    zs = [t[0] for t in tiles]
    with path.open("wb") as f:
        w = Writer(f)
        for tid, (z, x, y) in sorted((zxy_to_tileid(*t), t) for t in tiles):
            w.write_tile(tid, png(z, x, y))
        w.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE,
                    "min_zoom": min(zs), "max_zoom": max(zs), "min_lon_e7": -1800000000,
                    "min_lat_e7": -850000000, "max_lon_e7": 1800000000,
                    "max_lat_e7": 850000000, "center_zoom": min(zs), "center_lon_e7": 0,
                    "center_lat_e7": 0}, {"name": "test"})
    return path
