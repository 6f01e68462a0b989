"""Apply a multi-statement SQL script, such as Prisma's migration output, to a live connection."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg

__all__ = ["apply_sql_script"]


def apply_sql_script(
    conn: psycopg.Connection[Any] | sqlite3.Connection, sql_text: str, provider: str
) -> None:
    """Run every statement of ``sql_text`` on ``conn``; ``provider`` is ``postgresql`` or ``sqlite``.

    On PostgreSQL the script runs as one transaction (a savepoint if the
    caller already has one open) through the simple query protocol, so it
    applies completely or not at all. On SQLite it goes through
    ``executescript``, which commits any pending transaction first.
    """
    if provider in ("postgresql", "postgres"):
        if not isinstance(conn, psycopg.Connection):
            raise TypeError(f"provider {provider!r} needs a psycopg connection")
        with conn.transaction():
            conn.execute(sql_text.encode())
    elif provider == "sqlite":
        if not isinstance(conn, sqlite3.Connection):
            raise TypeError("provider 'sqlite' needs a sqlite3 connection")
        conn.executescript(sql_text)
    else:
        raise ValueError(f"unknown provider {provider!r}; expected 'postgresql' or 'sqlite'")
