"""The media store: the data dir's media folder, or an S3-compatible bucket when configured."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feeds.ingest.attachments import MediaDir, MediaStore
from feeds.ingest.photos import Photo

if TYPE_CHECKING:
    from feeds.store.config import StoreConfig

log = logging.getLogger(__name__)


class S3Media:
    """Photos in a bucket of an S3-compatible store (MinIO, Ceph, OSS, COS, AWS …)."""

    def __init__(self, endpoint: str, bucket: str, access_key: str, secret_key: str,
                 region: str = "us-east-1"):
        try:
            import boto3  # noqa: PLC0415
            from botocore.config import Config  # noqa: PLC0415
        except ImportError:
            raise SystemExit("store.media_s3_url is set but boto3 is not installed: "
                             "pip install 'gridwatch[s3]'") from None
        self.bucket, self.endpoint = bucket, endpoint
        self._s3 = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, region_name=region,
            config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=20,
                          retries={"max_attempts": 3}))

    def __str__(self) -> str:
        return f"{self.endpoint}/{self.bucket}"

    def _put(self, name: str, body: bytes, mime: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
        try:
            self._s3.put_object(Bucket=self.bucket, Key=name, Body=body, ContentType=mime)
        except (BotoCoreError, ClientError) as e:
            raise OSError(f"S3 put {name}: {e}") from e

    def save(self, photo: Photo) -> None:
        """Put the photo and its thumbnail (content-addressed: a repeat writes the same)."""
        self._put(photo.name, photo.body, photo.mime)
        self._put(photo.thumb_name, photo.thumb, "image/jpeg")

    def read(self, name: str) -> bytes | None:
        """The object's bytes, None when the bucket has no such key or cannot be read."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
        try:
            return self._s3.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        except ClientError as e:
            if _status(e) != 404:
                log.error("S3 get %s from %s: %s", name, self, e)
            return None
        except BotoCoreError as e:
            log.error("S3 get %s from %s: %s", name, self, e)
            return None


def _status(e: Any) -> int:
    return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def media_store(store: StoreConfig, local_dir: Path) -> MediaStore:
    """The configured store: the bucket of store.media_s3_url, else the local folder."""
    if store.media_s3_url is None:
        return MediaDir(local_dir)
    endpoint, _, bucket = store.media_s3_url.rstrip("/").rpartition("/")
    secret = (store.media_s3_access_key, store.media_s3_secret_key)
    return S3Media(endpoint, bucket, *(s.get_secret_value() if s else "" for s in secret),
                   region=store.media_s3_region)
