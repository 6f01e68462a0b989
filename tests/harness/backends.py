"""The backends a contract suite runs on: which database, its URL, what it can do, and a raw connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any, Protocol

import psycopg
import pytest

__all__ = ["CAPABILITIES", "Backend", "Capabilities", "RawConnection", "RawCursor"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a database supports, for tests that only make sense where a feature exists."""

    enums: bool
    scalar_lists: bool
    native_types: bool
    transactional_ddl: bool
    schemas: bool

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every capability name, in declaration order."""
        return tuple(f.name for f in fields(cls))


CAPABILITIES: Mapping[str, Capabilities] = {
    # SQLite rolls back CREATE/DROP TABLE with the transaction, like PostgreSQL does.
    "sqlite": Capabilities(
        enums=False, scalar_lists=False, native_types=False, transactional_ddl=True, schemas=False
    ),
    "postgresql": Capabilities(
        enums=True, scalar_lists=True, native_types=True, transactional_ddl=True, schemas=True
    ),
}

_PLACEHOLDERS: Mapping[str, str] = {"sqlite": "?", "postgresql": "%s"}


class RawCursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class RawConnection(Protocol):
    """The part of DB-API both ``sqlite3`` and ``psycopg`` connections share."""

    def execute(self, query: str, params: Sequence[Any] = ..., /) -> RawCursor: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Backend:
    """One database a contract test runs against: ``provider``, a fresh database's ``url``, its ``caps``."""

    provider: str
    url: str
    caps: Capabilities

    @property
    def placeholder(self) -> str:
        """The parameter marker of the raw connection: ``?`` on SQLite, ``%s`` on PostgreSQL."""
        return _PLACEHOLDERS[self.provider]

    def has(self, capability: str) -> bool:
        """Whether the backend has ``capability`` (a ``Capabilities`` field name; a typo raises ``ValueError``)."""
        if capability not in Capabilities.names():
            raise ValueError(f"unknown capability {capability!r}; known: {', '.join(Capabilities.names())}")
        value: bool = getattr(self.caps, capability)
        return value

    def require(self, *capabilities: str) -> None:
        """Skip the test on this backend unless it has every one of ``capabilities``.

        A skip for a missing capability is legitimate in CI too: the backend
        cannot do it, unlike a server that could not be reached.
        """
        missing = [name for name in capabilities if not self.has(name)]
        if missing:
            pytest.skip(f"{self.provider} lacks capability {', '.join(missing)}")

    @contextmanager
    def connect(self) -> Iterator[RawConnection]:
        """A raw autocommit connection to the backend's database, closed on exit."""
        conn: RawConnection
        if self.provider == "sqlite":
            path = self.url.removeprefix("file:").partition("?")[0]
            conn = sqlite3.connect(path, isolation_level=None)
        else:
            conn = psycopg.connect(self.url, autocommit=True)
        try:
            yield conn
        finally:
            conn.close()
