"""Migration operations as SQL, laid out as Prisma's migration scripts are.

Each operation becomes one block under a ``-- Kind`` comment header; CREATE
statements are compiled from the SQLAlchemy objects ``to_metadata`` built, so
they read exactly as ``db push`` (and Prisma) write them. What differs between
databases is asked of the dialect (``alters_tables_in_place``,
``renames_indexes``, ``drop_table_statements``, ...). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.sql.ddl import AddConstraint, CreateColumn, CreateIndex, CreateTable

from datatier.dialects import Dialect
from datatier.migrate import _ops
from datatier.migrate._ddl import in_schema_order
from datatier.migrate._diff_state import ColumnState, TableKey, TableState
from datatier.migrate._ops import (
    AddColumn,
    AddEnumValues,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    AlterExtension,
    AlterTable,
    ColumnChange,
    CreateEnum,
    CreateExtension,
    CreateSchema,
    DropColumn,
    DropEnum,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    Operation,
    RecreateColumn,
    RecreateEnum,
    RedefineIndex,
    RedefineTables,
    RenameColumn,
    RenameForeignKey,
    RenameIndex,
    RenamePrimaryKey,
    RenameTable,
)

__all__ = ["MigrationRenderer"]

_MANY_ENUM_VALUES = """\
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.

