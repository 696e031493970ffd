"""Runtime settings of a Gridwatch process tree, validated once at start-up."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Settings(BaseModel):
    """Where things listen, where data lives, and how the demo behaves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="address the servers listen on")
    port: int = Field(default=8050, ge=0, le=65535, description="dashboard HTTP port")
    gateway_port: int = Field(default=8765, ge=0, le=65535, description="terminal gateway port")
    live_port: int = Field(default=8766, ge=0, le=65535, description="live push channel port")
    osmand_port: int = Field(default=5055, ge=0, le=65535, description="OsmAnd tracker port")
    capture_port: int = Field(default=8767, ge=0, le=65535, description="video capture port")
    camsim_port: int = Field(default=8768, ge=0, le=65535, description="demo cameras port")
    cameras_file: Path | None = Field(default=None,
                                      description="camera CSV (docs/cameras.md); None = demo")
    capture_public_url: str | None = Field(default=None,
                                           description="where browsers reach the capture port")
    data_dir: Path = Field(default=Path("data"), description="city files and embedded Redis")
    redis_url: str | None = Field(default=None, description="external Redis; None = embedded")
    rules_file: Path | None = Field(default=None, description="alert rules YAML (bundled)")
    timezone: str = Field(default="Asia/Shanghai", description="zone for local times")
    tile_url: str | None = Field(default=None, description="optional map tile URL template")
    lang: str = Field(default="zh", pattern="^(zh|en)$", description="default UI language")
    push_flush_s: float = Field(default=0.2, ge=0.05, le=10, description="push delta period")
    position_interval_s: float = Field(default=10, ge=1, le=600, description="sim fix period")
    incidents_per_hour: float = Field(default=300, ge=0, le=100_000, description="sim rate")
    sim_connections: int = Field(default=8, ge=1, le=256, description="sim terminal sockets")
    wall_stale_s: float = Field(default=30, ge=3, le=3600,
                                description="wall: feed older than this shows the stale banner")
    wall_dwell_s: float = Field(default=20, ge=3, le=3600, description="wall: seconds per view")
    wall_rotate: str = Field(default="here,children,red", pattern=r"^[a-z,]*$",
                             description="wall playlist: here, children, red (comma-separated)")
    simulate: bool = Field(default=True, description="run the simulator in the demo")
    history_days: int = Field(default=30, ge=0, le=90,
                              description="days of past cases the demo makes on first run")
    processes: int = Field(default=1, ge=1, le=64,
                           description="processes of gateway, worker, push and web (one port)")
    process_index: int = Field(default=0, ge=0, le=63,
                               description="which of those processes this one is (0-based)")

    @model_validator(mode="after")
    def _index_below_processes(self) -> Settings:
        if self.process_index >= self.processes:
            raise ValueError(f"process index {self.process_index} must be below the number "
                             f"of processes {self.processes}")
        return self

    @property
    def city_file(self) -> Path:
        """The hierarchy GeoJSON of the city."""
        return self.data_dir / "city.geojson"

    @property
    def officers_file(self) -> Path:
        """The officer roster CSV."""
        return self.data_dir / "officers.csv"


WALL_ENV = {"GRIDWATCH_WALL_ROTATE": "wall_rotate", "GRIDWATCH_WALL_DWELL": "wall_dwell_s",
            "GRIDWATCH_WALL_STALE": "wall_stale_s"}


def wall_env(environ: Mapping[str, str]) -> dict[str, str]:
    """Wall settings given in the environment (validated by Settings)."""
    return {field: environ[name] for name, field in WALL_ENV.items() if environ.get(name)}
