"""The only code that talks to a database: pooled async drivers, and sync connections for tools."""

from __future__ import annotations

from datatier.drivers._open import open_driver
from datatier.drivers._postgres import PostgresConnection, PostgresDriver
from datatier.drivers._protocol import (
    Connection,
    Driver,
    IsolationLevel,
    Row,
    StatementEvent,
    StatementListener,
)
from datatier.drivers._sqlite import SqliteConnection, SqliteDriver
from datatier.drivers._sync import SyncConnection, connect_sync, postgres_schema

__all__ = [
    "Connection",
    "Driver",
    "IsolationLevel",
    "PostgresConnection",
    "PostgresDriver",
    "Row",
    "SqliteConnection",
    "SqliteDriver",
    "StatementEvent",
    "StatementListener",
    "SyncConnection",
    "connect_sync",
    "open_driver",
    "postgres_schema",
]
