"""PostgreSQL as Prisma's migration engine creates it: types, defaults, index methods and operator classes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import CreateEnumType
from sqlalchemy.dialects.postgresql.base import PGDDLCompiler, PGTypeCompiler
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg, PGIdentifierPreparer_psycopg
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.types import TypeEngine

from datatier.dialects._base import Dialect, PrismaDDLCompiler, QuoteAllPreparer
from datatier.dialects._types import BIGSERIAL, SERIAL, SMALLSERIAL, VARBIT, XML
from datatier.schema._ir import (
    DefaultValue,
    Enum,
    Extension,
    Field,
    Index,
    NativeType,
    ScalarType,
    Schema,
)

__all__ = ["PostgresDialect"]


class _Preparer(QuoteAllPreparer, PGIdentifierPreparer_psycopg):
    pass


class _TypeCompiler(PGTypeCompiler):
    """Prisma's spellings: ``TIMESTAMP(3)``, ``TIMESTAMPTZ(6)``, ``DECIMAL(65,30)``, ``VARBIT(8)``."""

    def _precision(self, type_: Any) -> str:
        precision = getattr(type_, "precision", None)
        return f"({precision})" if precision is not None else ""

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return ("TIMESTAMPTZ" if type_.timezone else "TIMESTAMP") + self._precision(type_)

    def visit_TIME(self, type_: Any, **kw: Any) -> str:
        return ("TIMETZ" if type_.timezone else "TIME") + self._precision(type_)

    def visit_DECIMAL(self, type_: Any, **kw: Any) -> str:
        if type_.precision is None:
            return "DECIMAL"
        return f"DECIMAL({type_.precision},{type_.scale or 0})"

    def _length(self, name: str, type_: Any) -> str:
        return name + (f"({type_.length})" if type_.length is not None else "")

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return self._length("VARCHAR", type_)

    def visit_CHAR(self, type_: Any, **kw: Any) -> str:
        return self._length("CHAR", type_)

    def visit_BIT(self, type_: Any, **kw: Any) -> str:
        return self._length("BIT", type_)

    def visit_VARBIT(self, type_: Any, **kw: Any) -> str:
        return self._length("VARBIT", type_)

    def visit_XML(self, type_: Any, **kw: Any) -> str:
        return "XML"

    def visit_SERIAL(self, type_: Any, **kw: Any) -> str:
        return "SERIAL"

    def visit_BIGSERIAL(self, type_: Any, **kw: Any) -> str:
        return "BIGSERIAL"

    def visit_SMALLSERIAL(self, type_: Any, **kw: Any) -> str:
        return "SMALLSERIAL"


class _DDLCompiler(PrismaDDLCompiler, PGDDLCompiler):
    pk_separator = ","
    references_space = ""

    def index_method(self, index: sa.Index) -> str:
        using = index.dialect_options["postgresql"]["using"]
        return f" USING {using.upper()} " if using else ""

    def index_predicate(self, where: str) -> str:
        return f"({where})"

    def visit_create_extension(self, create: CreateExtension, **kw: Any) -> str:
        text = f"CREATE EXTENSION IF NOT EXISTS {self.preparer.quote(create.name)}"
        if create.schema is not None:
            text += f" WITH SCHEMA {self.preparer.quote(create.schema)}"
        if create.version is not None:
            text += (" VERSION " if create.schema is not None else " WITH VERSION ") + (
                self.preparer.quote(create.version)
            )
        return text

    def index_column_ops(self, index: sa.Index, column: str) -> str | None:
        ops: dict[str, str] = index.dialect_options["postgresql"]["ops"] or {}
        return ops.get(column)


class CreateExtension(ExecutableDDLElement):
    """``CREATE EXTENSION IF NOT EXISTS "name" [WITH SCHEMA "s"] [VERSION "v"]``."""

    __visit_name__ = "create_extension"

    def __init__(self, name: str, schema: str | None = None, version: str | None = None) -> None:
        self.name = name
        self.schema = schema
        self.version = version


class _SADialect(PGDialect_psycopg):
    preparer = _Preparer
    type_compiler_cls = _TypeCompiler
    ddl_compiler = _DDLCompiler


_SCALARS: dict[ScalarType, TypeEngine[Any]] = {
    ScalarType.STRING: sa.TEXT(),
    ScalarType.BOOLEAN: sa.BOOLEAN(),
    ScalarType.INT: sa.INTEGER(),
    ScalarType.BIGINT: sa.BIGINT(),
    ScalarType.FLOAT: pg.DOUBLE_PRECISION(),
    ScalarType.DECIMAL: sa.DECIMAL(65, 30),
    ScalarType.DATETIME: pg.TIMESTAMP(precision=3),
    ScalarType.JSON: pg.JSONB(),
    ScalarType.BYTES: pg.BYTEA(),
}

