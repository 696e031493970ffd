"""Password hashes: argon2id (OWASP's parameters), and the scrypt hashes of before, kept
readable so that their users can still sign in and get rehashed."""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

log = logging.getLogger(__name__)

# OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane (~35 ms here)
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
LEGACY_PREFIX = "scrypt$"
MAX_PASSWORD = 1024


def hash_password(password: str) -> str:
    """An argon2id hash in PHC format ($argon2id$v=19$m=…,t=…,p=…$salt$hash)."""
    return HASHER.hash(password.encode("utf-8", "surrogatepass"))


@functools.cache
def _dummy() -> str:
    return hash_password("no such user")


def spend_time(password: str) -> None:
    """Cost what a real check costs (no user enumeration by timing)."""
    verify_password(password, _dummy())


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a stored hash (argon2id, or a legacy scrypt hash)."""
    secret = password.encode("utf-8", "surrogatepass")
    if len(secret) > 4 * MAX_PASSWORD:
        return False
    if stored.startswith(LEGACY_PREFIX):
        return _verify_scrypt(secret, stored)
    try:
        return HASHER.verify(stored, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash should be replaced at the next sign-in (legacy or weaker)."""
    if stored.startswith(LEGACY_PREFIX):
        return True
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_scrypt(secret: bytes, stored: str) -> bool:
    """A hash of the old format scrypt$n$r$p$salt$hash."""
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(secret, salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=256 * 1024 * 1024)
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def legacy_scrypt_hash(password: str, salt: bytes, n: int = 2**14) -> str:
    """A hash in the old scrypt format (for migration tests and tools)."""
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1)
    enc = base64.b64encode
    return f"scrypt${n}$8$1${enc(salt).decode()}${enc(digest).decode()}"