"""


_INTEGER_TYPES = {"SMALLINT", "INTEGER", "BIGINT"}


class MigrationRenderer:
    """Renders operations for one dialect: ``render(op)`` is the block under its header."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.quote: Callable[[str], str] = dialect.sa_dialect.identifier_preparer.quote
        self._visitors: dict[type[Operation], Callable[[Any], list[str]]] = {
            CreateSchema: self._create_schema,
            CreateExtension: self._create_extension,
            AlterExtension: self._alter_extension,
            CreateEnum: self._create_enum,
            AddEnumValues: self._add_enum_values,
            RecreateEnum: self._recreate_enum,
            DropEnum: self._drop_enum,
            RenameTable: self._rename_table,
            RenameColumn: self._rename_column,
            DropForeignKey: self._drop_foreign_key,
            DropIndex: self._drop_index,
            AlterTable: self._alter_table,
            RenamePrimaryKey: self._rename_primary_key,
            DropTable: self._drop_table,
            _ops.CreateTable: self._create_table,
            RedefineTables: self._redefine_tables,
            _ops.CreateIndex: self._create_index,
            AddForeignKey: self._add_foreign_key,
            RedefineIndex: self._redefine_index,
            RenameIndex: self._rename_index,
            RenameForeignKey: self._rename_foreign_key,
        }

    def render(self, op: Operation) -> str:
        """The SQL of ``op``: its statements, each ending with ``;``, one per line."""
        return "\n".join(
            s if s.startswith("--") or not s else s + ";" for s in self._visitors[type(op)](op)
        )

    # -- names -------------------------------------------------------------------

    def table(self, key: TableKey) -> str:
        return ".".join(self.quote(part) for part in key if part is not None)

    def in_schema(self, schema: str | None, name: str) -> str:
        return self.table((schema, name))

    # -- schemas and enums -------------------------------------------------------

    def _create_schema(self, op: CreateSchema) -> list[str]:
        return [f"CREATE SCHEMA IF NOT EXISTS {self.quote(op.name)}"]

    def _create_extension(self, op: CreateExtension) -> list[str]:
        elements = self.dialect.create_extension_elements([op.extension])
        return [self.dialect.compile(e) for e in elements]

    def _alter_extension(self, op: AlterExtension) -> list[str]:
        name = self.quote(op.after.db_name)
        out = []
        if op.after.schema != op.before.schema and op.after.schema is not None:
            out.append(f"ALTER EXTENSION {name} SET SCHEMA {self.quote(op.after.schema)}")
        if op.after.version != op.before.version and op.after.version is not None:
            out.append(f"ALTER EXTENSION {name} UPDATE TO {self.quote(op.after.version)}")
        return out

    def _create_enum(self, op: CreateEnum) -> list[str]:
        return [
            self.dialect.compile(e) for e in self.dialect.create_enum_elements([op.enum.element])
        ]

    def _add_enum_values(self, op: AddEnumValues) -> list[str]:
        name = self.in_schema(op.enum.schema, op.enum.name)
        prologue = [_MANY_ENUM_VALUES] if len(op.added) > 1 else []
        statements = []
        present = [v for v in op.enum.values if v not in op.added]
        for value in op.added:
            # Appended, as Prisma does; a value the schema lists before others goes before them,
            # so the type keeps the schema's order.
            position = op.enum.values.index(value)
            following = next((v for v in op.enum.values[position + 1 :] if v in present), None)
            where = f" BEFORE {_literal(following)}" if following is not None else ""
            statements.append(f"ALTER TYPE {name} ADD VALUE {_literal(value)}{where}")
            present.append(value)
        return prologue + statements

    def _recreate_enum(self, op: RecreateEnum) -> list[str]:
        """Prisma's sequence: a new type, every column cast to it, the old type dropped."""
        enum = op.enum
        name = self.in_schema(enum.schema, enum.name)
        new = self.in_schema(enum.schema, enum.name + "_new")
        old = self.in_schema(enum.schema, enum.name + "_old")
        values = ", ".join(_literal(v) for v in enum.values)
        out = ["BEGIN", f"CREATE TYPE {new} AS ENUM ({values})"]
        for use in op.usages:
            if use.had_default:
                table = self.table(use.table)
                out.append(
                    f"ALTER TABLE {table} ALTER COLUMN {self.quote(use.column)} DROP DEFAULT"
                )
        for use in op.usages:
            table, column = self.table(use.table), self.quote(use.column)
            suffix = "[]" if use.is_array else ""
            # A column dropped later in the script keeps its values as text meanwhile, so
            # removed values in it cannot fail the cast (Prisma's script fails there).
            target = "TEXT" if use.dropped else new
            out.append(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {target}{suffix} "
                f"USING ({column}::text{suffix}" + ("" if use.dropped else f"::{new}{suffix}") + ")"
            )
        out += [
            f"ALTER TYPE {name} RENAME TO {self.quote(enum.name + '_old')}",
            f"ALTER TYPE {new} RENAME TO {self.quote(enum.name)}",
            f"DROP TYPE {old}",
        ]
        for use in op.usages:
            if use.new_default is not None:
                table, column = self.table(use.table), self.quote(use.column)
                out.append(
                    f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {use.new_default}"
                )
        return [*out, "COMMIT"]

    def _drop_enum(self, op: DropEnum) -> list[str]:
        return [f"DROP TYPE {self.in_schema(op.enum.schema, op.enum.name)}"]

    # -- renames -----------------------------------------------------------------

    def _rename_table(self, op: RenameTable) -> list[str]:
        schema, old = op.old
        # Sequences of autoincrement columns are named "<table>_<column>_seq": renamed along.
        return [f"ALTER TABLE {self.table(op.old)} RENAME TO {self.quote(op.new)}"] + [
            self._rename_sequence(schema, f"{old}_{c}_seq", f"{op.new}_{c}_seq")
            for c in op.serial_columns
        ]

    def _rename_column(self, op: RenameColumn) -> list[str]:
        schema, table = op.table
        statements = [
            f"ALTER TABLE {self.table(op.table)} RENAME COLUMN {self.quote(op.old)} "
            f"TO {self.quote(op.new)}"
        ]
        if op.serial:
            statements.append(
                self._rename_sequence(schema, f"{table}_{op.old}_seq", f"{table}_{op.new}_seq")
            )
        return statements

    def _rename_sequence(self, schema: str | None, old: str, new: str) -> str:
        return f"ALTER SEQUENCE {self.in_schema(schema, old)} RENAME TO {self.quote(new)}"

    def _rename_primary_key(self, op: RenamePrimaryKey) -> list[str]:
        return [self._rename_constraint(op.table.key, op.old, op.new)]

    def _rename_foreign_key(self, op: RenameForeignKey) -> list[str]:
        return [self._rename_constraint(op.table.key, op.old, op.new)]

    def _rename_constraint(self, table: TableKey, old: str, new: str) -> str:
        return (
            f"ALTER TABLE {self.table(table)} RENAME CONSTRAINT {self.quote(old)} "
            f"TO {self.quote(new)}"
        )

    def _rename_index(self, op: RenameIndex) -> list[str]:
        old = self.in_schema(op.table.schema, op.old.name)
        return [f"ALTER INDEX {old} RENAME TO {self.quote(op.new.name)}"]

    def _redefine_index(self, op: RedefineIndex) -> list[str]:
        return [
            f"DROP INDEX {self.in_schema(op.table.schema, op.old.name)}",
            self.dialect.compile(CreateIndex(op.new.element)),
        ]

    # -- keys and indexes --------------------------------------------------------

    def _drop_foreign_key(self, op: DropForeignKey) -> list[str]:
        return [
            f"ALTER TABLE {self.table(op.table.key)} DROP CONSTRAINT {self.quote(op.foreign_key.name)}"
        ]

    def _drop_index(self, op: DropIndex) -> list[str]:
        return [f"DROP INDEX {self.in_schema(op.table.schema, op.index.name)}"]

    def _create_index(self, op: _ops.CreateIndex) -> list[str]:
        return [self.dialect.compile(CreateIndex(op.index.element))]

    def _add_foreign_key(self, op: AddForeignKey) -> list[str]:
        return [self.dialect.compile(AddConstraint(op.foreign_key.element))]

    # -- tables ------------------------------------------------------------------

    def _drop_table(self, op: DropTable) -> list[str]:
        return self.dialect.drop_table_statements(self.table(op.table.key))

    def _create_table(self, op: _ops.CreateTable) -> list[str]:
        return [self._create_table_sql(op.table)]

    def _create_table_sql(self, table: TableState) -> str:
        fks = (
            in_schema_order(table.element.foreign_key_constraints)
            if self.dialect.inline_foreign_keys
            else []
        )
        return self.dialect.compile(CreateTable(table.element, include_foreign_key_constraints=fks))

    def _column(self, column: ColumnState) -> str:
        return self.dialect.compile(CreateColumn(column.element))

    def _alter_table(self, op: AlterTable) -> list[str]:
        table = self.table(op.table.key)
        if not self.dialect.alters_tables_in_place:
            # Only columns that can be added in place get here (see the planner).
            return [
                f"ALTER TABLE {table} ADD COLUMN {self._column(c.column)}"
                for c in op.changes
                if isinstance(c, AddColumn)
            ]
        before: list[str] = []
        after: list[str] = []
        clauses: list[str] = []
        for change in op.changes:
            clauses.extend(self._alter_clauses(op.table, change, before, after))
        statement = f"ALTER TABLE {table} " + ",\n".join(clauses)
        return [*before, statement, *after]

    def _alter_clauses(
        self, table: TableState, change: ColumnChange, before: list[str], after: list[str]
    ) -> list[str]:
        if isinstance(change, DropPrimaryKey):
            return [f"DROP CONSTRAINT {self.quote(change.name or table.name + '_pkey')}"]
        if isinstance(change, AddPrimaryKey):
            columns = ", ".join(self.quote(c) for c in change.columns)
            name = f"CONSTRAINT {self.quote(change.name)} " if change.name else ""
            return [f"ADD {name}PRIMARY KEY ({columns})"]
        if isinstance(change, DropColumn):
            return [f"DROP COLUMN {self.quote(change.column.name)}"]
        if isinstance(change, AddColumn):
            return [f"ADD COLUMN     {self._column(change.column)}"]
        if isinstance(change, RecreateColumn):
            return [
                f"DROP COLUMN {self.quote(change.before.name)}",
                f"ADD COLUMN     {self._column(change.after)}",
            ]
        return self._alter_column(table, change, before, after)

    def _alter_column(
        self, table: TableState, change: AlterColumn, before: list[str], after: list[str]
    ) -> list[str]:
        old, new = change.before, change.after
        column = "ALTER COLUMN " + self.quote(new.name)
        sequence = self.in_schema(table.schema, f"{table.name}_{new.name}_seq")
        clauses: list[str] = []
        if old.autoincrement and not new.autoincrement:
            clauses.append(f"{column} DROP DEFAULT")
            after.append(f"DROP SEQUENCE IF EXISTS {sequence}")
        if old.nullable != new.nullable:
            clauses.append(f"{column} {'DROP' if new.nullable else 'SET'} NOT NULL")
        # A new type re-sets the default (as Prisma does), so it is read as the new type.
        retyped = (
            old.type != new.type
            and new.default is not None
            and not {old.type, new.type} <= _INTEGER_TYPES
        )
        if (old.default != new.default or retyped) and not new.autoincrement:
            if new.default is None:
                if not old.autoincrement:
                    clauses.append(f"{column} DROP DEFAULT")
            else:
                clauses.append(f"{column} SET DEFAULT {new.default}")
        if new.autoincrement and not old.autoincrement:
            before.append(f"CREATE SEQUENCE {sequence} AS {new.type}")
            regclass = _literal(sequence)
            clauses.append(f"{column} SET DEFAULT nextval({regclass}::regclass)")
            owner = f"{self.table(table.key)}.{self.quote(new.name)}"
            after.append(f"ALTER SEQUENCE {sequence} OWNED BY {owner}")
            # Existing rows hold values already: the sequence continues after the largest.
            after.append(
                f"SELECT setval({regclass}, COALESCE(MAX({self.quote(new.name)}), 0) + 1, false) "
                f"FROM {self.table(table.key)}"
            )
        if old.type != new.type:
            clauses.append(f"{column} SET DATA TYPE {self.dialect.render_type(new.element.type)}")
        return clauses

    def _redefine_tables(self, op: RedefineTables) -> list[str]:
        """SQLite's copy-table rebuild, run with foreign keys off so no child row is touched."""
        out = ["PRAGMA defer_foreign_keys=ON", "PRAGMA foreign_keys=OFF"]
        for before, after in op.tables:
            table = self.table(after.key)
            temp = self.in_schema(after.schema, "new_" + after.name)
            create = self._create_table_sql(after)
            out.append(create.replace(f"CREATE TABLE {table} (", f"CREATE TABLE {temp} (", 1))
            shared = sorted(n for n in after.columns if n in before.columns)
            if shared:
                targets = ", ".join(self.quote(n) for n in shared)
                sources = ", ".join(
                    self._copy_expression(before.columns[n], after.columns[n]) for n in shared
                )
                out.append(f"INSERT INTO {temp} ({targets}) SELECT {sources} FROM {table}")
            out.append(f"DROP TABLE {table}")
            out.append(f"ALTER TABLE {temp} RENAME TO {self.quote(after.name)}")
            out.extend(self.dialect.compile(CreateIndex(i.element)) for i in after.indexes.values())
        return [
            *out,
            "PRAGMA foreign_key_check",
            "PRAGMA foreign_keys=ON",
            "PRAGMA defer_foreign_keys=OFF",
        ]

    def _copy_expression(self, old: ColumnState, new: ColumnState) -> str:
        name = self.quote(new.name)
        if old.nullable and not new.nullable and new.default is not None:
            return f"coalesce({name}, {new.default}) AS {name}"
        return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
