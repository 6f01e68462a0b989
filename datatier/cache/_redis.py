"""The Redis tier: values shared by every process, plus the short lease that lets one
process fill a key while the others wait.

A hit is one GET. The tier bounds its own concurrency (``slots`` commands at a time; a
burst waits up to ``timeout`` for a slot) in front of a plain redis-py connection pool,
because redis-py's blocking pool pays a condition variable and a timer on every command
even when a connection is free, a cost of about a sixth of the GET itself.

A stored value is ``fresh_until`` (wall-clock seconds, 8-byte big-endian double) followed
by the packed value, kept for ``ttl + swr`` with ``PX``, so every process agrees when an
entry turns stale. Redis failing never fails a read: every error logs a warning (at most
one per ``WARN_EVERY`` seconds), counts in ``errors`` and reads as "not there".
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["RedisTier"]

logger = logging.getLogger("datatier.cache")
_HEADER = struct.Struct(">d")
WARN_EVERY = 10.0
_FAILED: Any = object()  # what ``_command`` answers when Redis failed


class RedisTier:
    """Get/set of packed values and leases on ``redis`` (an ``redis.asyncio.Redis``), at
    most ``slots`` commands at a time; waiting longer than ``timeout`` for a slot counts
    as a failed command."""

    def __init__(self, redis: aioredis.Redis, *, timeout: float = 0.5, slots: int = 64) -> None:
        self.redis = redis
        self.timeout = timeout
        self.errors = 0
        self.available = True
        self._warned_at = -WARN_EVERY
        self._slots = asyncio.Semaphore(slots)

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.5, slots: int = 64) -> RedisTier:
        """A tier on its own client for ``url``: every command (and connecting) fails after
        ``timeout`` seconds, and the pool never needs more than ``slots`` connections."""
        pool = aioredis.ConnectionPool.from_url(
            url,
            max_connections=slots,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        return cls(aioredis.Redis(connection_pool=pool), timeout=timeout, slots=slots)

    async def get(self, key: str) -> tuple[bytes, float] | None:
        """``(value, fresh_until)`` stored at ``key``, or None (absent, or Redis unavailable)."""
        raw = await self._command("GET", lambda: self.redis.get(key))
        if raw is _FAILED:
            return None
        self.available = True
        if raw is None or len(raw) < _HEADER.size:
            return None
        (fresh_until,) = _HEADER.unpack_from(raw)
        return bytes(raw[_HEADER.size :]), fresh_until

    async def set(self, key: str, value: bytes, ttl: float, swr: float) -> None:
        """Store ``value`` at ``key``: fresh for ``ttl`` seconds, kept ``swr`` more as stale."""
        keep = max(1, int((ttl + swr) * 1000))
        stored = _HEADER.pack(time.time() + ttl) + value
        await self._command("SET", lambda: self.redis.set(key, stored, px=keep))

    async def lease(self, key: str, millis: int) -> bool | None:
        """Take the fill lease on ``key`` for ``millis`` ms: True if taken, False if another
        process holds it, None if Redis is unavailable (the caller fills on its own)."""
        taken = await self._command(
            "SET NX", lambda: self.redis.set(key + ":lease", b"1", nx=True, px=millis)
        )
        return None if taken is _FAILED else bool(taken)

    async def release(self, key: str) -> None:
        await self._command("DEL", lambda: self.redis.delete(key + ":lease"))

    async def _command(self, name: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """``call()``'s reply while holding a slot, or ``_FAILED`` (logged and counted)."""
        slots = self._slots
        try:
            if slots.locked():  # a free slot costs no timer: the hit path's common case
                async with asyncio.timeout(self.timeout):
                    await slots.acquire()
            else:
                await slots.acquire()
            try:
                return await call()
            finally:
                slots.release()
        except (RedisError, OSError, TimeoutError) as error:
            self._failed(name, error)
            return _FAILED

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
