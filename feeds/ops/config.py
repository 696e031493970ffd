"""The `ops` section of the config tree: log format, metrics files, heartbeat freshness."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OpsConfig(BaseModel):
    """How a process logs, where its metrics live and when a heartbeat is stale."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log_format: Literal["text", "json"] = Field(
        default="text", description="text: one ISO 8601 dated line; json: one object a line")
    metrics_dir: Path | None = Field(
        default=None, description="Prometheus multiprocess files shared by every process; "
                                  "unset: <data dir>/metrics")
    metrics_loopback: bool = Field(default=True, description="loopback clients read /metrics "
                                   "without a token (others always need an API token)")
    heartbeat_s: float = Field(default=2.0, ge=0.1, le=60,
                               description="how often workers and capture publish heartbeats")
    heartbeat_stale_s: float = Field(default=15.0, ge=1, le=3600,
                                     description="a heartbeat older than this is not ready")
