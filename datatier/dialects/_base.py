"""The ``Dialect`` base class: what the schema layer asks of a database, answered per database.

A dialect turns IR fields into SQLAlchemy column types and default expressions,
and owns an SQLAlchemy dialect whose DDL compiler writes statements the way
Prisma's migration engine writes them. Subclasses override only what differs.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.sql import compiler
from sqlalchemy.sql.ddl import CreateColumn, CreateIndex, CreateTable, ExecutableDDLElement
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op
from sqlalchemy.types import TypeEngine

from datatier.dialects._types import Unsupported
from datatier.schema._ir import (
    DefaultValue,
    Enum,
    Extension,
    Field,
    Index,
    LiteralValue,
    NativeType,
    ReferentialAction,
    ScalarType,
    Schema,
)

__all__ = ["Dialect", "PrismaDDLCompiler", "QuoteAllPreparer"]

_ACTIONS = {
    ReferentialAction.CASCADE: "CASCADE",
    ReferentialAction.RESTRICT: "RESTRICT",
    ReferentialAction.NO_ACTION: "NO ACTION",
    ReferentialAction.SET_NULL: "SET NULL",
    ReferentialAction.SET_DEFAULT: "SET DEFAULT",
}

_INDENT = "    "


class QuoteAllPreparer(compiler.IdentifierPreparer):
    """Quotes every identifier, as Prisma does, so names keep their case on every database."""

    def _requires_quotes(self, value: str) -> bool:
        return True


class PrismaDDLCompiler(compiler.DDLCompiler):
    """The layout of Prisma's migration scripts, shared by the dialects' DDL compilers.

    ``pk_separator`` and ``references_space`` are the two spellings that differ
    between Prisma's PostgreSQL and SQLite output.
    """

    pk_separator: ClassVar[str] = ", "
    references_space: ClassVar[str] = " "

    def visit_create_table(self, create: CreateTable, **kw: Any) -> str:
        table = create.element
        columns = [self.process(c) for c in create.columns]
        parts = [",\n".join(_INDENT + c for c in columns if c)]
        key = self.table_primary_key(table)
        if key:
            parts.append(",\n\n" + _INDENT + key)
        if create.include_foreign_key_constraints is not None:
            fks = sorted(create.include_foreign_key_constraints, key=_position)
            parts.extend(",\n" + _INDENT + self.process(fk) for fk in fks)
        return f"CREATE TABLE {self.preparer.format_table(table)} (\n{''.join(parts)}\n)"

    def table_primary_key(self, table: sa.Table) -> str:
        """The table-level primary key clause ("" when the key is written on its column)."""
        return self.process(table.primary_key) if table.primary_key.columns else ""

    def visit_create_column(self, create: CreateColumn, first_pk: bool = False, **kw: Any) -> str:
        return self.get_column_specification(create.element)

    def get_column_specification(self, column: sa.Column[Any], **kw: Any) -> str:
        spec = (
            self.preparer.format_column(column)
            + " "
            + self.dialect.type_compiler_instance.process(column.type, type_expression=column)
        )
        if not column.nullable:
            spec += " NOT NULL"
        spec += self.column_key_clause(column)
        default = self.get_column_default_string(column)
        if default is not None:
            spec += " DEFAULT " + default
        return spec

    def column_key_clause(self, column: sa.Column[Any]) -> str:
        """What follows NOT NULL for a key column (SQLite writes single-column keys inline)."""
        return ""

    def define_primary_key_body(self, constraint: sa.PrimaryKeyConstraint, **kw: Any) -> str:
        names = self.pk_separator.join(self.preparer.quote(c.name) for c in constraint.columns)
        return f"PRIMARY KEY ({names})"

    def visit_primary_key_constraint(self, constraint: sa.PrimaryKeyConstraint, **kw: Any) -> str:
        return self.define_constraint_preamble(constraint) + self.define_primary_key_body(
            constraint
        )

    def define_foreign_key_body(self, constraint: sa.ForeignKeyConstraint, **kw: Any) -> str:
        quote = self.preparer.quote
        remote = constraint.elements[0].column.table
        local = ", ".join(quote(e.parent.name) for e in constraint.elements)
        referenced = ", ".join(quote(e.column.name) for e in constraint.elements)
        return (
            f"FOREIGN KEY ({local}) REFERENCES {self.preparer.format_table(remote)}"
            f"{self.references_space}({referenced})"
        )

    def visit_foreign_key_constraint(self, constraint: sa.ForeignKeyConstraint, **kw: Any) -> str:
        text = self.define_constraint_preamble(constraint) + self.define_foreign_key_body(
            constraint
        )
        if constraint.ondelete:
            text += f" ON DELETE {constraint.ondelete}"
        if constraint.onupdate:
            text += f" ON UPDATE {constraint.onupdate}"
        return text

    def visit_create_index(
        self,
        create: CreateIndex,
        include_schema: bool = False,
        include_table_schema: bool = True,
        **kw: Any,
    ) -> str:
        index = create.element
        assert index.table is not None and index.name is not None
        unique = "UNIQUE " if index.unique else ""
        columns = ", ".join(self.index_column(index, expr) for expr in index.expressions)
        where = index.info.get("where")
        return (
            f"CREATE {unique}INDEX {self.preparer.quote(str(index.name))} "
            f"ON {self.preparer.format_table(index.table)}{self.index_method(index)}({columns})"
            + (f" WHERE {self.index_predicate(where)}" if where else "")
        )

    def index_predicate(self, where: str) -> str:
        """The predicate of a partial index as written after WHERE."""
        return where

    def index_method(self, index: sa.Index) -> str:
        """`` USING GIN `` and the like; empty when the database's default method is used."""
        return ""

    def index_column(self, index: sa.Index, expr: Any) -> str:
        """One indexed column: its name, then the operator class, then ASC/DESC."""
        direction = ""
        if isinstance(expr, UnaryExpression):
            direction = " DESC" if expr.modifier is desc_op else " ASC"
            expr = expr.element
        name: str = expr.name
        ops = self.index_column_ops(index, name)
        return self.preparer.quote(name) + (f" {ops}" if ops else "") + direction

    def index_column_ops(self, index: sa.Index, column: str) -> str | None:
        return None