_SERIALS: dict[type[TypeEngine[Any]], TypeEngine[Any]] = {
    sa.INTEGER: SERIAL(),
    sa.BIGINT: BIGSERIAL(),
    sa.SMALLINT: SMALLSERIAL(),
}

_METHODS = {"Hash": "hash", "Gist": "gist", "Gin": "gin", "SpGist": "spgist", "Brin": "brin"}


def _int_arg(native: NativeType, position: int = 0) -> int | None:
    return int(native.args[position]) if len(native.args) > position else None


def _native(native: NativeType) -> TypeEngine[Any]:
    n = native.name
    if n in ("VarChar", "Char", "Bit", "VarBit"):
        cls: Any = {"VarChar": sa.VARCHAR, "Char": sa.CHAR, "Bit": pg.BIT, "VarBit": VARBIT}[n]
        sized: TypeEngine[Any] = cls(_int_arg(native))
        return sized
    if n in ("Timestamp", "Timestamptz"):
        return pg.TIMESTAMP(timezone=n == "Timestamptz", precision=_int_arg(native))
    if n in ("Time", "Timetz"):
        return pg.TIME(timezone=n == "Timetz", precision=_int_arg(native))
    if n == "Decimal":
        precision = _int_arg(native)
        return sa.DECIMAL(precision, _int_arg(native, 1)) if precision is not None else sa.DECIMAL()
    simple: dict[str, TypeEngine[Any]] = {
        "Text": sa.TEXT(),
        "Uuid": pg.UUID(),
        "Date": sa.DATE(),
        "SmallInt": sa.SMALLINT(),
        "Integer": sa.INTEGER(),
        "BigInt": sa.BIGINT(),
        "Oid": pg.OID(),
        "Real": sa.REAL(),
        "DoublePrecision": pg.DOUBLE_PRECISION(),
        "Money": pg.MONEY(),
        "Inet": pg.INET(),
        "Citext": pg.CITEXT(),
        "Xml": XML(),
        "Json": pg.JSON(),
        "JsonB": pg.JSONB(),
        "ByteA": pg.BYTEA(),
        "Boolean": sa.BOOLEAN(),
    }
    if n not in simple:
        raise ValueError(f"@db.{n} is not a PostgreSQL type")
    return simple[n]


def _operator_class(ops: str) -> str:
    """``JsonbPathOps`` -> ``jsonb_path_ops``; a ``raw("...")`` class is kept as written."""
    if not any(c.isupper() for c in ops):
        return ops
    words = re.findall(r"[A-Z][a-z0-9]*", ops)
    name = "_".join(w.lower() for w in words)
    for joined in ("min_max", "timestamp_tz", "time_tz", "var_bit"):
        name = name.replace(joined, joined.replace("_", ""))
    return name


def _cast_family(type_: TypeEngine[Any]) -> str:
    """The group of types among which PostgreSQL has assignment casts (see ``can_cast_column``)."""
    if isinstance(type_, pg.ARRAY):
        return "array of " + _cast_family(type_.item_type)
    if isinstance(type_, pg.ENUM):
        return f"enum {type_.schema}.{type_.name}"  # no cast from one enum type to another
    groups: tuple[tuple[str, tuple[type[Any], ...]], ...] = (
        ("bits", (pg.BIT, VARBIT)),
        ("json", (sa.JSON,)),
        ("text", (sa.String,)),
        ("boolean", (sa.Boolean,)),
        ("number", (sa.Integer, sa.Numeric, sa.Float, pg.MONEY)),
        ("time", (sa.Time,)),
        ("datetime", (sa.DateTime, sa.Date)),
    )
    for name, classes in groups:
        if isinstance(type_, classes):
            return name
    return f"{type(type_).__name__}:{getattr(type_, 'sql', '')}"


_INTEGER_RANGES: tuple[tuple[type[Any], int], ...] = (
    (sa.SMALLINT, 2**15),
    (sa.BIGINT, 2**63),
    (sa.Integer, 2**31),
)


def _integer_range(type_: TypeEngine[Any]) -> int | None:
    for cls, bound in _INTEGER_RANGES:
        if isinstance(type_, cls):
            return bound
    return None


