"""The `accounts` section of the config tree: the first administrator."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AccountsConfig(BaseModel):
    """User accounts set up at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admin_password: SecretStr | None = Field(
        default=None, min_length=1, max_length=1024,
        description="password of user `admin` (demo and init); unset: the demo prints a random "
                    "one")
