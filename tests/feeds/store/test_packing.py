"""hiredis command packing for asyncio clients: same bytes as redis-py's, works on real Redis."""
from __future__ import annotations

import asyncio

from redis.asyncio.connection import Connection

from feeds.store.client import async_client
from feeds.store.packing import HiredisPacking, use_hiredis_packing
from tests.conftest import not_on_cluster


class Packed(HiredisPacking, Connection):
    pass


def test_same_bytes_as_redis_py() -> None:
    commands = [("SET", "k", 0.1), ("SCRIPT LOAD", "return 1"), (b"CONFIG GET", b"x"),
                ("EVALSHA", "ab" * 20, 3, "k1", "键", 3600, b"\x00\xff" * 5000, 12, -1.5e20),
                ("XADD", "s", "*", "m", bytearray(b"body"), memoryview(b"mv"))]
    plain, fast = Connection(), Packed()
    for cmd in commands:
        assert b"".join(fast.pack_command(*cmd)) == b"".join(
            bytes(c) for c in plain.pack_command(*cmd))


@not_on_cluster
def test_client_round_trip(redis_url: str) -> None:
    async def go() -> list[object]:
        client = async_client(redis_url)
        assert use_hiredis_packing(client)
        pipe = client.pipeline(transaction=False)
        pipe.set("k", "值")
        pipe.get("k")
        pipe.execute_command("SCRIPT LOAD", "return 7")
        out = await pipe.execute()
        conn = await client.connection_pool.get_connection()
        assert isinstance(conn, HiredisPacking)
        await client.connection_pool.release(conn)
        await client.aclose()
        return out
    assert asyncio.run(go())[:2] == [True, "值".encode()]
