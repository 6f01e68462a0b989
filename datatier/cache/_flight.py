"""In-process single flight: concurrent callers for one key share one running fill."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """``await flight.run(key, fill)``: the first caller for ``key`` runs ``fill()``; callers
    arriving while it runs await the same result (or exception)."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Future[T]] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._running

    async def run(self, key: str, fill: Callable[[], Awaitable[T]]) -> tuple[T, bool]:
        """``(result, led)``: ``led`` is True for the caller that ran ``fill``."""
        running = self._running.get(key)
        while running is not None:
            try:
                # shield: one waiter being cancelled must not cancel the shared fill
                return await asyncio.shield(running), False
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                running = self._running.get(key)  # the leader was cancelled: lead or wait again
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            result = await fill()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        else:
            future.set_result(result)
            return result, True
        finally:
            del self._running[key]
