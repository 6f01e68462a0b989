"""What the engine asks of a database driver: pooled async connections that run SQL with
positional parameters and report every statement.

SQL reaches a driver already written for its database (``$1`` placeholders on PostgreSQL,
``?`` on SQLite) and values already converted to what the database stores; drivers do no
SQL building and no value conversion of their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

T = TypeVar("T")

__all__ = ["Connection", "Driver", "IsolationLevel", "Row", "StatementEvent", "StatementListener"]

Row = Sequence[Any]
IsolationLevel = Literal["read_uncommitted", "read_committed", "repeatable_read", "serializable"]


@dataclass(frozen=True, slots=True)
class StatementEvent:
    """One statement the driver ran: its SQL, how long it took, how many rows came back or changed."""

    sql: str
    duration_s: float
    rows: int
    error: BaseException | None = None


StatementListener = Callable[[StatementEvent], None]


class Connection(Protocol):
    """One database session taken from the pool."""

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """All rows of a query, as sequences indexed by column position."""
        ...

    async def fetch_named(
        self, sql: str, args: Sequence[Any] = ()
    ) -> tuple[tuple[str, ...], list[Row]]:
        """The column names and rows of a query (raw SQL, whose columns nobody knows)."""
        ...

    async def fetch_one(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        """The first row of a query, or None."""
        ...

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per argument tuple."""
        ...

    def transaction(
        self, *, isolation_level: IsolationLevel | None = None
    ) -> AbstractAsyncContextManager[None]:
        """A transaction (a savepoint when one is already open); rolled back if the block raises."""
        ...

    @property
    def in_transaction(self) -> bool: ...


class Driver(Protocol):
    """A pool of connections to one database."""

    provider: Literal["postgresql", "sqlite"]

    def connection(self) -> AbstractAsyncContextManager[Connection]:
        """Take a connection from the pool for the duration of the block."""
        ...

    async def run(self, op: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await op(connection, *args)`` on a connection from the pool."""
        ...

    def add_listener(self, listener: StatementListener) -> None:
        """Call ``listener`` after every statement (the logging, metrics and slow-query hook)."""
        ...

    async def close(self) -> None:
        """Close every connection; the driver cannot be used afterwards."""
        ...