def _position(item: sa.ForeignKeyConstraint | sa.Index) -> int:
    position: int = item.info.get("position", 0)
    return position


def _prisma_datetime(text: str) -> str:
    """A DateTime default as Prisma writes it: ``2020-01-01 10:20:30.123 +02:00``."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    fraction = ""
    if value.microsecond:
        digits = f"{value.microsecond:06d}"
        fraction = "." + (digits[:3] if digits.endswith("000") else digits)
    offset = value.strftime("%z") or "+0000"
    return f"{value:%Y-%m-%d %H:%M:%S}{fraction} {offset[:3]}:{offset[3:]}"


class Dialect:
    """Column types, defaults and DDL details of one database, as Prisma creates them.

    Pure: nothing here opens a connection.
    """

    name: ClassVar[str]
    inline_foreign_keys: ClassVar[bool] = False  # foreign keys inside CREATE TABLE (no ALTER TABLE)
    supports_enums: ClassVar[bool] = False  # CREATE TYPE ... AS ENUM
    # Migrations: columns, keys and foreign keys changed with ALTER TABLE (else the table is rebuilt).
    alters_tables_in_place: ClassVar[bool] = True
    renames_indexes: ClassVar[bool] = True  # ALTER INDEX ... RENAME TO (else drop and create)

    @cached_property
    def sa_dialect(self) -> SADialect:
        """The SQLAlchemy dialect that compiles this database's SQL and DDL."""
        return self.make_sa_dialect()

    def make_sa_dialect(self) -> SADialect:
        raise NotImplementedError

    def compile(self, element: sa.sql.ClauseElement) -> str:
        """``element`` (DDL or a type) as SQL text."""
        return str(element.compile(dialect=self.sa_dialect)).strip()

    def render_type(self, type_: TypeEngine[Any]) -> str:
        return self.sa_dialect.type_compiler_instance.process(type_)

    # -- types ---------------------------------------------------------------------

    def column_type(self, field: Field, schema: Schema) -> TypeEngine[Any]:
        """The column type of a scalar, enum or unsupported field (lists included)."""
        base: TypeEngine[Any]
        if field.kind == "unsupported":
            base = Unsupported(field.type)
        elif field.kind == "enum":
            base = self.enum_type(schema.enum(field.type))
        elif field.native_type is not None:
            base = self.native_type(field.native_type, ScalarType(field.type))
        else:
            base = self.scalar_type(ScalarType(field.type))
        return self.list_type(base) if field.is_list else base

    def scalar_type(self, scalar: ScalarType) -> TypeEngine[Any]:
        raise NotImplementedError

    def native_type(self, native: NativeType, scalar: ScalarType) -> TypeEngine[Any]:
        raise ValueError(f"@db.{native.name} is not a {self.name} type")

    def enum_type(self, enum: Enum) -> TypeEngine[Any]:
        raise NotImplementedError

    def list_type(self, item: TypeEngine[Any]) -> TypeEngine[Any]:
        raise ValueError(f"scalar lists are not supported on {self.name}")

    def autoincrement_type(self, type_: TypeEngine[Any]) -> TypeEngine[Any]:
        """The type of an ``@default(autoincrement())`` column whose plain type is ``type_``."""
        return type_

    # -- defaults ------------------------------------------------------------------

    def default_sql(self, field: Field, schema: Schema, type_: TypeEngine[Any]) -> str | None:
        """The SQL of the column default, or None where Prisma sets no database default."""
        default = field.default
        if default is None:
            return None
        if default.kind == "function":
            return self.function_default(default)
        if default.kind == "list":
            return self.list_default(field, schema, default, type_)
        if default.value is None:
            return None
        return self.literal(field, schema, default.value)

    def function_default(self, default: DefaultValue) -> str | None:
        if default.name == "now":
            return "CURRENT_TIMESTAMP"
        if default.name == "dbgenerated" and default.args:
            return str(default.args[0])
        return None  # autoincrement is the column type; uuid(), cuid() & co. are set by the client

    def list_default(
        self, field: Field, schema: Schema, default: DefaultValue, type_: TypeEngine[Any]
    ) -> str | None:
        raise ValueError(f"scalar lists are not supported on {self.name}")

    def literal(self, field: Field, schema: Schema, value: LiteralValue) -> str:
        """One default value as a SQL literal of the field's type."""
        if field.kind == "enum":
            enum = schema.enum(field.type)
            db_name = next((v.db_name for v in enum.values if v.name == value), str(value))
            return self.quote_string(db_name)
        scalar = ScalarType(field.type) if field.kind == "scalar" else ScalarType.STRING
        if scalar is ScalarType.BOOLEAN:
            return "true" if value is True or value == "true" else "false"
        if scalar in (ScalarType.INT, ScalarType.BIGINT, ScalarType.FLOAT, ScalarType.DECIMAL):
            return self.number(value)
        if scalar is ScalarType.DATETIME:
            return self.quote_string(_prisma_datetime(str(value)))
        if scalar is ScalarType.BYTES:
            return self.bytes_literal(base64.b64decode(str(value)))
        if scalar is ScalarType.JSON:
            return self.json_literal(str(value))
        return self.quote_string(str(value))

    def json_literal(self, text: str) -> str:
        return self.quote_string(text)

    def number(self, value: LiteralValue) -> str:
        if isinstance(value, str):
            if not re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", value):
                raise ValueError(f"not a number: {value!r}")
            return value
        return repr(value) if isinstance(value, float) else str(int(value))

    def quote_string(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def bytes_literal(self, data: bytes) -> str:
        raise NotImplementedError

    # -- keys and indexes ------------------------------------------------------------

    def referential_action(self, action: ReferentialAction) -> str:
        return _ACTIONS[action]

    def index_options(self, index: Index) -> dict[str, Any]:
        """SQLAlchemy ``Index`` keyword arguments for the index method and operator classes."""
        return {}

    def add_join_table_keys(self, table: sa.Table, name: str) -> None:
        """Make the pair (A, B) of an implicit m:n join table unique."""
        raise NotImplementedError

    def create_enum_elements(self, enums: list[TypeEngine[Any]]) -> list[ExecutableDDLElement]:
        """The statements that create enum types (none where enums are plain columns)."""
        return []

    def create_extension_elements(
        self, extensions: Sequence[Extension]
    ) -> list[ExecutableDDLElement]:
        """The statements that install the datasource's ``extensions`` (none where there are none)."""
        return []

    # -- migrations ------------------------------------------------------------------

    def can_cast_column(self, old: TypeEngine[Any], new: TypeEngine[Any]) -> bool:
        """Whether ``ALTER COLUMN ... TYPE`` turns a column of type ``old`` into ``new`` without
        an explicit cast (else Prisma drops the column and adds it again)."""
        return True

    def can_add_column(self, column: sa.Column[Any]) -> bool:
        """Whether ``ALTER TABLE ... ADD COLUMN`` can add ``column`` (else the table is rebuilt)."""
        return True

    def drop_table_statements(self, table: str) -> list[str]:
        """The statements that drop the table ``table`` (already quoted)."""
        return [f"DROP TABLE {table}"]

    def null_blocks_required(self, default: str | None) -> bool:
        """Whether NULLs in a column made required stop the change when the column's new
        default is ``default`` (where a rebuild copies the default in, they do not)."""
        return True

    def cast_loses_value(
        self, column: str, old: TypeEngine[Any], new: TypeEngine[Any]
    ) -> str | None:
        """A predicate on ``column`` true for the values a change from ``old`` to ``new``
        would not keep (None when every value is kept, or the database keeps values as
        they are)."""
        return None
