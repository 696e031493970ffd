"""A basemap as the map draws it: tile layers and the datum of their tiles."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TileLayer:
    """One tile layer as Leaflet takes it."""

    url: str
    subdomains: str = ""
    attribution: str = ""
    max_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """What the map draws under its layers, and the datum those tiles are in."""

    layers: tuple[TileLayer, ...]
    datum: str | None  # None: undeclared (the legacy tile_url): shapes are not converted
