"""The web app's sections of the config tree (web, wall, push, field) and what create_app
takes."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from domain.basemap import Basemap
from feeds.geo.basemap import BasemapConfig
from feeds.ingest.config import ClientLimits, IngestConfig
from feeds.ops.config import OpsConfig
from feeds.store.config import StoreConfig
from feeds.video.config import VideoConfig

FROZEN = ConfigDict(extra="forbid", frozen=True)


class WebConfig(BaseModel):
    """The Dash app: its port, language, local time, basemap and Open311 key."""

    model_config = FROZEN

    port: int = Field(default=8050, ge=0, le=65535, description="dashboard HTTP port")
    lang: str = Field(default="zh", pattern="^[a-z]{2,3}$",
                      description="default UI language (zh, en or another locale of locales/)")
    timezone: str = Field(default="Asia/Shanghai", max_length=64,
                          description="IANA zone for local times (also the worker's day)")
    tile_url: str | None = Field(default=None, max_length=2048,
                                 description="map tile URL template of an undeclared datum "
                                             "(older form of the basemap section)")
    public_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://[^/?#\s]+/?$",
        description="where browsers reach the dashboard (https://gw.example.cn, behind a proxy "
                    "that serves the push channel at /live on the same origin); under https "
                    "cookies are Secure and __Host- named and the push URL is wss://")
    proxy_hops: int = Field(
        default=0, ge=0, le=8,
        description="trusted reverse proxies in front (X-Forwarded-For/-Proto/-Host of that "
                    "many hops are believed); 0: none, the peer address is the client")
    open311_key: SecretStr | None = Field(
        default=None, min_length=1, max_length=512,
        description="api_key for Open311 POST requests (and GETs with staff notes; without "
                    "it GETs show public fields); unset: every POST is refused (the demo "
                    "prints a random one)")

    @field_validator("public_url")
    @classmethod
    def _no_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class WallConfig(BaseModel):
    """Kiosk walls (`?wall=1`): the defaults a wall's URL parameters override."""

    model_config = FROZEN

    stale_s: float = Field(default=30, ge=3, le=3600,
                           description="feed older than this shows the stale banner")
    dwell_s: float = Field(default=20, ge=3, le=3600, description="seconds per view")
    rotate: str = Field(default="here,children,red", pattern=r"^[a-z,]*$", max_length=64,
                        description="playlist: here, children, red (comma-separated)")


class PushConfig(BaseModel):
    """The live push channel (ws://HOST:PORT/live)."""

    model_config = FROZEN

    port: int = Field(default=8766, ge=0, le=65535, description="live push channel port")
    flush_s: float = Field(default=0.2, ge=0.05, le=10, description="push delta period")
    limits: ClientLimits = Field(default_factory=ClientLimits,
                                 description="the push channel's client limits")
    origins: list[str] = Field(
        default=[], max_length=32,
        description="more Origins that may open the push channel (scheme://host[:port]); "
                    "always accepted: web.public_url's, else the dashboard's own")

    @field_validator("origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for o in value:
            if not re.fullmatch(r"https?://[^/?#\s]+", o):
                raise ValueError(f"an origin is scheme://host[:port], not {o!r}")
        return value


class FieldConfig(BaseModel):
    """The field terminal /m/ (officers' phones): where it reaches the gateway, how often it
    reports its position, how it sends photos."""

    model_config = FROZEN

    gateway_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^wss?://[^\s?#]+$",
        description="terminal gateway as phones reach it (e.g. wss://gw.example.cn/terminal "
                    "behind a proxy); unset: ws(s)://<the page's host>:<ingest.gateway_port>"
                    "/terminal")
    position_s: float = Field(default=10, ge=1, le=3600,
                              description="seconds between the phone's position reports")
    photo_px: int = Field(default=1600, ge=320, le=4096,
                          description="longest side of a photo after the phone resizes it")


class DashboardConfig(BaseModel):
    """The sections the web app reads: what `create_app` takes."""

    model_config = FROZEN

    web: WebConfig = WebConfig()
    wall: WallConfig = WallConfig()
    push: PushConfig = PushConfig()
    video: VideoConfig = VideoConfig()
    store: StoreConfig = StoreConfig()
    ingest: IngestConfig = IngestConfig()
    field: FieldConfig = FieldConfig()
    ops: OpsConfig = OpsConfig()
    basemap: BasemapConfig = BasemapConfig()

    @property
    def basemap_view(self) -> Basemap | None:
        """What the maps draw under their layers (None: the dark background)."""
        return self.basemap.basemap(self.web.tile_url)
