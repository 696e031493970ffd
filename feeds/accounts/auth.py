"""Users, password hashes, sessions and login rate limits kept in Redis (shared by every
process)."""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from typing import Any

import orjson
import redis

from domain.access import Role, User
from feeds.accounts import limits
from feeds.accounts.passwords import hash_password, needs_rehash, spend_time, verify_password
from feeds.store import keys

log = logging.getLogger(__name__)

SESSION_TTL_S = 12 * 3600  # absolute lifetime of a session
SESSION_IDLE_S = 2 * 3600  # a session unused this long expires
LOGIN_WINDOW_S = 15 * 60  # failed logins are counted over this window
LOGIN_FAILS_PER_USER = 5  # failures of one user name in the window before it waits
LOGIN_FAILS_PER_ADDR = 20  # failures from one client address in the window before it waits
DEFAULT_LANG = "zh"  # a user's UI language unless chosen (the web app offers its locales)
LANG_CODE = re.compile(r"[a-z]{2,3}")  # a language code: zh, en, or a locale added later


def token_hash(token: str) -> str:
    """What Redis keeps of a session token: its SHA-256 (a dump holds no usable session)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def add_user(client: redis.Redis, name: str, password: str, role: Role, scope: str,
             lang: str = "zh") -> None:
    """Create or replace a user (with a preferred UI language: zh, en ...); a replaced user's
    sessions end (role or scope may change)."""
    if not scope or not scope.isdigit():
        raise ValueError(f"scope must be a region code, not {scope!r}")
    _check_lang(lang)
    record = {"role": role.value, "scope": scope, "pw": hash_password(password), "lang": lang}
    client.hset(keys.USERS, name, orjson.dumps(record))
    end_sessions(client, name)


def _check_lang(lang: str) -> None:
    if not LANG_CODE.fullmatch(lang):
        raise ValueError(f"language must be a language code such as zh or en, not {lang!r}")


def user_lang(client: redis.Redis, name: str) -> str | None:
    """A user's preferred UI language, or None for no such user."""
    raw = client.hget(keys.USERS, name)
    if raw is None:
        return None
    lang = orjson.loads(raw).get("lang")
    return lang if isinstance(lang, str) and LANG_CODE.fullmatch(lang) else None


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
    _check_lang(lang)
    return bool(client.eval(_SET_LANG, 1, keys.USERS, name, lang))


def user_langs(client: redis.Redis) -> dict[str, str]:
    """Every user's preferred UI language, by name."""
    return {name.decode(): (orjson.loads(raw).get("lang") or DEFAULT_LANG)
            for name, raw in client.hgetall(keys.USERS).items()}


def remove_user(client: redis.Redis, name: str) -> bool:
    """Delete a user and end their sessions; False if there was none."""
    end_sessions(client, name)
    return bool(client.hdel(keys.USERS, name))


def end_sessions(client: redis.Redis, name: str) -> int:
    """End every session of a user; how many were live."""
    hashes = [h.decode() for h in client.smembers(keys.user_sessions(name))]
    pipe = client.pipeline(transaction=False)
    for h in hashes:  # one key per DEL: a cluster pipeline takes no more
        pipe.delete(keys.session(h))
    pipe.delete(keys.user_sessions(name))
    ended = sum(pipe.execute()[:-1])
    if ended:
        log.info("ended %d sessions of %s", ended, name)
    return ended


def list_users(client: redis.Redis) -> list[User]:
    """Every user, sorted by name."""
    out = []
    for name, raw in client.hgetall(keys.USERS).items():
        rec = orjson.loads(raw)
        out.append(User(name.decode(), Role(rec["role"]), rec["scope"]))
    return sorted(out, key=lambda u: u.name)


