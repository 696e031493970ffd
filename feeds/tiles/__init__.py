"""Basemaps: named tile providers with their datum, and local MBTiles / PMTiles archives."""
