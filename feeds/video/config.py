"""The `video` section of the config tree: the capture worker, its cameras and motion."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from feeds.ingest.config import ClientLimits


class VideoConfig(BaseModel):
    """The capture worker: its port, the cameras it reads and motion flagging."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capture_port: int = Field(default=8767, ge=0, le=65535, description="video capture port")
    limits: ClientLimits = Field(default_factory=lambda: ClientLimits(read_timeout_s=10),
                                 description="what one client of the capture port is granted")
    public_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://",
        description="where browsers reach the capture port (behind a proxy); unset: the "
                    "dashboard's host on capture_port")
    cameras_file: Path | None = Field(
        default=None, description="camera registry CSV (docs/cameras.md); unset: demo cameras")
    motion: bool = Field(default=True, description="flag sustained motion in camera zones")
    clip_radius_m: float = Field(default=300.0, ge=1, le=50_000,
                                 description="a flagged event is recorded by the cameras "
                                             "within this distance of it")
    clip_cameras: int = Field(default=4, ge=1, le=32,
                              description="at most this many cameras record an event")
    clip_fallback: int = Field(default=2, ge=0, le=8,
                               description="no camera within the radius: the nearest few "
                                           "(within 2 km)")
    probe_every_s: float = Field(default=120.0, ge=5, le=3600,
                                 description="cameras read on demand are probed this often "
                                             "while idle (their health)")
    motion_zones: Path | None = Field(
        default=None, description="motion zones file; unset: the demo cameras' quiet strips "
                                  "(none for a camera CSV)")
