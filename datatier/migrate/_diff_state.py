"""The database a schema describes, as plain comparable values: what the migration planner diffs.

``database_state`` reads the SQLAlchemy metadata ``to_metadata`` builds (so a
plan creates exactly what ``db push`` creates) and keeps, per table, its
columns (type and default as SQL text), primary key, indexes and foreign keys,
plus the enum types. Each piece keeps the SQLAlchemy object it came from, so
the renderer can compile ``CREATE`` statements from it. ``rename_table`` and
``rename_column`` rewrite a state as if a confirmed rename had already run,
including every reference to the renamed object. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op

from datatier.dialects import Dialect
from datatier.dialects._types import BIGSERIAL, SERIAL, SMALLSERIAL
from datatier.migrate._ddl import in_schema_order, to_metadata
from datatier.schema._ir import Extension, Schema

__all__ = [
    "ColumnState",
    "DatabaseState",
    "EnumState",
    "ForeignKeyState",
    "IndexState",
    "TableKey",
    "TableState",
    "database_state",
    "rename_column",
    "rename_table",
]

TableKey = tuple[str | None, str]  # (database schema, table name)

_SERIAL_BASES: dict[type[Any], str] = {
    SERIAL: "INTEGER",
    BIGSERIAL: "BIGINT",
    SMALLSERIAL: "SMALLINT",
}


@dataclass(frozen=True)
class ColumnState:
    """One column. ``type`` is the SQL type without SERIAL (``autoincrement`` says that);
    ``source`` is the column's name in the database before the migration runs."""

    name: str
    type: str
    nullable: bool
    default: str | None
    autoincrement: bool
    enum: str | None  # the enum type this column (or its array items) uses
    is_array: bool
    source: str
    element: sa.Column[Any] = field(compare=False, repr=False)

    def same_definition(self, other: ColumnState) -> bool:
        return (self.type, self.nullable, self.default, self.autoincrement) == (
            other.type,
            other.nullable,
            other.default,
            other.autoincrement,
        )


@dataclass(frozen=True)
class IndexState:
    """An index; ``definition`` is everything but the name (columns with order and
    operator class, uniqueness, method, predicate)."""

    name: str
    columns: tuple[str, ...]
    definition: tuple[Any, ...]
    unique: bool
    element: sa.Index = field(compare=False, repr=False)


@dataclass(frozen=True)
class ForeignKeyState:
    name: str
    columns: tuple[str, ...]
    ref_table: TableKey
    ref_columns: tuple[str, ...]
    on_delete: str | None
    on_update: str | None
    element: sa.ForeignKeyConstraint = field(compare=False, repr=False)

    @property
    def definition(self) -> tuple[Any, ...]:
        return (self.columns, self.ref_table, self.ref_columns, self.on_delete, self.on_update)


