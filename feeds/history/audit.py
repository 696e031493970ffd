"""Reads of the audit stream: filtered by user, kind and time, newest first, each entry with
the region it is about (stored, or found from its target) so that reads can be scoped."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import redis

from domain.regions import is_within
from feeds.live import reads
from feeds.store import keys
from feeds.video.registry import read_camera
from feeds.video.store import read_clip, read_event

log = logging.getLogger(__name__)

SCAN_LIMIT = 200_000  # entries looked at per query at most (newest first)
BATCH = 5000
ID_SLACK_S = 300  # an entry's id (when written) may follow its "ts" by this much


@dataclass(frozen=True)
class AuditFilter:
    """Which entries a reader wants: exact user, action kind (prefix), time range."""

    user: str = ""
    kind: str = ""
    since: float | None = None
    until: float | None = None

    def matches(self, fields: dict[bytes, bytes]) -> bool:
        """Whether a raw entry passes the filters (checked on bytes, before decoding)."""
        if self.user and fields.get(b"user") != self.user.encode():
            return False
        action, kind = fields.get(b"action", b""), self.kind.encode()
        if kind and action != kind and not action.startswith(kind + b"."):
            return False
        if self.since is None and self.until is None:
            return True
        ts = float(fields.get(b"ts") or 0)
        return (self.since is None or ts >= self.since) and (self.until is None or
                                                              ts <= self.until)


class RegionResolver:
    """The region code an audit entry is about ("" when none: city administrators only)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.cache: dict[str, str] = {}

    def __call__(self, rec: dict[str, str]) -> str:
        """The entry's stored region, else its target's, cached per target."""
        if rec.get("region"):
            return rec["region"]
        key = f"{rec.get('action', '')}|{rec.get('target', '')}"
        if key not in self.cache:
            self.cache[key] = self._lookup(rec.get("action", ""), rec.get("target", ""))
        return self.cache[key]

    def _lookup(self, action: str, target: str) -> str:
        if not target:
            return ""
        if action.startswith(("login", "logout")):
            return self._user_scope(target)
        if action == "video.view":
            clip = read_clip(self.client, target) if target.isalnum() else None
            return clip.grid if clip else ""
        if action == "video.live" or target.startswith("camera:"):
            cam = read_camera(self.client, target.removeprefix("camera:"))
            return cam.grid if cam else ""
        if action == "video.review" or target.startswith("ev"):
            ev = read_event(self.client, target)
            if ev is not None:
                return ev.grid
        inc = reads.read_incident(self.client, target) if action.startswith(
            ("case.", "video.")) else None
        return inc.grid if inc else ""

    def _user_scope(self, name: str) -> str:
        raw = self.client.hget(keys.USERS, name)
        return orjson.loads(raw)["scope"] if raw else ""


def _entries(client: redis.Redis, f: AuditFilter) -> Iterator[tuple[bytes, dict]]:
    """Raw entries newest first within the time range, in batches."""
    top = "+" if f.until is None else str(int((f.until + ID_SLACK_S) * 1000))
    low = "-" if f.since is None else str(int(f.since * 1000))
    seen = 0
    while seen < SCAN_LIMIT:
        batch = client.xrevrange(keys.AUDIT, max=top, min=low, count=BATCH)
        yield from batch
        seen += len(batch)
        if len(batch) < BATCH:
            return
        top = "(" + batch[-1][0].decode()


def query(client: redis.Redis, f: AuditFilter, within: str | None, limit: int = 500
          ) -> list[dict[str, str]]:
    """Up to `limit` entries passing the filter, newest first, each with its "region";
    `within` keeps only entries about that region or below (None: all, "" entries too)."""
    resolve = RegionResolver(client)
    out = []
    for eid, fields in _entries(client, f):
        if not f.matches(fields):
            continue
        stored = fields.get(b"region")
        if within is not None and stored is not None and not is_within(stored.decode(), within):
            continue  # decided before decoding the rest: most entries carry their region
        rec = {k.decode(): v.decode() for k, v in fields.items()}
        rec["id"] = eid.decode()
        rec["region"] = resolve(rec)
        if within is not None and not (rec["region"] and is_within(rec["region"], within)):
            continue
        out.append(rec)
        if len(out) >= limit:
            break
    return out
