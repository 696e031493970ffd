"""Pairing codes against a real redis-server: once, within 10 minutes, for the device it was
issued to; stored hashed; failures rate-limited per address; revoking ends paired tokens."""
from __future__ import annotations

import hashlib
import time

import pytest

from feeds.accounts import devices, pairing
from feeds.accounts.pairing import PairingRefused, Refusal
from feeds.store import keys
from feeds.store.client import sync_client


def device_of(client, token: str) -> str | None:
    raw = client.hget(keys.DEVICE_TOKENS, hashlib.sha256(token.encode()).hexdigest())
    return raw.decode() if raw else None


def refusal(client, code: str, addr: str = "10.0.0.1", now: float | None = None) -> Refusal:
    with pytest.raises(PairingRefused) as e:
        pairing.redeem(client, code, addr, now)
    return e.value.reason


def test_a_code_pairs_once_and_the_printed_token_stays(redis_url: str):
    client = sync_client(redis_url)
    printed = devices.add_device(client, "phone-1", "O000007")
    code = pairing.new_code(client, "phone-1", "O000007")
    assert len(code) == 9 and code[4] == "-"
    assert not any(code.replace("-", "").encode() in k for k in client.keys("pair:*"))
    got = pairing.redeem(client, f" {code.lower()} ", "10.0.0.1")  # case and spaces ignored
    assert (got.device_id, got.officer_id) == ("phone-1", "O000007")
    assert device_of(client, got.token) == "phone-1" and device_of(client, printed) == "phone-1"
    assert refusal(client, code) is Refusal.USED
    assert devices.revoke_device(client, "phone-1")
    assert device_of(client, got.token) is None and device_of(client, printed) is None


def test_refusals_say_why(redis_url: str):
    client = sync_client(redis_url)
    devices.add_device(client, "phone-2", "O000008")
    old = pairing.new_code(client, "phone-2", "O000008", now=time.time() - pairing.VALID_S - 5)
    assert refusal(client, old) is Refusal.EXPIRED
    assert refusal(client, "ABCD") is Refusal.FORMAT
    assert refusal(client, "2345-6789") is Refusal.WRONG
    first = pairing.new_code(client, "phone-2", "O000008")
    devices.add_device(client, "phone-2", "O000008")  # registered again: a fresh start
    assert refusal(client, first) is Refusal.REPLACED
    with pytest.raises(KeyError):
        pairing.new_code(client, "no-such-phone", "O000008")


def test_failures_from_one_address_pause_it(redis_url: str):
    client = sync_client(redis_url)
    devices.add_device(client, "phone-3", "O000009")
    code = pairing.new_code(client, "phone-3", "O000009")
    for _ in range(pairing.FAILS_PER_ADDR):
        assert refusal(client, "2345-6789", "10.0.0.9") is Refusal.WRONG
    with pytest.raises(PairingRefused) as e:
        pairing.redeem(client, code, "10.0.0.9")  # even the right code waits
    assert e.value.reason is Refusal.LIMITED and 0 < e.value.wait_s <= pairing.FAIL_WINDOW_S
    assert pairing.redeem(client, code, "10.0.0.10").device_id == "phone-3"  # others may
