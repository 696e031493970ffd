"""GET /tiles/{z}/{x}/{y}: the local basemap archive (GRIDWATCH_TILES), XYZ rows, login
required like every page; 404 for a tile the archive does not have."""
from __future__ import annotations

import logging
from pathlib import Path

import flask

from feeds.geo.tiles import MBTiles, PMTiles, open_archive

log = logging.getLogger(__name__)
MAX_Z = 24
CACHE = "private, max-age=86400"  # tiles of an archive do not change while it is served


def blueprint(path: Path | None) -> flask.Blueprint:
    """The tiles route; with no archive configured every tile is 404."""
    bp = flask.Blueprint("tiles", __name__)
    archive: MBTiles | PMTiles | None = open_archive(path) if path is not None else None
    if archive is not None:
        log.info("basemap: serving %s at /tiles/{z}/{x}/{y}", path)

    @bp.get("/tiles/<int:z>/<int:x>/<int:y>")
    def tile(z: int, x: int, y: int) -> flask.Response:
        found = None
        if archive is not None and z <= MAX_Z and x < (1 << z) and y < (1 << z):
            found = archive.tile(z, x, y)
        if found is None:
            return flask.Response(b'{"error":"no such tile"}', 404,
                                  {"Content-Type": "application/json"})
        data, media = found
        return flask.Response(data, 200, {"Content-Type": media, "Cache-Control": CACHE})

    return bp
