"""The `store` section of the config tree: where Redis is and where data lives."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

REDIS_URL_PATTERN = r"^(redis|rediss|unix|redis\+cluster|rediss\+cluster)://"


class StoreConfig(BaseModel):
    """Redis and the data directory (city files, the embedded Redis, clips, history)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redis_url: str | None = Field(
        default=None, max_length=2048, pattern=REDIS_URL_PATTERN,
        description="external Redis or Redis Cluster (redis+cluster://); unset: an embedded "
                    "redis-server under the data dir")
    redis_cluster: bool = Field(
        default=False, description="a plain redis:// or rediss:// URL is a Redis Cluster's")
    data_dir: Path = Field(default=Path("data"),
                           description="city files, embedded Redis, clips and history")

    @property
    def city_file(self) -> Path:
        """The hierarchy GeoJSON of the city."""
        return self.data_dir / "city.geojson"

    @property
    def officers_file(self) -> Path:
        """The officer roster CSV."""
        return self.data_dir / "officers.csv"

    @property
    def url_file(self) -> Path:
        """Where a running demo writes the URL of its Redis (read by the admin commands)."""
        return self.data_dir / "redis.url"
