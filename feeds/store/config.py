"""The `store` section of the config tree: where Redis is and where data lives."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from feeds.store.sentinel_url import is_sentinel_url, parse_sentinel_url

REDIS_URL_PATTERN = r"^(redis|rediss|unix|redis\+cluster|rediss\+cluster|redis\+sentinel)://"
S3_URL_PATTERN = r"^https?://[^/\s]+(/[^/\s]+)*/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/?$"


class StoreConfig(BaseModel):
    """Redis and the data directory (city files, the embedded Redis, clips, history)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redis_url: str | None = Field(
        default=None, max_length=2048, pattern=REDIS_URL_PATTERN,
        description="external Redis, Redis Cluster (redis+cluster://host:port) or a primary "
                    "with replicas behind Sentinel (redis+sentinel://[:password@]host1:26379,"
                    "host2:26379/mymaster/0); unset: an embedded redis-server under the data dir")
    redis_cluster: bool = Field(
        default=False, description="a plain redis:// or rediss:// URL is a Redis Cluster's")
    wait_replicas: str = Field(
        default="auto", max_length=4, pattern=r"^(auto|[0-9]|1[0-6])$", coerce_numbers_to_str=True,
        description="replicas that must have a message (Redis WAIT) before the gateway acks "
                    "it; auto: 1 on a primary that reports connected replicas, else 0; 0: ack "
                    "once the primary has it")
    wait_timeout_ms: int = Field(
        default=1000, ge=1, le=60_000,
        description="how long an ack waits for those replicas; past it the messages are "
                    "nacked (stored, not yet safe: the sender resends, ids make it idempotent)")
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

    @field_validator("redis_url")
    @classmethod
    def _sentinel_url_parses(cls, url: str | None) -> str | None:
        if url is not None and is_sentinel_url(url):
            parse_sentinel_url(url)  # ValueError naming the part of the URL that is wrong
        return url

    @property
    def replicas_wanted(self) -> int | None:
        """The replicas an ack waits for: a number, or None for auto."""
        return None if self.wait_replicas == "auto" else int(self.wait_replicas)

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
