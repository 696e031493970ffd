"""The `store` section of the config tree: where Redis is and where data lives."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

REDIS_URL_PATTERN = r"^(redis|rediss|unix|redis\+cluster|rediss\+cluster)://"
S3_URL_PATTERN = r"^https?://[^/\s]+(/[^/\s]+)*/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/?$"


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
    media_s3_url: str | None = Field(
        default=None, max_length=2048, pattern=S3_URL_PATTERN,
        description="photos in an S3-compatible bucket, as <endpoint>/<bucket> (e.g. "
                    "http://minio:9000/gridwatch-media); unset: <data dir>/media")
    media_s3_access_key: SecretStr | None = Field(
        default=None, min_length=1, max_length=512, description="the bucket's access key")
    media_s3_secret_key: SecretStr | None = Field(
        default=None, min_length=1, max_length=512, description="the bucket's secret (or a *_FILE)")
    media_s3_region: str = Field(default="us-east-1", max_length=64, pattern=r"^[a-z0-9-]+$",
                                 description="the bucket's region (most stores ignore it)")

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
