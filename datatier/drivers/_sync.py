"""Open a synchronous DB-API connection from a database URL, with failures as one clear line.

PostgreSQL goes through psycopg 3, SQLite through the standard library. Prisma's
own URL parameters (``schema``, ``connection_limit``, ...) are understood or
dropped here, so they never reach the driver.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

from datatier.config import provider_for_url
from datatier.drivers._url import parse_postgres_url, parse_sqlite_url
from datatier.errors import ConnectionFailed

__all__ = ["CONNECT_TIMEOUT", "SyncConnection", "connect_sync", "postgres_schema"]

CONNECT_TIMEOUT = 5  # seconds

SyncConnection = psycopg.Connection[Any] | sqlite3.Connection


def connect_sync(url: str) -> SyncConnection:
    """A new connection to ``url`` (``postgresql://`` or ``file:``); ``ConnectionFailed`` if it cannot be opened.

    PostgreSQL connections start with no transaction open (autocommit off, as
    psycopg does); SQLite connections are in autocommit mode (transactions are
    opened with an explicit BEGIN) and enforce foreign keys, as Prisma's do.
    """
    if provider_for_url(url) == "sqlite":
        return _connect_sqlite(url)
    return _connect_postgres(url)


def postgres_schema(url: str) -> str:
    """The schema a PostgreSQL URL works in: its ``?schema=`` parameter, else ``public``."""
    return parse_postgres_url(url).schema


def _connect_postgres(url: str) -> psycopg.Connection[Any]:
    target = parse_postgres_url(url)
    try:
        conn = psycopg.connect(
            target.dsn,
            connect_timeout=CONNECT_TIMEOUT,
            options=f"-c search_path={_quote_ident(target.schema)}",
        )
    except psycopg.Error as e:
        raise ConnectionFailed(_postgres_reason(str(e), target.where, target.dbname)) from None
    return conn


def _quote_ident(name: str) -> str:
    # Goes through libpq's options string, where spaces and backslashes are escaped.
    quoted = '"' + name.replace('"', '""') + '"'
    return quoted.replace("\\", "\\\\").replace(" ", "\\ ")


def _postgres_reason(message: str, where: str, dbname: Any) -> str:
    """psycopg's multi-line failure text -> one line that names the server and what went wrong."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    reason = first.rpartition(" failed: ")[2] if " failed: " in first else first
    reason = reason.removeprefix("FATAL:").strip()
    if "does not exist" in reason and reason.startswith("database"):
        return f"{reason} on {where}"
    if reason.startswith("failed to resolve host"):
        return f"cannot connect to PostgreSQL at {where}: {reason}"
    if "timeout expired" in reason:
        reason = f"no answer within {CONNECT_TIMEOUT} s"
    return f"cannot connect to PostgreSQL at {where}: {reason[:1].lower()}{reason[1:]}"


def _connect_sqlite(url: str) -> sqlite3.Connection:
    target = parse_sqlite_url(url)
    return _open_sqlite(str(target.path) if target.path else ":memory:", target.shown)


def _open_sqlite(target: str, shown: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(target, timeout=CONNECT_TIMEOUT, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as e:
        raise ConnectionFailed(f"cannot open SQLite database {shown}: {e}") from None
    return conn
