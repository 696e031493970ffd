"""API tokens for programs: a name, a role and a scope; only the token's SHA-256 is stored."""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass

import orjson
import redis

from domain.access import Role, User
from feeds.store import keys

log = logging.getLogger(__name__)

PREFIX = "gwt_"  # tells an API token from a password or a device token at a glance
USER_PREFIX = "token:"  # the user name a token acts as (audit entries show it)
MAX_TOKEN = 128


@dataclass(frozen=True)
class ApiToken:
    """A program's token as listed (never the token itself)."""

    name: str
    role: Role
    scope: str
    created_ts: float


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def add_token(client: redis.Redis, name: str, role: Role, scope: str) -> str:
    """Create (or replace) a named token; the token, shown once and never stored."""
    if not name or len(name) > 64 or not name.isprintable():
        raise ValueError("a token name has 1 to 64 printable characters")
    if not scope or not scope.isdigit():
        raise ValueError(f"scope must be a region code, not {scope!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    revoke_token(client, name)
    pipe = client.pipeline(transaction=False)
    pipe.hset(keys.API_TOKENS, name, orjson.dumps(
        {"role": role.value, "scope": scope, "hash": _hash(token), "created": time.time()}))
    pipe.hset(keys.API_TOKEN_HASHES, _hash(token), name)
    pipe.execute()
    log.info("API token %s saved (%s, scope %s)", name, role.value, scope)
    return token


def revoke_token(client: redis.Redis, name: str) -> bool:
    """Remove a named token; False if there was none."""
    old = client.hget(keys.API_TOKENS, name)
    if old is None:
        return False
    pipe = client.pipeline(transaction=False)
    pipe.hdel(keys.API_TOKEN_HASHES, orjson.loads(old)["hash"])
    pipe.hdel(keys.API_TOKENS, name)
    pipe.execute()
    return True


def list_tokens(client: redis.Redis) -> list[ApiToken]:
    """Every token, sorted by name."""
    out = []
    for name, raw in client.hgetall(keys.API_TOKENS).items():
        rec = orjson.loads(raw)
        out.append(ApiToken(name.decode(), Role(rec["role"]), rec["scope"], rec["created"]))
    return sorted(out, key=lambda t: t.name)


def token_user(client: redis.Redis, token: str | None) -> User | None:
    """The user a presented token acts as (`token:NAME`), or None."""
    if not token or len(token) > MAX_TOKEN or not token.startswith(PREFIX):
        return None
    name = client.hget(keys.API_TOKEN_HASHES, _hash(token))
    raw = name and client.hget(keys.API_TOKENS, name)
    if not raw:
        return None
    rec = orjson.loads(raw)
    return User(USER_PREFIX + name.decode(), Role(rec["role"]), rec["scope"])
