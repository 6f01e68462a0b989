"""Prisma's ``_prisma_migrations`` table, and applying one migration script recorded in it.

The table has Prisma's exact columns and types on each database, so Prisma
Migrate and datatier read and extend the same history. A row per attempt:
``finished_at`` set means applied, ``finished_at`` empty with ``rolled_back_at``
empty means failed (and blocks later deploys until resolved), ``rolled_back_at``
set means Prisma ignores the row (datatier's rollback sets it, Prisma's
``migrate resolve --rolled-back`` does the same).

Each database's differences (DDL, placeholders, clock, locking, how a script
runs in a transaction) live in a subclass of ``HistoryStore``.
"""

from __future__ import annotations

import getpass
import re
import socket
import sqlite3
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import psycopg
from psycopg import pq

from datatier.errors import DatatierError
from datatier.migrate._catalog import Catalog
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog

__all__ = [
    "ADVISORY_LOCK_KEY",
    "HistoryRow",
    "HistoryStore",
    "MigrationError",
    "PostgresHistory",
    "SqliteHistory",
    "has_transaction_control",
    "history_store",
    "needs_foreign_keys_off",
    "split_sqlite_script",
    "who_ran_it",
]

TABLE = "_prisma_migrations"
ADVISORY_LOCK_KEY = 72707369  # Prisma Migrate's key, so both tools exclude each other
LOCK_WAIT_SECONDS = 60.0

_TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|END|ROLLBACK|START\s+TRANSACTION)\b", re.IGNORECASE | re.MULTILINE
)
_FOREIGN_KEYS_PRAGMA = re.compile(r"^\s*PRAGMA\s+foreign_keys\s*=", re.IGNORECASE | re.MULTILINE)


class MigrationError(DatatierError):
    """A migration could not be applied or rolled back, or the history forbids going on."""

    code = "migration_failed"


@dataclass(frozen=True)
class HistoryRow:
    """One row of ``_prisma_migrations``."""

    id: str
    checksum: str
    finished_at: datetime | None
    migration_name: str
    logs: str | None
    rolled_back_at: datetime | None
    started_at: datetime
    applied_steps_count: int

    @property
    def is_applied(self) -> bool:
        return self.finished_at is not None and self.rolled_back_at is None

    @property
    def is_failed(self) -> bool:
        return self.finished_at is None and self.rolled_back_at is None


def who_ran_it() -> str:
    """``user@host`` and the tool, for the ``logs`` column."""
    from datatier import __version__

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()} (datatier {__version__})"


def has_transaction_control(script: str) -> bool:
    """Whether a script opens or ends transactions itself (Prisma's enum changes on PostgreSQL do)."""
    return _TRANSACTION_CONTROL.search(_without_comments(script)) is not None


def needs_foreign_keys_off(script: str) -> bool:
    """Whether a SQLite script switches foreign keys, which only works outside a transaction."""
    return _FOREIGN_KEYS_PRAGMA.search(_without_comments(script)) is not None


def _without_comments(script: str) -> str:
    """``script`` without ``--`` comments and ``$$``-quoted bodies (a function's own BEGIN/END)."""
    return re.sub(r"--[^\n]*", "", re.sub(r"(\$\w*\$).*?\1", "", script, flags=re.S))


def split_sqlite_script(script: str) -> list[str]:
    """The statements of a SQLite script, each ending in ``;`` (triggers and quoted ``;`` kept whole)."""
    statements: list[str] = []
    start = 0
    for index, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : index + 1]):
            statements.append(script[start : index + 1].strip())
            start = index + 1
    rest = script[start:]
    if _without_comments(rest).strip():
        statements.append(rest.strip())
    return statements


