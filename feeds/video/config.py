"""The `video` section of the config tree: the capture worker, its cameras and motion."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class VideoConfig(BaseModel):
    """The capture worker: its port, the cameras it reads and motion flagging."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capture_port: int = Field(default=8767, ge=0, le=65535, description="video capture port")
    public_url: str | None = Field(
        default=None, max_length=2048, pattern=r"^https?://",
        description="where browsers reach the capture port (behind a proxy); unset: the "
                    "dashboard's host on capture_port")
    cameras_file: Path | None = Field(
        default=None, description="camera registry CSV (docs/cameras.md); unset: demo cameras")
    motion: bool = Field(default=True, description="flag sustained motion in camera zones")
    motion_zones: Path | None = Field(
        default=None, description="motion zones file; unset: the demo cameras' quiet strips "
                                  "(none for a camera CSV)")