def _lost_values(column: str, old: TypeEngine[Any], new: TypeEngine[Any]) -> str | None:
    """See ``PostgresDialect.cast_loses_value``."""
    new_range = _integer_range(new)
    if new_range is not None:
        bounds = f"{column} NOT BETWEEN {-new_range} AND {new_range - 1}"
        old_range = _integer_range(old)
        if old_range is not None:
            return None if old_range <= new_range else bounds
        return f"{bounds} OR {column} <> round({column})"
    if isinstance(new, sa.String) and new.length is not None:
        old_length = old.length if isinstance(old, sa.String) else None
        if old_length is not None and old_length <= new.length:
            return None
        return f"length({column}::text) > {new.length}"
    if isinstance(new, sa.Numeric) and not isinstance(new, sa.Float) and new.precision is not None:
        scale = new.scale or 0
        whole = 10 ** (new.precision - scale)
        value = f"{column}::numeric"
        return f"{value} <> round({value}, {scale}) OR abs({value}) >= {whole}"
    if isinstance(new, sa.REAL) and not isinstance(old, sa.REAL):
        return f"{column}::real::double precision <> {column}::double precision"
    if isinstance(new, sa.Date) and isinstance(old, sa.DateTime):
        return f"{column}::date <> {column}"
    return None


class PostgresDialect(Dialect):
    """PostgreSQL: enums as types, scalar lists as arrays, foreign keys added after the tables."""

    name: ClassVar[str] = "postgresql"
    inline_foreign_keys = False
    supports_enums = True

    def make_sa_dialect(self) -> SADialect:
        return _SADialect()  # type: ignore[no-untyped-call]

    def scalar_type(self, scalar: ScalarType) -> TypeEngine[Any]:
        return _SCALARS[scalar]

    def native_type(self, native: NativeType, scalar: ScalarType) -> TypeEngine[Any]:
        return _native(native)

    def enum_type(self, enum: Enum) -> TypeEngine[Any]:
        type_: TypeEngine[Any] = pg.ENUM(
            *(v.db_name for v in enum.values),
            name=enum.db_name,
            schema=enum.schema,
            create_type=False,
        )
        return type_

    def list_type(self, item: TypeEngine[Any]) -> TypeEngine[Any]:
        return pg.ARRAY(item)

    def autoincrement_type(self, type_: TypeEngine[Any]) -> TypeEngine[Any]:
        return _SERIALS.get(type(type_), type_)

    def list_default(
        self, field: Field, schema: Schema, default: DefaultValue, type_: TypeEngine[Any]
    ) -> str | None:
        items = ", ".join(self.literal(field, schema, v) for v in default.values)
        return f"ARRAY[{items}]::{self.render_type(type_)}"

    def bytes_literal(self, data: bytes) -> str:
        return f"'\\x{data.hex()}'"

    def add_join_table_keys(self, table: sa.Table, name: str) -> None:
        table.append_constraint(sa.PrimaryKeyConstraint("A", "B", name=f"{name}_AB_pkey"))

    def create_enum_elements(self, enums: list[TypeEngine[Any]]) -> list[ExecutableDDLElement]:
        return [CreateEnumType(e) for e in enums]

    def create_extension_elements(
        self, extensions: Sequence[Extension]
    ) -> list[ExecutableDDLElement]:
        ordered = sorted(extensions, key=lambda e: e.db_name)
        return [CreateExtension(e.db_name, e.schema, e.version) for e in ordered]

    def index_options(self, index: Index) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if index.algorithm in _METHODS:
            options["postgresql_using"] = _METHODS[index.algorithm]
        ops = {f.column: _operator_class(f.ops) for f in index.fields if f.ops}
        if ops:
            options["postgresql_ops"] = ops
        return options

    def can_cast_column(self, old: TypeEngine[Any], new: TypeEngine[Any]) -> bool:
        # Prisma's rules: numbers among numbers, timestamps and dates, JSON and JSONB, any
        # scalar to text; anything else (text to a number, a boolean to a number) has no cast.
        old_family, new_family = _cast_family(old), _cast_family(new)
        if old_family == new_family:
            return True
        return new_family == "text" and not old_family.startswith("array")

    def cast_loses_value(
        self, column: str, old: TypeEngine[Any], new: TypeEngine[Any]
    ) -> str | None:
        # Narrowing casts: integers out of range or with fractions, strings longer than the
        # new length, numbers beyond a decimal's precision or scale, REAL, dates of timestamps.
        return _lost_values(column, old, new)
