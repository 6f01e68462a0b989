"""What several workloads of one run share (the loaded blog database): made on first use, closed at the end."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")


class Resources:
    """Context managers entered once per key and exited, in reverse order, when the run ends.

    A resource that failed to open fails the same way for every later workload asking
    for it, without trying again.
    """

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._made: dict[str, Any] = {}
        self._failed: dict[str, BaseException] = {}

    def get(self, key: str, make: Callable[[], AbstractContextManager[T]]) -> T:
        """The resource under ``key``, entering ``make()`` the first time it is asked for."""
        if key in self._failed:
            raise self._failed[key]
        if key not in self._made:
            try:
                self._made[key] = self._stack.enter_context(make())
            except Exception as exc:
                self._failed[key] = exc
                raise
        value: T = self._made[key]
        return value

    def close(self) -> None:
        """Exit every resource entered so far."""
        self._made.clear()
        self._stack.close()

    def __enter__(self) -> Resources:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
