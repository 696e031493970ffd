"""Attachments from terminals: photos checked (feeds.ingest.photos), written content-addressed
under the data dir's media folder, recorded per case in Redis; and their sync reads."""
from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import orjson

from domain.entries import PhotoEntry
from feeds.ingest.photos import EXT, Photo, prepare, thumb_name
from feeds.ingest.placement import Routed
from feeds.ingest.protocol import AttachmentMsg, Refused
from feeds.store import keys

log = logging.getLogger(__name__)

MEDIA_SUBDIR = "media"  # under the data dir
PHOTO_ID = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class AttachmentIn:
    """An attachment whose case is known (its town), still to be checked and stored."""

    msg_id: str
    msg: AttachmentMsg
    town: str


@dataclass(frozen=True)
class Taken:
    """An attachment stored before under the same msg_id: acked as a repeat."""

    msg_id: str
    repeat: bool = False


@dataclass(frozen=True)
class Attachment:
    """One photo of a case as recorded: id (content hash), type, time and officer."""

    photo_id: str
    mime: str
    ts: float
    officer_id: str

    @property
    def name(self) -> str:
        """The stored file's name."""
        return f"{self.photo_id}.{EXT.get(self.mime, 'bin')}"


class MediaStore(Protocol):
    """Where photos and thumbnails are kept, by their content-addressed names."""

    def save(self, photo: Photo) -> None:
        """Keep the photo and its thumbnail (before the message is acked); OSError if not."""

    def read(self, name: str) -> bytes | None:
        """The bytes of a stored photo or thumbnail, None if there is none of that name."""


class MediaDir:
    """The media folder: each photo and its thumbnail written once, atomically."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()

    def _write(self, name: str, body: bytes) -> None:
        path = self.root / name
        if path.is_file():
            return  # content-addressed: the same bytes are there already
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def save(self, photo: Photo) -> None:
        """Write the photo and its thumbnail (before the message is acked)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._write(photo.name, photo.body)
        self._write(photo.thumb_name, photo.thumb)

    def __str__(self) -> str:
        return str(self.root)

    def read(self, name: str) -> bytes | None:
        """The bytes of a photo or thumbnail name (as media_names gives), if it exists."""
        path = self.path(name)
        return path.read_bytes() if path else None

    def path(self, name: str) -> Path | None:
        """The file of a photo or thumbnail name (as media_names gives), if it exists."""
        path = self.root / name
        return path if path.parent == self.root and path.is_file() else None


def _check_and_save(media: MediaStore, a: AttachmentIn) -> Photo | Refused:
    """Check the photo and write its files (in a worker thread: decoding takes a while)."""
    try:
        photo = prepare(a.msg.mime, a.msg.data)
    except (cv2.error, ValueError) as e:
        photo = f"data: the image does not decode ({e.__class__.__name__})"
    if isinstance(photo, str):
        return Refused(a.msg_id, photo, a.msg.raw())
    try:
        media.save(photo)
    except OSError as e:
        log.error("media store %s: %s", media, e)
        return Refused(a.msg_id, "store unavailable, retry later", a.msg.raw())
    return photo


class AttachmentTaker:
    """The gateway's side: check, store and record each attachment of a frame."""

    def __init__(self, client: Any, media: MediaStore | None):
        self.client = client
        self.media = media

    async def take_one(self, a: AttachmentIn) -> Routed | Taken | Refused:
        """Store one attachment once per msg_id (a repeat is acked, not checked again); a new
        one becomes the photo entry the gateway adds to the case's town stream."""
        key = keys.attachments(a.town, a.msg.incident_id)
        if await self.client.hexists(key, a.msg_id):
            return Taken(a.msg_id, repeat=True)
        if self.media is None:
            return Refused(a.msg_id, "type: this gateway takes no attachments", a.msg.raw())
        photo = await asyncio.to_thread(_check_and_save, self.media, a)
        if isinstance(photo, Refused):
            return photo
        record = {"id": photo.photo_id, "mime": photo.mime, "ts": a.msg.ts,
                  "officer_id": a.msg.officer_id}
        if not await self.client.hsetnx(key, a.msg_id, orjson.dumps(record)):
            return Taken(a.msg_id, repeat=True)  # another gateway process was first
        log.info("attachment %s of %s stored as %s", a.msg_id, a.msg.incident_id, photo.name)
        entry = PhotoEntry(type="photo", msg_id=a.msg_id, incident_id=a.msg.incident_id,
                           photo_id=photo.photo_id, mime=photo.mime,
                           officer_id=a.msg.officer_id, ts=a.msg.ts)
        return Routed(a.msg_id, keys.incidents_in(a.town), keys.seen(a.town, a.msg_id), entry)

    async def take(self, results: Sequence[Any]) -> list[Any]:
        """The frame's results with each attachment stored (Taken) or refused."""
        return [await self.take_one(r) if isinstance(r, AttachmentIn) else r for r in results]


def read_attachments(client: Any, town: str, incident_id: str) -> list[Attachment]:
    """A case's photos, oldest first (sync client)."""
    rows = [orjson.loads(v) for v in client.hvals(keys.attachments(town, incident_id))]
    return sorted((Attachment(r["id"], r["mime"], r["ts"], r["officer_id"]) for r in rows),
                  key=lambda a: (a.ts, a.photo_id))


def media_names(att: Attachment) -> tuple[str, str]:
    """The file names of a photo and of its thumbnail."""
    return att.name, thumb_name(att.photo_id)
