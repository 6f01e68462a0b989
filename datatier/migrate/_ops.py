"""Migration operations: what one step of a migration does, as data, before it is rendered as SQL.

The planner (``_diff.py``) produces them, ``_render_migration.py`` turns them
into SQL per dialect, ``_data_loss.py`` derives the row checks from them, and
each says in one line what it does (``describe``). ``STEP_ORDER`` is the order
in which Prisma's migration engine writes its steps; the kind names are the
comment headers of Prisma's migration scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from datatier.migrate._diff_state import (
    ColumnState,
    EnumState,
    ForeignKeyState,
    IndexState,
    TableKey,
    TableState,
)
from datatier.schema._ir import Extension

__all__ = [
    "STEP_ORDER",
    "AddColumn",
    "AddEnumValues",
    "AddForeignKey",
    "AddPrimaryKey",
    "AlterColumn",
    "AlterExtension",
    "AlterTable",
    "ColumnChange",
    "CreateEnum",
    "CreateExtension",
    "CreateIndex",
    "CreateSchema",
    "CreateTable",
    "DropColumn",
    "DropEnum",
    "DropForeignKey",
    "DropIndex",
    "DropPrimaryKey",
    "DropTable",
    "EnumUsage",
    "Operation",
    "RecreateColumn",
    "RecreateEnum",
    "RedefineIndex",
    "RedefineTables",
    "RenameColumn",
    "RenameForeignKey",
    "RenameIndex",
    "RenamePrimaryKey",
    "RenameTable",
    "qualified",
]


def qualified(key: TableKey) -> str:
    """``"schema"."name"`` or ``"name"``, for messages."""
    return ".".join(f'"{part}"' for part in key if part is not None)


class Operation:
    """One step; ``kind`` is its header in the migration script."""

    kind: ClassVar[str]

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CreateSchema(Operation):
    kind: ClassVar[str] = "CreateSchema"
    name: str

    def describe(self) -> str:
        return f'create schema "{self.name}"'


@dataclass(frozen=True)
class CreateExtension(Operation):
    kind: ClassVar[str] = "CreateExtension"
    extension: Extension

    def describe(self) -> str:
        return f'create extension "{self.extension.db_name}"'


@dataclass(frozen=True)
class AlterExtension(Operation):
    """A listed extension whose version or schema changed."""

    kind: ClassVar[str] = "AlterExtension"
    before: Extension
    after: Extension

    def describe(self) -> str:
        return f'alter extension "{self.after.db_name}"'


@dataclass(frozen=True)
class CreateEnum(Operation):
    kind: ClassVar[str] = "CreateEnum"
    enum: EnumState

    def describe(self) -> str:
        return f'create enum "{self.enum.name}" ({", ".join(self.enum.values)})'


@dataclass(frozen=True)
class AddEnumValues(Operation):
    kind: ClassVar[str] = "AlterEnum"
    enum: EnumState
    added: tuple[str, ...]

    def describe(self) -> str:
        return f'add {", ".join(self.added)} to enum "{self.enum.name}"'


@dataclass(frozen=True)
class EnumUsage:
    """A column whose type is recreated with its enum: ``source`` names are the ones before."""

    table: TableKey
    column: str
    is_array: bool
    had_default: bool
    new_default: str | None
    source_table: str
    source_column: str
    # The column (or its table) goes in this migration, or stops using the enum: meanwhile
    # it holds text.
    dropped: bool = False


@dataclass(frozen=True)
class RecreateEnum(Operation):
    """Values removed (and maybe added): the type is rebuilt and its columns cast to it."""

    kind: ClassVar[str] = "AlterEnum"
    enum: EnumState
    removed: tuple[str, ...]
    added: tuple[str, ...]
    usages: tuple[EnumUsage, ...]

    def describe(self) -> str:
        text = f'remove {", ".join(self.removed)} from enum "{self.enum.name}"'
        return text + (f" and add {', '.join(self.added)}" if self.added else "")


@dataclass(frozen=True)
class DropEnum(Operation):
    kind: ClassVar[str] = "DropEnum"
    enum: EnumState

    def describe(self) -> str:
        return f'drop enum "{self.enum.name}"'


@dataclass(frozen=True)
class RenameTable(Operation):
    kind: ClassVar[str] = "RenameTable"
    old: TableKey
    new: str
    serial_columns: tuple[str, ...] = ()  # their sequences are named after the table

    def describe(self) -> str:
        return f'rename table {qualified(self.old)} to "{self.new}"'


@dataclass(frozen=True)
class RenameColumn(Operation):
    kind: ClassVar[str] = "RenameColumn"
    table: TableKey
    old: str
    new: str
    serial: bool = False  # its sequence is named after the column

    def describe(self) -> str:
        return f'rename column {qualified(self.table)}."{self.old}" to "{self.new}"'


@dataclass(frozen=True)
class DropForeignKey(Operation):
    kind: ClassVar[str] = "DropForeignKey"
    table: TableState
    foreign_key: ForeignKeyState

    def describe(self) -> str:
        return f'drop foreign key "{self.foreign_key.name}" on {qualified(self.table.key)}'


@dataclass(frozen=True)
class DropIndex(Operation):
    kind: ClassVar[str] = "DropIndex"
    table: TableState
    index: IndexState

    def describe(self) -> str:
        return f'drop index "{self.index.name}" on {qualified(self.table.key)}'


# -- changes inside one ALTER TABLE ------------------------------------------------


@dataclass(frozen=True)
class DropPrimaryKey:
    name: str | None


@dataclass(frozen=True)
class DropColumn:
    column: ColumnState


@dataclass(frozen=True)
class AddColumn:
    column: ColumnState


@dataclass(frozen=True)
class AlterColumn:
    """``before`` and ``after`` differ in type (castable), nullability, default or autoincrement."""

    before: ColumnState
    after: ColumnState


@dataclass(frozen=True)
class RecreateColumn:
    """No cast from the old type to the new one: the column is dropped and added again."""

    before: ColumnState
    after: ColumnState


@dataclass(frozen=True)
class AddPrimaryKey:
    name: str | None
    columns: tuple[str, ...]


ColumnChange = (
    DropPrimaryKey | DropColumn | AddColumn | AlterColumn | RecreateColumn | AddPrimaryKey
)


def _describe_change(change: ColumnChange) -> str:
    if isinstance(change, DropPrimaryKey):
        return "drop the primary key"
    if isinstance(change, AddPrimaryKey):
        return f"add primary key ({', '.join(change.columns)})"
    if isinstance(change, DropColumn):
        return f'drop column "{change.column.name}"'
    if isinstance(change, AddColumn):
        return f'add column "{change.column.name}" {_column_text(change.column)}'
    if isinstance(change, RecreateColumn):
        return (
            f'drop and add column "{change.after.name}" ({change.before.type} has no cast to '
            f"{change.after.type})"
        )
    before, after = change.before, change.after
    parts = []
    if before.type != after.type:
        parts.append(f"type {before.type} -> {after.type}")
    if before.nullable != after.nullable:
        parts.append("required" if not after.nullable else "optional")
    if before.default != after.default:
        parts.append(f"default {before.default or '(none)'} -> {after.default or '(none)'}")
    if before.autoincrement != after.autoincrement:
        parts.append("autoincrement" if after.autoincrement else "no autoincrement")
    return f'alter column "{after.name}": {", ".join(parts)}'


def _column_text(column: ColumnState) -> str:
    text = column.type + ("" if column.nullable else " NOT NULL")
    return text + (f" DEFAULT {column.default}" if column.default is not None else "")


@dataclass(frozen=True)
class AlterTable(Operation):
    """Changes made in place with ``ALTER TABLE`` (PostgreSQL; on SQLite only added columns)."""

    kind: ClassVar[str] = "AlterTable"
    table: TableState
    changes: tuple[ColumnChange, ...]

    def describe(self) -> str:
        parts = "; ".join(_describe_change(c) for c in self.changes)
        return f"alter table {qualified(self.table.key)}: {parts}"


@dataclass(frozen=True)
class RenamePrimaryKey(Operation):
    kind: ClassVar[str] = "AlterTable"
    table: TableState
    old: str
    new: str

    def describe(self) -> str:
        return f'rename primary key "{self.old}" of {qualified(self.table.key)} to "{self.new}"'


@dataclass(frozen=True)
class DropTable(Operation):
    kind: ClassVar[str] = "DropTable"
    table: TableState

    def describe(self) -> str:
        return f"drop table {qualified(self.table.key)}"


@dataclass(frozen=True)
class CreateTable(Operation):
    kind: ClassVar[str] = "CreateTable"
    table: TableState

    def describe(self) -> str:
        return f"create table {qualified(self.table.key)}"


@dataclass(frozen=True)
class RedefineTables(Operation):
    """SQLite's copy-table rebuild: ``(before, after)`` pairs, each copied into a new table."""

    kind: ClassVar[str] = "RedefineTables"
    tables: tuple[tuple[TableState, TableState], ...]

    def describe(self) -> str:
        names = ", ".join(qualified(after.key) for _, after in self.tables)
        return f"rebuild table{'s' if len(self.tables) > 1 else ''} {names} (copy, drop, rename)"


