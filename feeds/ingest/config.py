"""The `ingest` section of the config tree: the gateway's ports and the terminals' token."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class IngestConfig(BaseModel):
    """Where terminals and GPS trackers connect, and the shared terminal token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gateway_port: int = Field(default=8765, ge=0, le=65535,
                              description="terminal gateway port (ws://HOST:PORT/terminal)")
    osmand_port: int = Field(default=5055, ge=0, le=65535,
                             description="OsmAnd (Traccar Client) tracker port")
    terminal_token: SecretStr | None = Field(
        default=None, min_length=1, max_length=512,
        description="token shared by the demo's terminals; unset: only registered devices' "
                    "tokens are accepted (the demo prints a random one)")
