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
    limits: ClientLimits = Field(default_factory=lambda: ClientLimits(),
                                 description="the gateway's and OsmAnd endpoint's client limits")


class ClientLimits(BaseModel):
    """What one of our servers grants a client: against slow and abusive ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    read_timeout_s: float = Field(default=30, gt=0, le=3600,
                                  description="an idle or half-sent request is closed after this")
    max_headers: int = Field(default=64, ge=8, le=1000, description="headers per request")
    max_header_bytes: int = Field(default=8192, ge=256, le=1 << 20,
                                  description="longest request or header line, bytes")
    max_connections: int = Field(default=4096, ge=1, le=1 << 20,
                                 description="open connections at once; more are refused")
    open_timeout_s: float = Field(default=10, gt=0, le=600,
                                  description="a WebSocket handshake must finish within this")
    max_size: int | None = Field(default=None, ge=1024, le=64 << 20,
                                 description="largest WebSocket message accepted, bytes; unset: "
                                             "the server's own (gateway 4 MiB: photos; push "
                                             "64 KiB)")
    max_queue: int = Field(default=16, ge=1, le=4096,
                           description="WebSocket frames buffered before reading pauses")