@dataclass(frozen=True)
class TableState:
    """A table: ``source`` is its name before the migration (differs after a confirmed rename)."""

    key: TableKey
    columns: dict[str, ColumnState]  # in table order
    primary_key: tuple[str | None, tuple[str, ...]] | None
    indexes: dict[str, IndexState]
    foreign_keys: dict[str, ForeignKeyState]
    source: str
    element: sa.Table = field(compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.key[1]

    @property
    def schema(self) -> str | None:
        return self.key[0]


@dataclass(frozen=True)
class EnumState:
    name: str
    schema: str | None
    values: tuple[str, ...]
    element: Any = field(compare=False, repr=False)


@dataclass(frozen=True)
class DatabaseState:
    tables: dict[TableKey, TableState]
    enums: dict[tuple[str | None, str], EnumState]
    extensions: dict[str, Extension] = field(default_factory=dict)  # by database name


# Built once per schema object and database: the IR never changes, and building the
# metadata is most of a plan's cost (``migrate dev`` plans twice when it asks about renames).
_STATES: dict[tuple[int, str], DatabaseState] = {}


def database_state(schema: Schema | None, dialect: Dialect) -> DatabaseState:
    """The tables and enums ``schema`` creates on ``dialect`` (nothing for ``None``)."""
    if schema is None:
        return DatabaseState(tables={}, enums={})
    key = (id(schema), dialect.name)
    state = _STATES.get(key)
    if state is None:
        state = _build_state(schema, dialect)
        _STATES[key] = state
        weakref.finalize(schema, _STATES.pop, key, None)
    return state


def _build_state(schema: Schema, dialect: Dialect) -> DatabaseState:
    metadata = to_metadata(schema, dialect)
    enums: dict[tuple[str | None, str], EnumState] = {}
    for enum in metadata.info.get("enums", []):
        enums[(enum.schema, enum.name)] = EnumState(enum.name, enum.schema, tuple(enum.enums), enum)
    tables = {(t.schema, t.name): _table_state(t, dialect) for t in metadata.tables.values()}
    extensions = {e.db_name: e for e in metadata.info.get("extensions", ())}
    return DatabaseState(tables=tables, enums=enums, extensions=extensions)


def _table_state(table: sa.Table, dialect: Dialect) -> TableState:
    columns = {c.name: _column_state(c, dialect) for c in table.columns}
    key: tuple[str | None, tuple[str, ...]] | None = None
    if table.primary_key.columns:
        key = (_name(table.primary_key.name), tuple(c.name for c in table.primary_key.columns))
    indexes = {str(i.name): _index_state(i) for i in in_schema_order(table.indexes)}
    fks = {
        str(fk.name): _foreign_key_state(fk)
        for fk in in_schema_order(table.foreign_key_constraints)
    }
    return TableState(
        key=(table.schema, table.name),
        columns=columns,
        primary_key=key,
        indexes=indexes,
        foreign_keys=fks,
        source=table.name,
        element=table,
    )


def _name(name: object) -> str | None:
    return None if name is None else str(name)


def _column_state(column: sa.Column[Any], dialect: Dialect) -> ColumnState:
    type_ = column.type
    base = _SERIAL_BASES.get(type(type_))
    item = type_.item_type if isinstance(type_, pg.ARRAY) else type_
    enum = item.name if isinstance(item, pg.ENUM) else None
    default = column.server_default
    return ColumnState(
        name=column.name,
        type=base if base is not None else dialect.render_type(type_),
        nullable=bool(column.nullable),
        default=str(default.arg) if isinstance(default, sa.DefaultClause) else None,
        autoincrement=base is not None,
        enum=enum,
        is_array=isinstance(type_, pg.ARRAY),
        source=column.name,
        element=column,
    )


def _index_state(index: sa.Index) -> IndexState:
    keys: list[tuple[str, str | None, str | None]] = []
    ops: dict[str, str] = index.kwargs.get("postgresql_ops") or {}
    for expr in index.expressions:
        direction = None
        if isinstance(expr, UnaryExpression):
            direction = "DESC" if expr.modifier is desc_op else "ASC"
            expr = expr.element
        name = str(getattr(expr, "name", expr))
        keys.append((name, direction, ops.get(name)))
    definition = (
        tuple(keys),
        bool(index.unique),
        index.kwargs.get("postgresql_using"),
        index.info.get("where"),
    )
    return IndexState(
        name=str(index.name),
        columns=tuple(k[0] for k in keys),
        definition=definition,
        unique=bool(index.unique),
        element=index,
    )


def _foreign_key_state(fk: sa.ForeignKeyConstraint) -> ForeignKeyState:
    remote = fk.elements[0].column.table
    return ForeignKeyState(
        name=str(fk.name),
        columns=tuple(e.parent.name for e in fk.elements),
        ref_table=(remote.schema, remote.name),
        ref_columns=tuple(e.column.name for e in fk.elements),
        on_delete=fk.ondelete,
        on_update=fk.onupdate,
        element=fk,
    )


def rename_table(state: DatabaseState, old: TableKey, new_name: str) -> DatabaseState:
    """``state`` after ``ALTER TABLE old RENAME TO new_name``: references follow the table."""
    new_key: TableKey = (old[0], new_name)
    tables: dict[TableKey, TableState] = {}
    for key, table in state.tables.items():
        fks = {
            n: dataclasses.replace(fk, ref_table=new_key) if fk.ref_table == old else fk
            for n, fk in table.foreign_keys.items()
        }
        table = dataclasses.replace(table, foreign_keys=fks)
        if key == old:
            table = dataclasses.replace(table, key=new_key)
            key = new_key
        tables[key] = table
    return dataclasses.replace(state, tables=tables)


def rename_column(state: DatabaseState, table_key: TableKey, old: str, new: str) -> DatabaseState:
    """``state`` after ``ALTER TABLE ... RENAME COLUMN old TO new``: keys, indexes and
    foreign keys (on this table and those referencing it) name the new column."""

    def swap(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(new if n == old else n for n in names)

    tables: dict[TableKey, TableState] = {}
    for key, table in state.tables.items():
        fks = {}
        for n, fk in table.foreign_keys.items():
            if key == table_key:
                fk = dataclasses.replace(fk, columns=swap(fk.columns))
            if fk.ref_table == table_key:
                fk = dataclasses.replace(fk, ref_columns=swap(fk.ref_columns))
            fks[n] = fk
        table = dataclasses.replace(table, foreign_keys=fks)
        if key == table_key:
            columns = {
                (new if n == old else n): (dataclasses.replace(c, name=new) if n == old else c)
                for n, c in table.columns.items()
            }
            pk = table.primary_key
            if pk is not None:
                pk = (pk[0], swap(pk[1]))
            indexes = {}
            for n, index in table.indexes.items():
                keys = tuple((new if k[0] == old else k[0], *k[1:]) for k in index.definition[0])
                indexes[n] = dataclasses.replace(
                    index, columns=swap(index.columns), definition=(keys, *index.definition[1:])
                )
            table = dataclasses.replace(table, columns=columns, primary_key=pk, indexes=indexes)
        tables[key] = table
    return dataclasses.replace(state, tables=tables)
