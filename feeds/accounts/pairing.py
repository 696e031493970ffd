"""One-time pairing codes: `devices add` prints one, the field terminal trades it once for a
device token (codes stored hashed, valid minutes, redemptions rate-limited per address)."""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import orjson
import redis

from feeds.accounts import limits
from feeds.store import keys

log = logging.getLogger(__name__)

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud or off a screen
CODE_LEN = 8  # 31**8 ≈ 8.5e11 codes (≈ 40 bits) for a code that lives 10 minutes
VALID_S = 600  # a code can be used this long after it was printed
KEEP_S = 24 * 3600  # a code is remembered this long, so that a late try hears "expired"/"used"
FAIL_WINDOW_S = 15 * 60  # failed redemptions are counted per address over this window
FAILS_PER_ADDR = 10  # failures from one address in the window before it must wait


class Refusal(StrEnum):
    """Why a pairing code was not accepted (each has a message in the catalogue)."""

    FORMAT = "format"  # not of the form XXXX-XXXX
    WRONG = "wrong"  # no such code
    USED = "used"  # the code was already exchanged
    EXPIRED = "expired"  # older than VALID_S
    REPLACED = "replaced"  # the device was re-registered or revoked since
    LIMITED = "limited"  # too many failures from this address: wait


@dataclass(frozen=True)
class Paired:
    """What a redeemed code gives the terminal: its device, its officer and a token."""

    device_id: str
    officer_id: str
    token: str


class PairingRefused(Exception):
    """A code that cannot be exchanged, why, and (LIMITED) how long to wait."""

    def __init__(self, reason: Refusal, wait_s: int = 0):
        super().__init__(f"pairing refused: {reason.value}")
        self.reason = reason
        self.wait_s = wait_s


def normalise(code: str) -> str | None:
    """The canonical form of a typed code (case, spaces and dashes ignored), None if it
    cannot be one."""
    plain = "".join(ch for ch in code.upper() if ch not in " -\t")
    if len(plain) != CODE_LEN or any(ch not in ALPHABET for ch in plain):
        return None
    return plain


def code_hash(code: str) -> str:
    """The stored form of a canonical code."""
    return hashlib.sha256(f"gridwatch-pair:{code}".encode()).hexdigest()


def new_code(client: redis.Redis, device_id: str, officer_id: str,
             now: float | None = None) -> str:
    """Issue a pairing code for a device (shown once as XXXX-XXXX, stored hashed); the
    device's record remembers it, so that issuing a new one retires the old one."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))
    h = code_hash(code)
    now = time.time() if now is None else now
    rec = {"device": device_id, "officer": officer_id, "exp": now + VALID_S}
    client.set(keys.pairing(h), orjson.dumps(rec), ex=KEEP_S)
    if not client.eval(_SET_PAIR, 1, keys.DEVICES, device_id, h):
        client.delete(keys.pairing(h))
        raise KeyError(f"no device {device_id!r}")
    return f"{code[:4]}-{code[4:]}"


# KEYS[1] the devices hash; ARGV device id, code hash → 1, or 0 with no such device.
_SET_PAIR = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
rec['pair'] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""

# KEYS[1] the code's key; ARGV[1] now → {'ok', device, officer} or {reason}. Marks it used.
_TAKE = """
local raw = redis.call('GET', KEYS[1])
if not raw then return {'wrong'} end
local rec = cjson.decode(raw)
if rec['used'] then return {'used'} end
if tonumber(rec['exp']) < tonumber(ARGV[1]) then return {'expired'} end
rec['used'] = tonumber(ARGV[1])
redis.call('SET', KEYS[1], cjson.encode(rec), 'KEEPTTL')
return {'ok', rec['device'], rec['officer']}
"""

# KEYS[1] the devices hash; ARGV device id, code hash, new token hash → 1, or 0 when the
# device is gone or holds another code now. The token joins the device's paired tokens.
_ADD_TOKEN = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec['pair'] ~= ARGV[2] then return 0 end
local paired = rec['paired']
if type(paired) ~= 'table' then paired = {} end
table.insert(paired, ARGV[3])
rec['paired'] = paired
rec['pair'] = nil
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(rec))
return 1
"""


def redeem(client: redis.Redis, typed: str, addr: str, now: float | None = None) -> Paired:
    """Exchange a code once for a new token of its device (the printed token stays valid);
    raises PairingRefused with the reason. Failures count against the address."""
    wait = _wait(client, addr)
    if wait:
        raise PairingRefused(Refusal.LIMITED, wait)
    code = normalise(typed)
    if code is None:
        raise _failed(client, addr, Refusal.FORMAT)
    h = code_hash(code)
    now = time.time() if now is None else now
    res = [x.decode() if isinstance(x, bytes) else x
           for x in client.eval(_TAKE, 1, keys.pairing(h), f"{now:.3f}")]
    if res[0] != "ok":
        raise _failed(client, addr, Refusal(res[0]))
    device_id, officer_id = res[1], res[2]
    token = _mint(client, device_id, h)
    if token is None:
        raise _failed(client, addr, Refusal.REPLACED)
    log.info("device %s (officer %s) paired from %s", device_id, officer_id, addr)
    return Paired(device_id, officer_id, token)


def _mint(client: redis.Redis, device_id: str, h: str) -> str | None:
    """A new token for the device, if it still waits for this code."""
    token = secrets.token_urlsafe(24)
    th = hashlib.sha256(token.encode()).hexdigest()
    client.hset(keys.DEVICE_TOKENS, th, device_id)
    if not client.eval(_ADD_TOKEN, 1, keys.DEVICES, device_id, h, th):
        client.hdel(keys.DEVICE_TOKENS, th)
        return None
    return token


def _failed(client: redis.Redis, addr: str, reason: Refusal) -> PairingRefused:
    limits.count_failure(client, _limit(addr), FAIL_WINDOW_S)
    log.warning("pairing refused (%s) from %s", reason.value, addr)
    return PairingRefused(reason)


def _wait(client: redis.Redis, addr: str) -> int:
    """Seconds until the address may try again (0: now)."""
    return limits.wait_s(client, _limit(addr))


def _limit(addr: str) -> list[limits.Counter]:
    return [(keys.pairing_failures(addr or "?"), FAILS_PER_ADDR)]
