"""Session checks with the asyncio Redis client (for the push channel's event loop)."""
from __future__ import annotations

import redis.asyncio as aredis

from domain.access import User
from feeds.accounts.auth import SESSION_IDLE_S, judge_record, session_user_of, token_hash
from feeds.store import keys


async def session_user(client: aredis.Redis, token: str | None) -> User | None:
    """The user of a live session token (its idle expiry renewed), or None."""
    if not token or len(token) > 128:
        return None
    key = keys.session(token_hash(token))
    rec, ttl = judge_record(await client.getex(key, ex=SESSION_IDLE_S))
    if ttl == 0:
        await client.delete(key)
    elif ttl is not None:
        await client.expire(key, ttl)
    return None if rec is None else session_user_of(rec)
