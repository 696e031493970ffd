"""The `basemap` section of the config tree: a named tile provider with its datum, or a local
archive (`GRIDWATCH_TILES`, `GRIDWATCH_TILES_DATUM`)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from domain.basemap import Basemap, TileLayer
from feeds.geo.datum import DATUMS, normalize_datum
from feeds.geo.tiles import deepest_zoom, open_archive

Datum = Literal["wgs84", "gcj02", "cgcs2000"]
TIANDITU = "https://t{s}.tianditu.gov.cn/%s_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0" \
           "&LAYER=%s&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}" \
           "&TILECOL={x}&tk=%s"
AMAP = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8" \
       "&x={x}&y={y}&z={z}"
OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
LOCAL = "/tiles/{z}/{x}/{y}"


class BasemapConfig(BaseModel):
    """The basemap: `provider` none | tianditu | amap | osm | xyz, or a local `tiles` archive
    (which wins). Bad values stop start-up with the field and the reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["none", "tianditu", "amap", "osm", "xyz"] = Field(
        default="none", description="named tile provider; none: the dark background")
    tk: SecretStr | None = Field(default=None, min_length=1, max_length=128,
                                 description="Tianditu key (required for tianditu)")
    url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://",
                            description="xyz: tile URL template with {z} {x} {y} (and {s})")
    subdomains: str = Field(default="", max_length=16, description="xyz: the {s} values")
    datum: Datum | None = Field(default=None, description="xyz: the tiles' datum (required)")
    attribution: str = Field(default="", max_length=256, description="xyz: attribution text")
    max_zoom: int = Field(default=18, ge=1, le=22, description="deepest zoom the tiles have")
    tiles: Path | None = Field(default=None, description="a local .mbtiles or .pmtiles archive "
                                                         "served at /tiles/{z}/{x}/{y}")
    tiles_datum: Datum = Field(default="wgs84", description="the local archive's datum")

    @field_validator("datum", "tiles_datum", mode="before")
    @classmethod
    def _datum(cls, value: str | None) -> str | None:
        if not isinstance(value, str):
            return value
        datum = normalize_datum(value)
        if datum not in DATUMS:  # BD-09: Baidu's tiles have their own projection and grid
            raise ValueError(f"unknown datum {value!r} for a basemap; expected one of "
                             f"{', '.join(DATUMS)}")
        return datum

    @field_validator("tiles")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            open_archive(value.expanduser())  # reads the header: fails early
        return value

    @model_validator(mode="after")
    def _complete(self) -> BasemapConfig:
        if self.provider == "tianditu" and self.tk is None:
            raise ValueError("tk: a Tianditu key is required for provider tianditu")
        if self.provider == "xyz" and (self.url is None or self.datum is None):
            raise ValueError("url and datum: provider xyz needs a URL template and its datum")
        if self.url and not all(f"{{{k}}}" in self.url for k in "zxy"):
            raise ValueError("url: the template needs {z}, {x} and {y}")
        return self

    def basemap(self, legacy_url: str | None = None) -> Basemap | None:
        """The layers to draw, or None for the dark background (`legacy_url`: web.tile_url)."""
        if self.tiles is not None:
            deepest = deepest_zoom(self.tiles.expanduser())
            return Basemap((TileLayer(LOCAL, max_zoom=min(self.max_zoom, deepest)),),
                           self.tiles_datum)
        if self.provider == "tianditu":
            key = self.tk.get_secret_value() if self.tk else ""
            return Basemap(tuple(TileLayer(TIANDITU % (name, name, key), "01234567",
                                           "天地图", self.max_zoom)
                                 for name in ("vec", "cva")), "cgcs2000")
        if self.provider == "amap":
            return Basemap((TileLayer(AMAP, "1234", "高德地图", self.max_zoom),), "gcj02")
        if self.provider == "osm":
            return Basemap((TileLayer(OSM, "", "© OpenStreetMap", self.max_zoom),), "wgs84")
        if self.provider == "xyz" and self.url:
            return Basemap((TileLayer(self.url, self.subdomains, self.attribution,
                                      self.max_zoom),), self.datum)
        return Basemap((TileLayer(legacy_url),), None) if legacy_url else None
