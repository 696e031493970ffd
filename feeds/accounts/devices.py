"""Terminal devices and their tokens (per-device tokens; only hashes are stored)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson
import redis

from feeds.store import keys


@dataclass(frozen=True)
class Device:
    """A registered terminal (phone or GPS tracker) and the officer who carries it."""

    device_id: str
    officer_id: str
    created_ts: float


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_device(client: redis.Redis, device_id: str, officer_id: str) -> str:
    """Register (or re-key) a device; returns its new token (shown once, never stored)."""
    token = secrets.token_urlsafe(24)
    old = client.hget(keys.DEVICES, device_id)
    pipe = client.pipeline(transaction=False)
    if old:
        pipe.hdel(keys.DEVICE_TOKENS, *token_hashes(orjson.loads(old)))
    pipe.hset(keys.DEVICES, device_id, orjson.dumps(
        {"officer": officer_id, "token_hash": _hash(token), "created": time.time()}))
    pipe.hset(keys.DEVICE_TOKENS, _hash(token), device_id)
    pipe.execute()
    return token


def token_hashes(rec: dict[str, Any]) -> list[str]:
    """Every token hash of a device record: the printed token and those of paired terminals."""
    paired = rec.get("paired")
    return [rec["token_hash"], *(paired if isinstance(paired, list) else [])]


def revoke_device(client: redis.Redis, device_id: str) -> bool:
    """Remove a device and its token; False if there was none."""
    old = client.hget(keys.DEVICES, device_id)
    if old is None:
        return False
    pipe = client.pipeline(transaction=False)
    pipe.hdel(keys.DEVICE_TOKENS, *token_hashes(orjson.loads(old)))
    pipe.hdel(keys.DEVICES, device_id)
    pipe.execute()
    return True


def list_devices(client: redis.Redis) -> list[Device]:
    """Every registered device, sorted by id."""
    out = [Device(k.decode(), rec["officer"], rec.get("created", 0.0))
           for k, rec in ((k, orjson.loads(v)) for k, v in client.hgetall(keys.DEVICES).items())]
    return sorted(out, key=lambda d: d.device_id)


def device_of_token(client: redis.Redis, token: str) -> Device | None:
    """The device a token (printed or paired) belongs to, or None if it is not valid."""
    if not token or len(token) > 256:
        return None
    device_id = client.hget(keys.DEVICE_TOKENS, _hash(token))
    raw = client.hget(keys.DEVICES, device_id) if device_id else None
    if raw is None:
        return None
    rec = orjson.loads(raw)
    return Device(device_id.decode(), rec["officer"], rec.get("created", 0.0))


def token_matches(token: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with a shared one."""
    return bool(token) and bool(expected) and hmac.compare_digest(token.encode(),
                                                                  expected.encode())
