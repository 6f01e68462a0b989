"""The Redis tier: values shared by every process, plus the short lease that lets one
process fill a key while the others wait.

A stored value is ``fresh_until`` (wall-clock seconds, 8-byte big-endian double) followed
by the packed value, kept for ``ttl + swr`` with ``PX``, so every process agrees when an
entry turns stale. Redis failing never fails a read: every error logs a warning (at most
one per ``WARN_EVERY`` seconds), counts in ``errors`` and reads as "not there".
"""

from __future__ import annotations

import logging
import struct
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["RedisTier"]

logger = logging.getLogger("datatier.cache")
_HEADER = struct.Struct(">d")
WARN_EVERY = 10.0


class RedisTier:
    """Get/set of packed values and leases on ``redis`` (an ``redis.asyncio.Redis``)."""

    def __init__(self, redis: aioredis.Redis, *, timeout: float = 0.5) -> None:
        self.redis = redis
        self.timeout = timeout
        self.errors = 0
        self.available = True
        self._warned_at = -WARN_EVERY

    async def get(self, key: str) -> tuple[bytes, float] | None:
        """``(value, fresh_until)`` stored at ``key``, or None (absent, or Redis unavailable)."""
        try:
            raw: Any = await self.redis.get(key)
        except (RedisError, OSError) as error:
            self._failed("GET", error)
            return None
        self.available = True
        if raw is None or len(raw) < _HEADER.size:
            return None
        (fresh_until,) = _HEADER.unpack_from(raw)
        return bytes(raw[_HEADER.size :]), fresh_until

    async def set(self, key: str, value: bytes, ttl: float, swr: float) -> None:
        """Store ``value`` at ``key``: fresh for ``ttl`` seconds, kept ``swr`` more as stale."""
        keep = max(1, int((ttl + swr) * 1000))
        try:
            await self.redis.set(key, _HEADER.pack(time.time() + ttl) + value, px=keep)
        except (RedisError, OSError) as error:
            self._failed("SET", error)

    async def lease(self, key: str, millis: int) -> bool | None:
        """Take the fill lease on ``key`` for ``millis`` ms: True if taken, False if another
        process holds it, None if Redis is unavailable (the caller fills on its own)."""
        try:
            taken = await self.redis.set(key + ":lease", b"1", nx=True, px=millis)
        except (RedisError, OSError) as error:
            self._failed("SET NX", error)
            return None
        return bool(taken)

    async def release(self, key: str) -> None:
        try:
            await self.redis.delete(key + ":lease")
        except (RedisError, OSError) as error:
            self._failed("DEL", error)

    def _failed(self, command: str, error: Exception) -> None:
        self.errors += 1
        self.available = False
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "cache: Redis %s failed (%s: %s); reads go to the memory tier and the database",
                command,
                type(error).__name__,
                error,
            )