@dataclass(frozen=True)
class CreateIndex(Operation):
    kind: ClassVar[str] = "CreateIndex"
    table: TableState
    index: IndexState

    def describe(self) -> str:
        unique = "unique index" if self.index.unique else "index"
        columns = ", ".join(self.index.columns)
        return f'create {unique} "{self.index.name}" on {qualified(self.table.key)} ({columns})'


@dataclass(frozen=True)
class AddForeignKey(Operation):
    kind: ClassVar[str] = "AddForeignKey"
    table: TableState
    foreign_key: ForeignKeyState

    def describe(self) -> str:
        fk = self.foreign_key
        return (
            f'add foreign key "{fk.name}" {qualified(self.table.key)} ({", ".join(fk.columns)}) '
            f"-> {qualified(fk.ref_table)} ({', '.join(fk.ref_columns)})"
            f" ON DELETE {fk.on_delete} ON UPDATE {fk.on_update}"
        )


@dataclass(frozen=True)
class RedefineIndex(Operation):
    """An index renamed where the database cannot rename indexes: dropped and created."""

    kind: ClassVar[str] = "RedefineIndex"
    table: TableState
    old: IndexState
    new: IndexState

    def describe(self) -> str:
        return f'rename index "{self.old.name}" to "{self.new.name}" (drop and create)'


@dataclass(frozen=True)
class RenameIndex(Operation):
    kind: ClassVar[str] = "RenameIndex"
    table: TableState
    old: IndexState
    new: IndexState

    def describe(self) -> str:
        return f'rename index "{self.old.name}" to "{self.new.name}"'


@dataclass(frozen=True)
class RenameForeignKey(Operation):
    kind: ClassVar[str] = "RenameForeignKey"
    table: TableState
    old: str
    new: str

    def describe(self) -> str:
        return f'rename foreign key "{self.old}" on {qualified(self.table.key)} to "{self.new}"'


STEP_ORDER: tuple[type[Operation], ...] = (
    CreateSchema,
    CreateExtension,
    AlterExtension,
    # Confirmed renames first: every later step names tables and columns as they are after them.
    RenameTable,
    RenameColumn,
    CreateEnum,
    AddEnumValues,
    RecreateEnum,
    DropForeignKey,
    DropIndex,
    AlterTable,
    RenamePrimaryKey,
    DropTable,
    DropEnum,
    CreateTable,
    RedefineTables,
    CreateIndex,
    AddForeignKey,
    RedefineIndex,
    RenameForeignKey,
    RenameIndex,
)
