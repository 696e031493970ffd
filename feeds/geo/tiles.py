"""Local basemap archives for isolated networks: MBTiles (SQLite, TMS rows) and PMTiles."""
from __future__ import annotations

import functools
import sqlite3
import threading
from pathlib import Path

from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import MagicNumberNotFound, SpecVersionUnsupported

# the first bytes of a tile → its Content-Type
MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"RIFF", "image/webp"),
         (b"\x1f\x8b", "application/x-protobuf"))
PMTILES_TYPES = {1: "application/x-protobuf", 2: "image/png", 3: "image/jpeg", 4: "image/webp",
                 5: "image/avif"}


class BadArchive(ValueError):
    """A tile archive that cannot be read."""


def content_type(data: bytes, default: str = "application/octet-stream") -> str:
    """The Content-Type of a tile from its first bytes."""
    return next((ct for magic, ct in MAGIC if data.startswith(magic)), default)


class MBTiles:
    """An MBTiles file, read-only; `tile(z, x, y)` takes XYZ rows (MBTiles stores TMS)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        try:
            row = self._db().execute("SELECT count(*), max(zoom_level) FROM tiles").fetchone()
        except sqlite3.Error as e:
            raise BadArchive(f"{path}: not an MBTiles archive ({e})") from None
        self.count, self.max_zoom = int(row[0]), int(row[1] or 0)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                                  check_same_thread=False)
        return db

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile at XYZ (z, x, y) and its Content-Type, or None."""
        row = self._db().execute(
            "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
            (z, x, (1 << z) - 1 - y)).fetchone()
        if row is None:
            return None
        data = bytes(row[0])
        return data, content_type(data)


class PMTiles:
    """A PMTiles (v3) archive, read-only, memory-mapped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file = path.open("rb")
            self._reader = Reader(MmapSource(self._file))
            header = self._reader.header()
        except (OSError, ValueError, KeyError, MagicNumberNotFound,
                SpecVersionUnsupported) as e:
            raise BadArchive(f"{path}: not a PMTiles v3 archive ({e!r})") from None
        kind = getattr(header["tile_type"], "value", header["tile_type"])
        if kind not in PMTILES_TYPES:
            raise BadArchive(f"{path}: PMTiles of unknown tile type {kind}")
        self.media = PMTILES_TYPES[kind]
        self.max_zoom = int(header["max_zoom"])
        self._lock = threading.Lock()

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile at XYZ (z, x, y) and its Content-Type, or None."""
        with self._lock:
            data = self._reader.get(z, x, y)
        return None if data is None else (data, self.media)


@functools.lru_cache(maxsize=8)
def deepest_zoom(path: Path) -> int:
    """The deepest zoom an archive holds (read once): the map scales its tiles beyond."""
    return open_archive(path).max_zoom


def open_archive(path: Path) -> MBTiles | PMTiles:
    """The archive at `path` by its suffix; BadArchive if it is missing or unreadable."""
    if not path.is_file():
        raise BadArchive(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".mbtiles":
        return MBTiles(path)
    if suffix == ".pmtiles":
        return PMTiles(path)
    raise BadArchive(f"{path}: expected an .mbtiles or .pmtiles archive")
