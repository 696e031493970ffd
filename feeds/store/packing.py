"""Redis command packing in C (hiredis) for asyncio clients, as sync redis-py already does."""
from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import DataError

log = logging.getLogger(__name__)

try:
    from hiredis import pack_command as _pack
    HAVE_HIREDIS = True
except ImportError:  # pragma: no cover - hiredis is a dependency
    HAVE_HIREDIS = False


class HiredisPacking:
    """Connection mixin: pack commands with hiredis (same bytes, no quadratic joins)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        """The command in RESP, packed by hiredis (a command name may hold spaces:
        'SCRIPT LOAD'; bytearray and memoryview become bytes), like redis-py's serializer."""
        first = args[0]
        if isinstance(first, str):
            args = (*first.encode().split(), *args[1:])
        elif b" " in first:
            args = (*first.split(), *args[1:])
        try:
            return [_pack(args)]
        except TypeError:  # hiredis takes no bytearray or memoryview: as bytes, once more
            args = tuple(bytes(a) if isinstance(a, bytearray | memoryview) else a for a in args)
        try:
            return [_pack(args)]
        except TypeError as e:
            raise DataError(str(e)) from e


def use_hiredis_packing(client: Any) -> bool:
    """Make an asyncio client's pool create hiredis-packing connections; False if it cannot."""
    pool = getattr(client, "connection_pool", None)
    base = getattr(pool, "connection_class", None)
    if not HAVE_HIREDIS or base is None:
        return False
    if not issubclass(base, HiredisPacking):
        pool.connection_class = type(f"Hiredis{base.__name__}", (HiredisPacking, base), {})
        log.debug("asyncio Redis connections pack with hiredis")
    return True
