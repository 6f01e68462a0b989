"""Change events: the outbox table the write path fills in the same transaction as the change.

One row per changed database row: the model, what happened to it (``create``, ``update``,
``delete``, or ``link`` for a row of an implicit many-to-many table) and its key. The
``id`` is given at insert time and orders nothing across transactions; ``seq`` is stamped
later by the relay, once the row is visible, so ``seq`` follows the order in which
changes became visible and a reader that has seen ``seq`` n has seen every change before.
The cache, change feeds and webhooks read this table; nothing else writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

if TYPE_CHECKING:
    from datatier.drivers._protocol import Connection

__all__ = [
    "OUTBOX_TABLE",
    "ChangeEvent",
    "ChangeOp",
    "ensure_outbox",
    "insert_changes_sql",
    "key_text",
    "outbox_ddl",
    "pending_changes",
    "record_changes",
]

OUTBOX_TABLE = "_datatier_changes"
ChangeOp = Literal["create", "update", "delete", "link"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One changed row. ``key`` is ``key_text`` of the row's key values (for ``link``: the
    two related rows' keys, as the ``A``/``B`` columns of the join table hold them)."""

    seq: int
    model: str
    op: ChangeOp
    key: str


def key_text(values: Sequence[Any]) -> str:
    """A row's key values as the compact JSON array that names the row in change events
    and cache keys: the same text on every process for the same row (dates and decimals
    as their ISO/str forms)."""
    return orjson.dumps(list(values), default=str).decode()


def outbox_ddl(provider: str) -> list[str]:
    """Statements that create the outbox table and its indexes if they are missing."""
    table = f'"{OUTBOX_TABLE}"'
    if provider == "sqlite":
        return [
            f"CREATE TABLE IF NOT EXISTS {table} ("
            ' "id" INTEGER PRIMARY KEY AUTOINCREMENT,'
            ' "seq" INTEGER,'
            ' "model" TEXT NOT NULL,'
            ' "op" TEXT NOT NULL,'
            ' "key" TEXT NOT NULL,'
            " \"at\" DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')))",
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{OUTBOX_TABLE}_seq_key" ON {table} ("seq")',
            f'CREATE INDEX IF NOT EXISTS "{OUTBOX_TABLE}_pending_idx" ON {table} ("id")'
            ' WHERE "seq" IS NULL',
        ]
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ("
        ' "id" BIGSERIAL PRIMARY KEY,'
        ' "seq" BIGINT,'
        ' "model" TEXT NOT NULL,'
        ' "op" TEXT NOT NULL,'
        ' "key" TEXT NOT NULL,'
        ' "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)',
        f'CREATE SEQUENCE IF NOT EXISTS "{OUTBOX_TABLE}_seq_seq"',
        f'CREATE UNIQUE INDEX IF NOT EXISTS "{OUTBOX_TABLE}_seq_key" ON {table} ("seq")',
        f'CREATE INDEX IF NOT EXISTS "{OUTBOX_TABLE}_pending_idx" ON {table} ("id")'
        ' WHERE "seq" IS NULL',
    ]


def insert_changes_sql(provider: str, rows: int) -> str:
    """``INSERT`` of ``rows`` events, each bound as three parameters (model, op, key)."""
    if provider == "sqlite":
        values = ", ".join("(?, ?, ?)" for _ in range(rows))
    else:
        values = ", ".join(f"(${3 * i + 1}, ${3 * i + 2}, ${3 * i + 3})" for i in range(rows))
    return f'INSERT INTO "{OUTBOX_TABLE}" ("model", "op", "key") VALUES {values}'


# The events of the write call running in this task, or None when changes are not recorded.
# The engine sets a fresh list around each write call; the writer appends (model, op, key).
pending_changes: ContextVar[list[tuple[str, str, str]] | None] = ContextVar(
    "datatier_pending_changes", default=None
)


async def ensure_outbox(conn: Connection, provider: str) -> None:
    """Create the outbox table, its sequence and indexes on ``conn`` if they are missing."""
    for statement in outbox_ddl(provider):
        await conn.execute(statement)


def _record_sql(provider: str) -> str:
    # One statement shape for any number of events: PostgreSQL takes three text arrays,
    # SQLite one JSON array of [model, op, key] triples, so the driver prepares it once and
    # no event count runs into a parameter limit.
    table = f'"{OUTBOX_TABLE}" ("model", "op", "key")'
    if provider == "sqlite":
        return (
            f"INSERT INTO {table} SELECT json_extract(value, '$[0]'),"
            " json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)"
        )
    return f"INSERT INTO {table} SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"


_RECORD_SQL = {provider: _record_sql(provider) for provider in ("sqlite", "postgresql")}


async def record_changes(
    conn: Connection, provider: str, events: Sequence[tuple[str, str, str]]
) -> None:
    """Insert ``events`` ((model, op, key) triples, in order) into the outbox with one
    statement on ``conn``, inside the caller's transaction."""
    if not events:
        return
    if provider == "sqlite":
        await conn.execute(_RECORD_SQL["sqlite"], [orjson.dumps(events).decode()])
        return
    models, ops, keys = (list(column) for column in zip(*events, strict=True))
    await conn.execute(_RECORD_SQL["postgresql"], [models, ops, keys])
