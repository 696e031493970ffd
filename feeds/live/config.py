"""The `live` section of the config tree: the state worker and its alert rules."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class LiveConfig(BaseModel):
    """The state worker: which rules it applies and the consumer name it reads as."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules_file: Path | None = Field(default=None,
                                    description="alert rules YAML; unset: the bundled rules")
    time_scale: float = Field(
        default=1.0, ge=1.0, le=1000.0,
        description="compressed time, for soaks (bench.soak --speed): SLA deadlines, the "
                    "input streams' age trims, the track cap and how long closed cases stay "
                    "in memory are divided by it; 1: real time")
    worker_name: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[\w.:@-]+$",
        description="stream consumer name of the worker; unset: worker-<i> (1-based)")
