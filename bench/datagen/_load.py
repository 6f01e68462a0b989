"""Loading a generated dataset into PostgreSQL once, and reusing it while its marker matches.

A dataset database holds a marker table ``_datatier_bench_meta`` (key, value) written
last, after COPY, the sequences and ANALYZE: a load that stopped half-way has no
marker and is redone; a database whose marker equals the wanted one is reused as is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import asyncpg

from bench._server import ServerUnavailable, masked, with_database
from datatier.migrate._push import push
from datatier.schema import load_schema

META_TABLE = "_datatier_bench_meta"


class TableRows(Protocol):
    """One table's rows in column order, as COPY takes them."""

    @property
    def name(self) -> str: ...

    @property
    def columns(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> list[tuple[Any, ...]]: ...


def ensure_database(
    admin: str,
    name: str,
    schema: Path,
    want: dict[str, str],
    make_tables: Callable[[], Sequence[TableRows]],
    indexes: Sequence[str] = (),
) -> tuple[str, bool]:
    """The URL of database ``name`` holding ``make_tables()``'s rows, and whether it was reused.

    ``admin`` is a URL on the server with the right to create databases; ``schema`` is
    pushed with datatier's own ``push`` before the rows are copied in (tables in the
    order given, so foreign keys hold). Every ``"id"`` sequence moves past the loaded ids.
    ``indexes`` are statements run after the copy, before ANALYZE.
    """
    url = with_database(admin, name)
    try:
        if asyncio.run(read_marker(url)) == want:
            return url, True
        asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(_admin(admin, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ServerUnavailable(f"cannot create database {name} on {masked(admin)}: {exc}") from exc
    push(load_schema(schema), url)
    asyncio.run(_copy(url, make_tables(), want, indexes))
    return url, False


async def read_marker(url: str) -> dict[str, str] | None:
    """The marker of the database at ``url``; None when the database or its marker is missing."""
    try:
        conn = await asyncpg.connect(url, timeout=10)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        if await conn.fetchval("SELECT to_regclass($1)", f'"{META_TABLE}"') is None:
            return None
        rows = await conn.fetch(f'SELECT "key", "value" FROM "{META_TABLE}"')
        return {row["key"]: row["value"] for row in rows}
    finally:
        await conn.close()


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(server, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _copy(
    url: str, tables: Sequence[TableRows], want: dict[str, str], indexes: Sequence[str]
) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        for table in tables:
            await conn.copy_records_to_table(
                table.name, records=table.rows, columns=list(table.columns)
            )
            sequence = await conn.fetchval(
                "SELECT pg_get_serial_sequence($1, 'id')", f'"{table.name}"'
            ) if "id" in table.columns else None  # fmt: skip
            if sequence is not None:
                await conn.execute(
                    f'SELECT setval($1, (SELECT coalesce(max("id"), 0) + 1 FROM "{table.name}"), false)',
                    sequence,
                )
        for statement in indexes:
            await conn.execute(statement)
        await conn.execute("ANALYZE")
        await conn.execute(f'CREATE TABLE "{META_TABLE}" ("key" text PRIMARY KEY, "value" text)')
        await conn.executemany(f'INSERT INTO "{META_TABLE}" VALUES ($1, $2)', list(want.items()))
    finally:
        await conn.close()
