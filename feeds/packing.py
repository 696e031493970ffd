"""Redis command packing in C (hiredis) for asyncio clients, as sync redis-py already does."""
from __future__ import annotations

import logging
from typing import Any

from redis.connection import HiredisRespSerializer

log = logging.getLogger(__name__)

try:
    import hiredis  # noqa: F401  (only whether it is there)
    HAVE_HIREDIS = True
except ImportError:  # pragma: no cover - hiredis is a dependency
    HAVE_HIREDIS = False


class HiredisPacking:
    """Connection mixin: pack commands with hiredis (same bytes, no quadratic joins)."""

    _hiredis_serializer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        """The command in RESP, packed by hiredis."""
        return self._hiredis_serializer.pack(*args)


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