def authenticate(client: redis.Redis, name: str, password: str) -> User | None:
    """The user if name and password match, else None; a hash of an older kind is replaced
    by an argon2id one on the way."""
    raw = client.hget(keys.USERS, name) if len(name) <= 256 else None
    if raw is None:
        spend_time(password)  # same cost either way: no user-enumeration by timing
        return None
    rec = orjson.loads(raw)
    if not verify_password(password, rec["pw"]):
        return None
    if needs_rehash(rec["pw"]):
        if client.eval(_REHASH, 1, keys.USERS, name, rec["pw"], hash_password(password)):
            log.info("password of %s rehashed (argon2id)", name)
    return User(name, Role(rec["role"]), rec["scope"])


_REHASH = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec['pw'] ~= ARGV[2] then return 0 end
rec['pw'] = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""


def open_session(client: redis.Redis, user: User, ttl_s: int = SESSION_TTL_S,
                 idle_s: int = SESSION_IDLE_S) -> str:
    """Start a session for a user (absolute and idle expiry, its own CSRF token); its token."""
    token = secrets.token_urlsafe(32)
    idle_s = min(idle_s, ttl_s)
    rec = {"name": user.name, "role": user.role.value, "scope": user.scope,
           "csrf": secrets.token_urlsafe(24), "exp": time.time() + ttl_s, "idle": idle_s}
    pipe = client.pipeline(transaction=False)
    pipe.set(keys.session(token_hash(token)), orjson.dumps(rec), ex=idle_s)
    pipe.sadd(keys.user_sessions(user.name), token_hash(token))
    pipe.expire(keys.user_sessions(user.name), ttl_s)
    pipe.execute()
    return token


def session_record(client: redis.Redis, token: str | None) -> dict[str, Any] | None:
    """The record of a live session (user, csrf), its idle expiry renewed; None if expired."""
    if not token or len(token) > 128:
        return None
    key = keys.session(token_hash(token))
    raw = client.getex(key, ex=SESSION_IDLE_S)
    rec, ttl = judge_record(raw)
    if ttl == 0:
        client.delete(key)
    elif ttl is not None:
        client.expire(key, ttl)
    return rec


def judge_record(raw: bytes | None) -> tuple[dict[str, Any] | None, int | None]:
    """A stored session record read with its idle expiry renewed: the record if still live,
    and the expiry to set on its key (0: delete it, None: leave it)."""
    if raw is None:
        return None, None
    rec = orjson.loads(raw)
    left = float(rec.get("exp", 0)) - time.time()
    if left <= 0:
        return None, 0
    idle = int(rec.get("idle", SESSION_IDLE_S))
    if left < SESSION_IDLE_S or idle != SESSION_IDLE_S:
        return rec, max(1, int(min(left, idle)))
    return rec, None


def session_user_of(rec: dict[str, Any]) -> User:
    """The user of a session record."""
    return User(rec["name"], Role(rec["role"]), rec["scope"])


def session_user(client: redis.Redis, token: str | None) -> User | None:
    """The user of a live session token, or None."""
    rec = session_record(client, token)
    return None if rec is None else session_user_of(rec)


def close_session(client: redis.Redis, token: str) -> None:
    """End a session."""
    rec = session_record(client, token)
    client.delete(keys.session(token_hash(token)))
    if rec is not None:
        client.srem(keys.user_sessions(rec["name"]), token_hash(token))


def login_wait(client: redis.Redis, name: str, addr: str) -> int:
    """Seconds until a user name and a client address may try to log in again (0: now)."""
    return limits.wait_s(client, _limits(name, addr))


def record_failure(client: redis.Redis, name: str, addr: str) -> int:
    """Count one failed login (by name and by address); the wait it now imposes (0: none)."""
    limits.count_failure(client, _limits(name, addr), LOGIN_WINDOW_S)
    return login_wait(client, name, addr)


def clear_failures(client: redis.Redis, name: str) -> None:
    """Forget a user name's failures after a successful login (the address keeps its count)."""
    client.delete(keys.login_failures("user", _norm(name)))


def _norm(name: str) -> str:
    return name.strip().lower()[:64]


def _limits(name: str, addr: str) -> list[limits.Counter]:
    return [(keys.login_failures("user", _norm(name)), LOGIN_FAILS_PER_USER),
            (keys.login_failures("addr", addr or "?"), LOGIN_FAILS_PER_ADDR)]
