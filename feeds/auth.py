"""Users, password hashes and sessions kept in Redis (shared by every process)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets

import orjson
import redis

from domain.access import Role, User
from feeds import keys

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SESSION_TTL_S = 12 * 3600
LANGS = ("zh", "en")  # the UI languages a user may prefer (zh is the default)


def hash_password(password: str) -> str:
    """A salted scrypt hash, self-describing: scrypt$n$r$p$salt$hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    enc = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${enc(salt).decode()}${enc(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by hash_password."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def add_user(client: redis.Redis, name: str, password: str, role: Role, scope: str,
             lang: str = "zh") -> None:
    """Create or replace a user (with a preferred UI language, zh or en)."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}")
    record = {"role": role.value, "scope": scope, "pw": hash_password(password), "lang": lang}
    client.hset(keys.USERS, name, orjson.dumps(record))


def user_lang(client: redis.Redis, name: str) -> str | None:
    """A user's preferred UI language, or None for no such user."""
    raw = client.hget(keys.USERS, name)
    if raw is None:
        return None
    lang = orjson.loads(raw).get("lang")
    return lang if lang in LANGS else None


_SET_LANG = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
rec['lang'] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""


def set_user_lang(client: redis.Redis, name: str, lang: str) -> bool:
    """Save a user's preferred UI language (atomic); False if there is no such user."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}")
    return bool(client.eval(_SET_LANG, 1, keys.USERS, name, lang))


def user_langs(client: redis.Redis) -> dict[str, str]:
    """Every user's preferred UI language, by name."""
    return {name.decode(): (orjson.loads(raw).get("lang") or LANGS[0])
            for name, raw in client.hgetall(keys.USERS).items()}


def remove_user(client: redis.Redis, name: str) -> bool:
    """Delete a user; False if there was none."""
    return bool(client.hdel(keys.USERS, name))


def list_users(client: redis.Redis) -> list[User]:
    """Every user, sorted by name."""
    out = []
    for name, raw in client.hgetall(keys.USERS).items():
        rec = orjson.loads(raw)
        out.append(User(name.decode(), Role(rec["role"]), rec["scope"]))
    return sorted(out, key=lambda u: u.name)


def authenticate(client: redis.Redis, name: str, password: str) -> User | None:
    """The user if name and password match, else None."""
    raw = client.hget(keys.USERS, name)
    if raw is None:
        hash_password(password)  # same cost either way: no user-enumeration by timing
        return None
    rec = orjson.loads(raw)
    if not verify_password(password, rec["pw"]):
        return None
    return User(name, Role(rec["role"]), rec["scope"])


def open_session(client: redis.Redis, user: User, ttl_s: int = SESSION_TTL_S) -> str:
    """Start a session for a user; returns its token."""
    token = secrets.token_urlsafe(32)
    rec = {"name": user.name, "role": user.role.value, "scope": user.scope}
    client.set(keys.session(token), orjson.dumps(rec), ex=ttl_s)
    return token


def session_user(client: redis.Redis, token: str | None) -> User | None:
    """The user of a live session token, or None."""
    if not token or len(token) > 128:
        return None
    raw = client.get(keys.session(token))
    if raw is None:
        return None
    rec = orjson.loads(raw)
    return User(rec["name"], Role(rec["role"]), rec["scope"])


def close_session(client: redis.Redis, token: str) -> None:
    """End a session."""
    client.delete(keys.session(token))
