"""A LIFO pool of connections, opened lazily up to a size, shared by the async drivers.

Handing a connection back costs no round trip: the pool keeps it as it is (its user
has already finished or rolled back any transaction) or, when the driver says it is
broken, forgets it and lets the next caller open a new one. asyncpg's own pool resets
every connection on release with an extra round trip, which is why this one exists.

The most recently returned connection is handed out first, so a lightly loaded
service keeps reusing a few warm connections (their prepared statements included).
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from datatier.errors import PoolTimeout, QueryError

__all__ = ["Lease", "Pool", "Pooled", "PooledDriver"]


class Pooled(Protocol):
    """What the pool needs of a connection; none of it does I/O except ``aclose``."""

    def alive(self) -> bool:
        """False once the connection is known to be closed or broken."""
        ...

    def reset(self, *, interrupted: bool) -> bool:
        """Make the connection ready for its next user; False if it should be dropped instead.

        ``interrupted`` is true when its user left on a cancellation, possibly mid-statement.
        """
        ...

    def discard(self) -> None:
        """Close the connection now, without waiting for the server."""
        ...

    async def aclose(self) -> None:
        """Close the connection politely (at shutdown)."""
        ...


C = TypeVar("C", bound=Pooled)


class Pool(Generic[C]):
    """Up to ``size`` connections made by ``connect``; ``acquire`` waits at most ``timeout`` seconds."""

    def __init__(self, connect: Callable[[], Awaitable[C]], *, size: int, timeout: float) -> None:
        if size < 1:
            raise ValueError(f"pool size must be at least 1, not {size}")
        self._connect = connect
        self.size = size
        self.timeout = timeout
        self._idle: list[C] = []
        self._count = 0  # open connections plus those being opened
        self._waiters: deque[asyncio.Future[C | None]] = deque()
        self._closed = False

    def take_idle(self) -> C | None:
        """An idle live connection at once, or None (then ``acquire`` opens one or waits)."""
        idle = self._idle
        while idle:
            conn = idle.pop()
            if conn.alive():
                return conn
            self._forget(conn)
        return None

    async def acquire(self) -> C:
        """A connection: an idle one, a new one while under ``size``, else the next one released."""
        conn = self.take_idle()
        if conn is not None:
            return conn
        if self._closed:
            raise QueryError("the database driver is closed")
        if self._count < self.size:
            self._count += 1
            return await self._open_reserved()
        handed = await self._wait()
        if handed is None:  # a slot was freed for us to fill
            return await self._open_reserved()
        return handed

    def release(self, conn: C, *, broken: bool = False) -> None:
        """Give ``conn`` back; a ``broken`` one is dropped and its slot passed on."""
        if broken or self._closed or not conn.alive():
            self._forget(conn)
            return
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def give_back(self, conn: C, *, interrupted: bool) -> None:
        """Release ``conn`` after use: kept if it resets cleanly, dropped otherwise."""
        self.release(conn, broken=not conn.reset(interrupted=interrupted))

    async def close(self) -> None:
        """Close the idle connections; connections in use are closed when released."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(QueryError("the database driver was closed"))
        idle, self._idle = self._idle, []
        self._count -= len(idle)
        await asyncio.gather(*(conn.aclose() for conn in idle), return_exceptions=True)

    @property
    def in_use(self) -> int:
        """Connections handed out and not yet released (or being opened)."""
        return self._count - len(self._idle)

    async def _open_reserved(self) -> C:
        try:
            return await self._connect()
        except BaseException:
            self._count -= 1
            self._pass_slot()
            raise

    def _forget(self, conn: C) -> None:
        self._count -= 1
        conn.discard()
        self._pass_slot()

    def _pass_slot(self) -> None:
        # A slot came free: the first live waiter opens a connection into it.
        while self._waiters and not self._closed:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._count += 1
                waiter.set_result(None)
                return

    async def _wait(self) -> C | None:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[C | None] = loop.create_future()
        self._waiters.append(waiter)
        timer = (
            loop.call_later(self.timeout, self._expire, waiter)
            if math.isfinite(self.timeout)
            else None
        )
        try:
            return await waiter
        except asyncio.CancelledError:
            # Cancelled after being handed a connection (or a slot): pass it on, do not leak it.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                got = waiter.result()
                if got is None:
                    self._count -= 1
                    self._pass_slot()
                else:
                    self.release(got)
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _expire(self, waiter: asyncio.Future[C | None]) -> None:
        if waiter.done():
            return
        busy = self._count - len(self._idle)
        waiter.set_exception(
            PoolTimeout(
                f"no database connection became free within {self.timeout:g} s "
                f"(pool size {self.size}, {busy} in use); raise the pool size or the acquire "
                "timeout, or hold connections for shorter"
            )
        )


class Lease(Generic[C]):
    """``async with``: a connection from the pool for the block, handed back (or dropped) after it."""

    __slots__ = ("_conn", "_pool")

    def __init__(self, pool: Pool[C]) -> None:
        self._pool = pool

    async def __aenter__(self) -> C:
        # The common case, an idle connection, needs no await (and no coroutine object).
        conn = self._pool.take_idle()
        if conn is None:
            conn = await self._pool.acquire()
        self._conn = conn
        return conn

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        interrupted = exc_type is not None and not issubclass(exc_type, Exception)
        self._pool.give_back(self._conn, interrupted=interrupted)


T = TypeVar("T")


class PooledDriver(Generic[C]):
    """What both async drivers share: the pool, the statement listeners, and running calls
    on a pooled connection. A driver sets ``_pool`` and ``_listeners`` in ``__init__``."""

    _pool: Pool[C]
    _listeners: list[Any]

    def connection(self) -> Lease[C]:
        """Take a connection from the pool for the duration of the block."""
        return Lease(self._pool)

    async def run(self, op: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await op(connection, *args)`` on a pooled connection: ``async with connection()``
        without the context manager's own calls (this is every read's path)."""
        pool = self._pool
        conn = pool.take_idle()
        if conn is None:
            conn = await pool.acquire()
        try:
            result = await op(conn, *args)
        except BaseException as error:
            pool.give_back(conn, interrupted=not isinstance(error, Exception))
            raise
        pool.give_back(conn, interrupted=False)
        return result

    def add_listener(self, listener: Any) -> None:
        """Call ``listener`` after every statement, on every connection."""
        self._listeners.append(listener)

    async def close(self) -> None:
        """Close every idle connection now and the others as they come back."""
        await self._pool.close()
