"""What differs per database when datatier builds a query: JSON aggregation, LIKE patterns,
list parameters, array operators and the SQLAlchemy dialect that writes the SQL text.

One subclass per database overrides only what differs (habit 4 of STYLE.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["PostgresQueryDialect", "QueryDialect", "SqliteQueryDialect", "query_dialect"]


class QueryDialect:
    """The query-building facts of one database."""

    name: ClassVar[str]
    insensitive_mode: ClassVar[bool] = False  # `mode: "insensitive"` filters
    # JSON aggregation takes rows in the order they arrive (no ORDER BY inside the aggregate)
    aggregates_in_row_order: ClassVar[bool] = False

    @property
    def supports_insensitive(self) -> bool:
        return self.insensitive_mode

    @property
    def supports_search(self) -> bool:
        return self.insensitive_mode  # both come with PostgreSQL

    def search(self, column: ColumnElement[Any], query: Any) -> ColumnElement[bool]:
        raise NotImplementedError(f"full-text search is not available on {self.name}")

    def __init__(self) -> None:
        self.sa_dialect = self.make_sa_dialect()

    def make_sa_dialect(self) -> SADialect:
        raise NotImplementedError

    # -- parameters (used by the planner) -------------------------------------------

    def list_param(self, values: list[Any]) -> Any:
        """A list of values bound as ONE parameter, so the SQL does not depend on its length."""
        raise NotImplementedError

    def like_pattern(self, op: str, text: str) -> Any:
        # As Prisma does, `%` and `_` in the text keep their LIKE meaning: not escaped.
        if op == "contains":
            return f"%{text}%"
        if op == "startsWith":
            return f"{text}%"
        return f"%{text}"

    # -- expressions (used by the compiler) -----------------------------------------

    def like(
        self, column: ColumnElement[Any], pattern: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        return column.like(pattern)

    def equals(
        self, column: ColumnElement[Any], value: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        if insensitive:
            return sa.func.lower(column) == sa.func.lower(value)
        result: ColumnElement[bool] = column == value
        return result

    def in_list(
        self, column: ColumnElement[Any], param: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        raise NotImplementedError

    def list_op(self, column: ColumnElement[Any], op: str, param: Any) -> ColumnElement[bool]:
        raise NotImplementedError(f"scalar lists are not supported on {self.name}")

    def json_row(self, values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        """One row as a JSON array of its values."""
        raise NotImplementedError

    def json_object(self, keys: list[str], values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        """One row as a JSON object of ``keys`` to ``values`` (keys are schema names)."""
        raise NotImplementedError

    def json_rows(
        self, row: ColumnElement[Any], source: Any, order: list[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """The JSON array of ``row`` over the rows of the subquery ``source``, in ``order``
        (``[]`` when none), as a scalar expression."""
        raise NotImplementedError

    def count(self) -> ColumnElement[Any]:
        return sa.func.count()

    def nulls_last_by_default(self, desc: bool) -> bool:
        """Where NULLs sort without NULLS FIRST/LAST: PostgreSQL puts them last going up."""
        return not desc

    @property
    def json_filters_unavailable(self) -> frozenset[str]:
        """Json filters this database does not offer (as Prisma's client does not)."""
        return frozenset()

    def json_path_problem(self, path: Any) -> str | None:
        """What is wrong with a Json filter's ``path`` on this database (None: nothing)."""
        raise NotImplementedError

    def json_path(self, path: Any, suffix: str | None) -> Any:
        """A Json ``path`` bound as one parameter; ``suffix`` picks the array's ``first`` or
        ``last`` element."""
        raise NotImplementedError

    def json_condition(
        self, column: ColumnElement[Any], op: str, path: Any, value: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        """A Json filter; ``insensitive`` (``mode: 'insensitive'``) ignores letter case."""
        raise NotImplementedError

    @property
    def json_insensitive_equals(self) -> bool:
        """Whether ``equals``/``not`` on a Json value can ignore case (as Prisma's client can)."""
        return True

    def embed_json(self, expr: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON-valued subquery as it must appear inside another JSON row."""
        return expr

    def insert_skipping_duplicates(self, table: sa.Table, values: dict[str, Any]) -> Any:
        """An INSERT that does nothing where a unique value already exists."""
        return sa.insert(table).values(values).prefix_with("OR IGNORE")


class PostgresQueryDialect(QueryDialect):
    name = "postgresql"
    insensitive_mode = True

    def make_sa_dialect(self) -> SADialect:
        # asyncpg's paramstyle ($1, $2, ...), which the driver runs as a prepared statement.
        from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

        return PGDialect_asyncpg()  # type: ignore[no-untyped-call]

    def list_param(self, values: list[Any]) -> Any:
        return values

    def insert_skipping_duplicates(self, table: sa.Table, values: dict[str, Any]) -> Any:
        return pg.insert(table).values(values).on_conflict_do_nothing()

    def search(self, column: ColumnElement[Any], query: Any) -> ColumnElement[bool]:
        # Prisma's syntax: the query is a tsquery ("cat & dog", "cat | dog", "!cat").
        return sa.func.to_tsvector(column).bool_op("@@")(sa.func.to_tsquery(query))

    def like(
        self, column: ColumnElement[Any], pattern: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        if insensitive:
            return column.ilike(pattern)
        return column.like(pattern)

    def in_list(
        self, column: ColumnElement[Any], param: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        if insensitive:
            return sa.func.lower(column) == sa.func.any_(
                sa.func.array(sa.select(sa.func.lower(sa.func.unnest(param))).scalar_subquery())
            )
        return column == sa.any_(param)

    def list_op(self, column: ColumnElement[Any], op: str, param: Any) -> ColumnElement[bool]:
        if op == "has":
            has: ColumnElement[bool] = param == sa.any_(column)
            return has
        if op == "hasSome":
            return column.bool_op("&&")(param)
        if op == "hasEvery":
            return column.bool_op("@>")(param)
        if op == "equals":
            same: ColumnElement[bool] = column == param
            return same
        if op == "isEmpty":
            return sa.func.coalesce(sa.func.cardinality(column), 0) == 0
        if op == "isNotEmpty":
            return sa.func.cardinality(column) > 0
        raise ValueError(op)

    def equals(
        self, column: ColumnElement[Any], value: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        if insensitive:
            return column.ilike(value)  # Prisma compares case-insensitively with ILIKE
        return super().equals(column, value, insensitive)

    def json_path_problem(self, path: Any) -> str | None:
        if isinstance(path, list) and all(isinstance(p, str) for p in path):
            return None
        return "`path` takes a list of keys, e.g. ['settings', 'theme'] (array indexes as strings)"

    def json_path(self, path: Any, suffix: str | None) -> Any:
        parts = [str(p) for p in path or []]
        if suffix is not None:
            parts.append("0" if suffix == "first" else "-1")
        return parts

    def json_condition(
        self, column: ColumnElement[Any], op: str, path: Any, value: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        target: Any = (
            column if path is None else column.op("#>")(sa.cast(path, pg.ARRAY(sa.Text())))
        )
        document = sa.cast(value, pg.JSONB())
        if op in ("equals", "not"):
            same: ColumnElement[bool] = (
                sa.func.lower(sa.cast(target, sa.Text()))
                == sa.func.lower(sa.cast(document, sa.Text()))
                if insensitive
                else target == document
            )
            return same if op == "equals" else sa.not_(sa.func.coalesce(same, sa.false()))
        if op.startswith("string_"):
            text = column.op("#>>", return_type=sa.Text())(
                sa.cast(path if path is not None else [], pg.ARRAY(sa.Text()))
            )
            matches = text.ilike(value) if insensitive else text.like(value)
            return sa.and_(sa.func.jsonb_typeof(target) == "string", matches)
        if op == "array_contains":
            return sa.and_(sa.func.jsonb_typeof(target) == "array", target.bool_op("@>")(document))
        if op in ("array_starts_with", "array_ends_with"):
            equal_item: ColumnElement[bool] = target == document
            return equal_item
        number = sa.cast(
            column.op("#>>", return_type=sa.Text())(
                sa.cast(path if path is not None else [], pg.ARRAY(sa.Text()))
            ),
            sa.Numeric(),
        )
        guarded = sa.case((sa.func.jsonb_typeof(target) == "number", number), else_=None)
        return _compare_op(guarded, op, value)

    def json_row(self, values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        return sa.func.json_build_array(*values)

    def json_object(self, keys: list[str], values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        return sa.func.json_build_object(*_interleaved(keys, values))

    def json_rows(
        self, row: ColumnElement[Any], source: Any, order: list[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        # ARRAY(SELECT ... ORDER BY ...) keeps the rows in that order, and the subquery's
        # own order (the page's) usually is that order already, so nothing is sorted again;
        # json_agg(... ORDER BY ...) sorts each list before PostgreSQL 16 (about 5% of the
        # server's time on 20 users with 10 posts each).
        rows = sa.select(row).select_from(source).order_by(*order)
        return sa.func.array_to_json(sa.func.array(rows.scalar_subquery()))


class SqliteQueryDialect(QueryDialect):
    name = "sqlite"
    aggregates_in_row_order = True  # no ORDER BY inside aggregates before SQLite 3.44

    def make_sa_dialect(self) -> SADialect:
        return SQLiteDialect_pysqlite()

    def list_param(self, values: list[Any]) -> Any:
        return orjson.dumps(values).decode()

    def in_list(
        self, column: ColumnElement[Any], param: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        return column.in_(sa.select(sa.column("value")).select_from(sa.func.json_each(param)))

    def json_path_problem(self, path: Any) -> str | None:
        if isinstance(path, str) and path.startswith("$"):
            return None
        return "`path` takes a JSON path string on SQLite, e.g. '$.settings.theme'"

    def json_path(self, path: Any, suffix: str | None) -> Any:
        text = path if path is not None else "$"
        if suffix is not None:
            text += "[0]" if suffix == "first" else "[#-1]"
        return text

    @property
    def json_insensitive_equals(self) -> bool:
        return False  # Prisma's client has no SQL for it on SQLite either

    def json_condition(
        self, column: ColumnElement[Any], op: str, path: Any, value: Any, insensitive: bool
    ) -> ColumnElement[bool]:
        at = path if path is not None else sa.literal("$")
        target = column.op("->")(at)  # the value at the path as JSON text (SQLite 3.38+)
        if op in ("equals", "array_starts_with", "array_ends_with"):
            equal: ColumnElement[bool] = target == sa.func.json(value)
            return equal
        if op == "not":
            return sa.not_(sa.func.coalesce(target == sa.func.json(value), sa.false()))
        if op.startswith("string_"):
            extracted = sa.func.json_extract(column, at)
            matches = (
                sa.func.lower(extracted).like(sa.func.lower(value))
                if insensitive
                else extracted.like(value)
            )
            return sa.and_(sa.func.json_type(column, at) == "text", matches)
        raise ValueError(f"Json filter {op!r} is not available on SQLite")  # the planner refuses it

    def json_row(self, values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        return sa.func.json_array(*values)

    def json_object(self, keys: list[str], values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        return sa.func.json_object(*_interleaved(keys, values))

    def nulls_last_by_default(self, desc: bool) -> bool:
        return desc  # SQLite: NULL is the smallest value

    @property
    def json_filters_unavailable(self) -> frozenset[str]:
        return frozenset(("lt", "lte", "gt", "gte", "array_contains"))

    def embed_json(self, expr: ColumnElement[Any]) -> ColumnElement[Any]:
        # JSON text loses its JSON subtype across a subquery; json() restores it.
        return sa.func.json(expr)

    def json_rows(
        self, row: ColumnElement[Any], source: Any, order: list[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        # SQLite before 3.44 has no ORDER BY inside aggregates; the rows arrive in the
        # subquery's order, which the compiler sets.
        aggregated = sa.func.coalesce(
            sa.func.json_group_array(sa.func.json(row)), sa.literal_column("'[]'")
        )
        return sa.select(aggregated).select_from(source).scalar_subquery()


def _interleaved(keys: list[str], values: list[ColumnElement[Any]]) -> list[Any]:
    """``key1, value1, key2, value2, ...`` with each key as an SQL string literal."""
    pairs: list[Any] = []
    for key, value in zip(keys, values, strict=True):
        pairs.append(sa.literal_column("'" + key.replace("'", "''") + "'"))
        pairs.append(value)
    return pairs


def _compare_op(left: Any, op: str, right: Any) -> ColumnElement[bool]:
    if op == "lt":
        result: ColumnElement[bool] = left < right
    elif op == "lte":
        result = left <= right
    elif op == "gt":
        result = left > right
    else:
        result = left >= right
    return result


def query_dialect(provider: str) -> QueryDialect:
    """The query dialect for a datasource provider."""
    if provider in ("postgresql", "postgres"):
        return PostgresQueryDialect()
    if provider == "sqlite":
        return SqliteQueryDialect()
    raise ValueError(f"unsupported provider {provider!r}: use postgresql or sqlite")