class HistoryStore(ABC):
    """``_prisma_migrations`` on one open connection, and the way scripts run on that database."""

    provider: ClassVar[str]
    create_table: ClassVar[str]
    placeholder: ClassVar[str]

    @abstractmethod
    def table_exists(self) -> bool: ...

    @abstractmethod
    def read_catalog(self, db_schema: str) -> Catalog:
        """The database's catalog (``db_schema`` on PostgreSQL), read on this connection."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement outside any migration transaction; its rows (if any)."""

    @abstractmethod
    def now(self) -> Any:
        """The current time as this database stores it in the history."""

    @abstractmethod
    def run_script(self, script: str, after: Callable[[], None]) -> None:
        """Apply ``script``, then ``after()`` (the history update), in one transaction where possible.

        Raises ``MigrationError`` with the database's message when a statement fails; what
        the script did is rolled back then, except where it ran outside a transaction.
        """

    @abstractmethod
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclude other migration runs on this database while the block runs."""

    def count(self, query: str) -> int:
        """The number a ``SELECT COUNT(*)`` returns; 0 when it fails (say, its table is missing)."""
        try:
            rows = self.execute(query)
        except (psycopg.Error, sqlite3.Error):
            return 0
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def data_losses(self, checks: Sequence[Any]) -> list[str]:
        """The messages of the ``DataLossCheck``s whose count is above zero here, with the count."""
        losses = []
        for check in checks:
            count = self.count(check.sql)
            if count:
                losses.append(f"{check.message} ({count} row{'s' if count != 1 else ''})")
        return losses

    def ensure_table(self) -> None:
        if not self.table_exists():
            self.execute(self.create_table)

    def rows(self) -> list[HistoryRow]:
        """Every row, in the order the migrations were started (empty when there is no table)."""
        if not self.table_exists():
            return []
        raw = self.execute(
            "SELECT id, checksum, finished_at, migration_name, logs, rolled_back_at, "
            f"started_at, applied_steps_count FROM {TABLE} ORDER BY started_at, migration_name"
        )
        return [
            HistoryRow(
                id=r[0],
                checksum=r[1],
                finished_at=_to_datetime(r[2]),
                migration_name=r[3],
                logs=r[4],
                rolled_back_at=_to_datetime(r[5]),
                started_at=_to_datetime(r[6]) or datetime.fromtimestamp(0, UTC),
                applied_steps_count=int(r[7]),
            )
            for r in raw
        ]

    def record_started(self, name: str, checksum: str, logs: str | None = None) -> str:
        """Insert the row of a migration about to run; its id."""
        row_id = str(uuid.uuid4())
        p = self.placeholder
        self.execute(
            f"INSERT INTO {TABLE} (id, checksum, migration_name, logs, started_at, "
            f"applied_steps_count) VALUES ({p}, {p}, {p}, {p}, {p}, 0)",
            (row_id, checksum, name, logs, self.now()),
        )
        return row_id

    def record_finished(self, row_id: str, steps: int = 1) -> None:
        """Mark a started migration applied (called inside its transaction where there is one)."""
        p = self.placeholder
        self.execute(
            f"UPDATE {TABLE} SET finished_at = {p}, applied_steps_count = {p} WHERE id = {p}",
            (self.now(), steps, row_id),
        )

    def record_failed(self, row_id: str, logs: str) -> None:
        p = self.placeholder
        self.execute(f"UPDATE {TABLE} SET logs = {p} WHERE id = {p}", (logs, row_id))

    def record_applied(self, name: str, checksum: str, logs: str) -> None:
        """A row for a migration marked applied without running it (``migrate resolve --applied``)."""
        self.record_finished(self.record_started(name, checksum, logs), steps=0)

    def record_rolled_back(self, row_id: str, note: str) -> None:
        """Set ``rolled_back_at`` and append ``note`` to the logs: Prisma then ignores the row."""
        p = self.placeholder
        self.execute(
            f"UPDATE {TABLE} SET rolled_back_at = {p}, "
            f"logs = CASE WHEN logs IS NULL THEN {p} ELSE logs || {p} END WHERE id = {p}",
            (self.now(), note, "\n" + note, row_id),
        )


def _to_datetime(value: Any) -> datetime | None:
    """A history timestamp as read back: PostgreSQL's ``timestamptz``, SQLite's milliseconds or text."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    text = str(value).replace("T", " ").removesuffix("Z")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class PostgresHistory(HistoryStore):
    """The history on PostgreSQL; the connection is used in autocommit mode."""

    provider = "postgresql"
    placeholder = "%s"
    create_table = (
        "CREATE TABLE _prisma_migrations (\n"
        "    id                      VARCHAR(36) PRIMARY KEY NOT NULL,\n"
        "    checksum                VARCHAR(64) NOT NULL,\n"
        "    finished_at             TIMESTAMPTZ,\n"
        "    migration_name          VARCHAR(255) NOT NULL,\n"
        "    logs                    TEXT,\n"
        "    rolled_back_at          TIMESTAMPTZ,\n"
        "    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
        "    applied_steps_count     INTEGER NOT NULL DEFAULT 0\n"
        ")"
    )

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        if conn.info.transaction_status != pq.TransactionStatus.IDLE:
            conn.rollback()
        conn.autocommit = True
        self.conn = conn

    def table_exists(self) -> bool:
        rows = self.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))
        return bool(rows[0][0])

    def read_catalog(self, db_schema: str) -> Catalog:
        return read_postgres_catalog(self.conn, db_schema)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.conn.execute(sql.encode() if not params else sql, params or None)
        return list(cursor.fetchall()) if cursor.description else []

    def now(self) -> Any:
        return datetime.now(UTC)

    def run_script(self, script: str, after: Callable[[], None]) -> None:
        if has_transaction_control(script):
            # The script brackets its own transactions; it runs as written, then is recorded.
            try:
                self.conn.execute(script.encode())
            except psycopg.Error as e:
                self._abort_open_transaction()
                raise MigrationError(_reason(e)) from None
            after()
            return
        try:
            with self.conn.transaction():
                self.conn.execute(script.encode())
                after()
        except psycopg.Error as e:
            raise MigrationError(_reason(e)) from None

    def _abort_open_transaction(self) -> None:
        if self.conn.info.transaction_status != pq.TransactionStatus.IDLE:
            self.conn.execute(b"ROLLBACK")

    @contextmanager
    def lock(self) -> Iterator[None]:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not self.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))[0][0]:
            if time.monotonic() > deadline:
                raise MigrationError(
                    f"another migration run holds the lock on this database "
                    f"(pg_advisory_lock({ADVISORY_LOCK_KEY})) and did not finish within "
                    f"{LOCK_WAIT_SECONDS:.0f} s; wait for it, or end the session holding it "
                    "(see pg_locks where locktype = 'advisory')"
                )
            time.sleep(0.1)
        try:
            yield
        finally:
            self._abort_open_transaction()
            self.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))


