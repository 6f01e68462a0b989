"""SQLite as Prisma's migration engine creates it: declared types, inline keys and foreign keys."""

from __future__ import annotations

from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite.base import (
    SQLiteDDLCompiler,
    SQLiteIdentifierPreparer,
    SQLiteTypeCompiler,
)
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.types import TypeEngine

from datatier.dialects._base import Dialect, PrismaDDLCompiler, QuoteAllPreparer
from datatier.dialects._types import JSONB
from datatier.schema._ir import Enum, ScalarType

__all__ = ["SqliteDialect"]


class _TypeCompiler(SQLiteTypeCompiler):
    def visit_JSONB(self, type_: Any, **kw: Any) -> str:
        return "JSONB"

    def visit_DECIMAL(self, type_: Any, **kw: Any) -> str:
        return "DECIMAL"


class _Preparer(QuoteAllPreparer, SQLiteIdentifierPreparer):
    pass


class _DDLCompiler(PrismaDDLCompiler, SQLiteDDLCompiler):
    """A single-column key is written on its column; an ``INTEGER`` one is also AUTOINCREMENT.

    Prisma makes every single ``Int`` id AUTOINCREMENT on SQLite, with or without
    ``@default(autoincrement())``; a ``BigInt`` id is a plain ``PRIMARY KEY``.
    """

    def table_primary_key(self, table: sa.Table) -> str:
        if len(table.primary_key.columns) > 1:
            return super().table_primary_key(table)
        return ""

    def column_key_clause(self, column: sa.Column[Any]) -> str:
        if not column.primary_key or len(column.table.primary_key.columns) != 1:
            return ""
        if isinstance(column.type, sa.INTEGER):
            return " PRIMARY KEY AUTOINCREMENT"
        return " PRIMARY KEY"


class _SADialect(SQLiteDialect_pysqlite):
    preparer = _Preparer
    type_compiler_cls = _TypeCompiler
    ddl_compiler = _DDLCompiler


_SCALARS: dict[ScalarType, TypeEngine[Any]] = {
    ScalarType.STRING: sa.TEXT(),
    ScalarType.BOOLEAN: sa.BOOLEAN(),
    ScalarType.INT: sa.INTEGER(),
    ScalarType.BIGINT: sa.BIGINT(),
    ScalarType.FLOAT: sa.REAL(),
    ScalarType.DECIMAL: sa.DECIMAL(),
    ScalarType.DATETIME: sa.DATETIME(),
    ScalarType.JSON: JSONB(),
    ScalarType.BYTES: sa.BLOB(),
}


class SqliteDialect(Dialect):
    """SQLite: enums are TEXT, foreign keys live inside CREATE TABLE, keys have no names."""

    name: ClassVar[str] = "sqlite"
    inline_foreign_keys = True
    supports_enums = False
    alters_tables_in_place = False
    renames_indexes = False

    def make_sa_dialect(self) -> SADialect:
        return _SADialect()

    def scalar_type(self, scalar: ScalarType) -> TypeEngine[Any]:
        return _SCALARS[scalar]

    def enum_type(self, enum: Enum) -> TypeEngine[Any]:
        return sa.TEXT()

    def json_literal(self, text: str) -> str:
        # Prisma writes the JSON text as it is. SQLite reads a number, true/false/null
        # or a "string" that way (so those stay as Prisma has them) but rejects an
        # object or array (prisma/prisma#26571): those are quoted.
        if text.lstrip().startswith(("{", "[")):
            return self.quote_string(text)
        return text

    def bytes_literal(self, data: bytes) -> str:
        # Prisma writes the hex digits as a text literal, not a blob literal (X'..').
        return f"'{data.hex()}'"

    def add_join_table_keys(self, table: sa.Table, name: str) -> None:
        sa.Index(f"{name}_AB_unique", table.c.A, table.c.B, unique=True, info={"position": 0})

    def can_add_column(self, column: sa.Column[Any]) -> bool:
        # As Prisma decides: only a nullable column without a default is added in place.
        return bool(column.nullable) and column.server_default is None

    def drop_table_statements(self, table: str) -> list[str]:
        # With foreign keys enforced, DROP TABLE would first delete the rows (and cascade).
        return ["PRAGMA foreign_keys=off", f"DROP TABLE {table}", "PRAGMA foreign_keys=on"]

    def null_blocks_required(self, default: str | None) -> bool:
        # The rebuild copies coalesce(column, default) (see the migration renderer).
        return default is None