class SqliteHistory(HistoryStore):
    """The history on SQLite; the connection is in autocommit mode (``isolation_level=None``)."""

    provider = "sqlite"
    placeholder = "?"
    create_table = (
        'CREATE TABLE "_prisma_migrations" (\n'
        '    "id"                    TEXT PRIMARY KEY NOT NULL,\n'
        '    "checksum"              TEXT NOT NULL,\n'
        '    "finished_at"           DATETIME,\n'
        '    "migration_name"        TEXT NOT NULL,\n'
        '    "logs"                  TEXT,\n'
        '    "rolled_back_at"        DATETIME,\n'
        '    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,\n'
        '    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0\n'
        ")"
    )

    def __init__(self, conn: sqlite3.Connection) -> None:
        conn.isolation_level = None
        self.conn = conn

    def table_exists(self) -> bool:
        rows = self.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
        )
        return bool(rows)

    def read_catalog(self, db_schema: str) -> Catalog:
        return read_sqlite_catalog(self.conn)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, tuple(params)).fetchall())

    def now(self) -> Any:
        # Prisma stores these DateTime columns as Unix milliseconds on SQLite.
        return int(time.time() * 1000)

    def run_script(self, script: str, after: Callable[[], None]) -> None:
        if needs_foreign_keys_off(script) or has_transaction_control(script):
            # PRAGMA foreign_keys is a no-op inside a transaction: the script runs as written.
            try:
                self.conn.executescript(script)
            except sqlite3.Error as e:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise MigrationError(str(e)) from None
            finally:
                self.conn.execute("PRAGMA foreign_keys = ON")
            after()
            return
        self.conn.execute("BEGIN")
        try:
            for statement in split_sqlite_script(script):
                self.conn.execute(statement)
            after()
        except sqlite3.Error as e:
            self.conn.execute("ROLLBACK")
            raise MigrationError(str(e)) from None
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def lock(self) -> Iterator[None]:
        # An advisory flock on the database file: SQLite's own locks are POSIX record locks,
        # which flock does not touch, so only other migration runs wait for this one.
        row = self.conn.execute(
            "SELECT file FROM pragma_database_list WHERE name = 'main'"
        ).fetchone()
        path = row[0] if row else ""
        if not path or sys.platform == "win32":
            yield
            return
        import fcntl

        with open(path, "rb") as handle:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise MigrationError(
                            f"another migration run holds the lock on {path} and did not finish "
                            f"within {LOCK_WAIT_SECONDS:.0f} s; wait for it to end"
                        ) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _reason(error: psycopg.Error) -> str:
    return str(error).strip() or type(error).__name__


def history_store(conn: psycopg.Connection[Any] | sqlite3.Connection) -> HistoryStore:
    """The store for an open connection (psycopg: PostgreSQL, sqlite3: SQLite)."""
    if isinstance(conn, sqlite3.Connection):
        return SqliteHistory(conn)
    return PostgresHistory(conn)
