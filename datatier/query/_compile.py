"""Shapes -> SQL text, argument order and a row decoder: the work done once per query shape.

A read of any depth compiles to ONE statement: each included relation is a correlated
subquery that the database turns into JSON (an array per row, arrays of them for lists),
so the whole tree comes back in one round trip and is decoded once.
"""

from __future__ import annotations

import decimal
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from datatier.query._dialect import QueryDialect
from datatier.query._links import Link
from datatier.query._model_info import ModelInfo, SchemaInfo
from datatier.query._plan import Shape
from datatier.schema._ir import Field

__all__ = ["Compiled", "Compiler", "FieldCodec", "JsonText"]

Row = Sequence[Any]
Decode = Callable[[Any], Any]


class FieldCodec(Protocol):
    """The parts of a field codec the compiler uses (``_codecs`` implements them)."""

    from_db: Decode | None
    from_json: Decode | None

    def json_sql(self, column: ColumnElement[Any]) -> ColumnElement[Any]: ...


@dataclass(frozen=True, slots=True)
class Compiled:
    """SQL text, which parameter slots feed its placeholders, and how to turn rows into results.

    ``args`` lists, for each placeholder in order, the slot of the planner's parameters
    (or, as ``(None, value)``, a constant SQLAlchemy added itself). ``decode_wire`` (None:
    the same as ``decode_rows``) makes wire rows, for a caller that only encodes them with
    orjson: a nested relation or count whose JSON the database built final stays that
    text, as a ``JsonText``, instead of being parsed into Python objects and written
    again. (Its text keeps the database's spacing, so its bytes differ from the usual
    record's encoding.)
    """

    sql: str
    args: tuple[tuple[int | None, Any], ...]
    decode_rows: Callable[[list[Row]], list[dict[str, Any]]]
    decode_wire: Callable[[list[Row]], list[dict[str, Any]]] | None = None

    def arguments(self, params: Sequence[Any]) -> list[Any]:
        return [params[slot] if slot is not None else value for slot, value in self.args]


class JsonText:
    """JSON text the database built, in a wire row: the API's encoder writes it as it is
    (``orjson.Fragment``); code that must look inside parses ``text``."""

    __slots__ = ("text",)

    def __init__(self, text: str | bytes) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"JsonText({self.text!r})"


@dataclass
class _Column:
    """One output column of a read: how to select it and how to decode it."""

    key: str
    expr: ColumnElement[Any]
    decode: Decode | None  # for a top-level column (from the driver)
    decode_json: Decode | None  # for the same value inside a JSON row
    json_expr: ColumnElement[Any] | None = None  # the value as placed in a JSON row
    is_json: bool = False  # a nested relation or count: JSON built by the database
    is_list: bool = False  # a scalar list (NULL reads as [])

    def in_json(self) -> ColumnElement[Any]:
        return self.json_expr if self.json_expr is not None else self.expr


class Compiler:
    """Compiles read shapes for one schema and database."""

    def __init__(
        self,
        info: SchemaInfo,
        tables: dict[str, sa.Table],
        dialect: QueryDialect,
        codec: Callable[[str, str], FieldCodec],
    ) -> None:
        self.info = info
        self.tables = tables
        self.dialect = dialect
        self.codec = codec

    # -- entry points ----------------------------------------------------------------

    def compile_read(self, shape: Shape) -> Compiled:
        """A ``findMany``-like read: rows decoded into dicts (nested relations included)."""
        scope = _Scope()
        statement, columns, post = self._top_read(shape, scope)
        return self._finish(statement, columns, post)

    def compile_aggregate(self, shape: Shape) -> Compiled:
        """``aggregate``: one row of aggregates over the (filtered, ordered, paged) records."""
        (_, model, where, order, take, sign, skip, cursor, aggregates) = shape
        info = self.info.model(model)
        scope = _Scope()
        alias = self._alias(info, scope)
        fields = sorted({field for _, field in aggregates if field not in ("_all", "*")})
        columns = [alias.c[info.scalars[f].db_name].label(f"f{i}") for i, f in enumerate(fields)]
        inner = sa.select(*columns or [sa.literal(1).label("one")]).select_from(alias)
        inner = self._filter_order_page(
            inner, info, alias, where, order, take, sign, skip, cursor, (), scope
        )
        sub = inner.subquery(scope.name("a"))
        exprs = [
            _aggregate_expr(
                op, None if field in ("_all", "*") else sub.c[f"f{fields.index(field)}"]
            )
            for op, field in aggregates
        ]
        statement = sa.select(*exprs).select_from(sub)
        decode = self._aggregate_decoder(info, aggregates, offset=0)
        return self._compiled(statement, lambda rows: [decode(rows[0])])

    def compile_group_by(self, shape: Shape) -> Compiled:
        """``groupBy``: one row per combination of the ``by`` fields, with its aggregates."""
        (_, model, by, where, having, order, take, sign, skip, aggregates) = shape
        info = self.info.model(model)
        scope = _Scope()
        alias = self._alias(info, scope)
        by_columns = [alias.c[info.scalars[f].db_name] for f in by]
        exprs = [
            _aggregate_expr(
                op, None if field in ("_all", "*") else alias.c[info.scalars[field].db_name]
            )
            for op, field in aggregates
        ]
        statement = sa.select(*by_columns, *exprs).select_from(alias).group_by(*by_columns)
        if where is not None:
            statement = statement.where(self._condition(info, alias, where, scope))
        if having is not None:
            statement = statement.having(
                self._condition(info, _Aggregated(alias, info), having, scope)
            )
        ordering = []
        for item in order:
            if item[0] == "f":
                _, name, desc, nulls = item
                expr: Any = alias.c[info.scalars[name].db_name]
            else:
                _, op, name, desc, nulls = item
                expr = _aggregate_expr(
                    op, None if name == "_all" else alias.c[info.scalars[name].db_name]
                )
            ordering.append(_ordered(expr, desc if sign > 0 else not desc, nulls, sign))
        if ordering:
            statement = statement.order_by(*ordering)
        if take is not None:
            statement = statement.limit(sa.bindparam(f"p{take}"))
        if skip is not None:
            statement = statement.offset(sa.bindparam(f"p{skip}"))
        by_decoders = [(f, self.codec(info.name, f).from_db) for f in by]
        decode_aggregates = self._aggregate_decoder(info, aggregates, offset=len(by))

        def decode(row: Row) -> dict[str, Any]:
            result = {
                name: (value if fn is None or value is None else fn(value))
                for (name, fn), value in zip(by_decoders, row, strict=False)
            }
            result.update(decode_aggregates(row))
            return result

        # A negative take reads the groups from the end; unlike a read, Prisma hands them back
        # in that reversed order, and so does datatier.
        return self._compiled(statement, lambda rows: [decode(r) for r in rows])

    def _aggregate_decoder(
        self, info: ModelInfo, aggregates: Shape, *, offset: int
    ) -> Callable[[Row], dict[str, Any]]:
        """Turns the aggregate columns of a row into ``{_count: {...}, _sum: {...}, ...}``."""
        plan: list[tuple[int, str, str, Decode]] = []
        for i, (op, field) in enumerate(aggregates):
            plan.append((offset + i, op, field, self._aggregate_value(info, op, field)))

        def decode(row: Row) -> dict[str, Any]:
            result: dict[str, Any] = {}
            for index, op, field, convert in plan:
                value = row[index]
                value = convert(value) if value is not None else (0 if op == "_count" else None)
                if field == "*":
                    result[op] = value
                else:
                    result.setdefault(op, {})[field] = value
            return result

        return decode

    def _aggregate_value(self, info: ModelInfo, op: str, field: str) -> Decode:
        if op == "_count":
            return int
        scalar = info.scalars[field]
        if op == "_avg":
            if scalar.type == "Decimal":
                return lambda v: decimal.Decimal(str(v))
            return float
        decode = self.codec(info.name, field).from_db
        if op == "_sum" and scalar.type in ("Int", "BigInt"):
            return int
        if op == "_sum" and scalar.type == "Float":
            return float
        if op == "_sum" and scalar.type == "Decimal":
            return lambda v: decimal.Decimal(str(v))
        return decode if decode is not None else _identity

    def _compiled(
        self, statement: Any, decode_rows: Callable[[list[Row]], list[dict[str, Any]]]
    ) -> Compiled:
        sql, args = self._text(statement)
        return Compiled(sql, args, decode_rows)

    # -- reads -----------------------------------------------------------------------

    def _top_read(
        self, shape: Shape, scope: _Scope
    ) -> tuple[
        sa.Select[Any], list[_Column], Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None
    ]:
        (_, model, where, selection, order, take, sign, skip, cursor, distinct) = shape
        info = self.info.model(model)
        if (
            cursor is not None
            and not distinct
            and order[:1]
            and order[0][0] == "f"
            and _nullable(self.info, info, order[0])
        ):
            alias = self._cursor_rows(info, where, order, take, sign, skip, cursor, scope)
            # The rows are filtered and placed after the cursor already; the outer query
            # orders them (with the key as tie-breaker, as the branches do) and pages.
            order = order + tuple(
                ("f", name, False, None)
                for name in info.key_fields
                if not any(item[0] == "f" and item[1] == name for item in order)
            )
            where = cursor = None
        else:
            alias = self._alias(info, scope)
        columns = self._columns(info, alias, selection, scope)
        statement = sa.select(*(c.expr.label(c.key) for c in columns)).select_from(alias)
        statement = self._filter_order_page(
            statement, info, alias, where, order, take, sign, skip, cursor, distinct, scope
        )
        post = _reverse if sign < 0 else None
        return statement, columns, post

    def _cursor_rows(
        self,
        info: ModelInfo,
        where: Shape | None,
        order: Shape,
        take: int | None,
        sign: int,
        skip: int | None,
        cursor: Shape,
        scope: _Scope,
    ) -> Any:
        """The rows at or after a cursor whose first order key is nullable, as a derived table
        with the model's columns.

        The cursor condition ORs over where the cursor's and each row's first key are NULL,
        and no index can serve an OR. So the rows come from three branches, one per case
        (cursor value set and row value set, cursor value NULL and row value set, row value
        NULL), each with the whole condition plus a bound an index can use, each ordered and
        cut at ``take + skip``: a page then reads a few index entries past the cursor instead
        of every row before it. A branch whose case does not hold for the cursor row is
        dropped by the database before it reads anything.
        """
        _, _, desc, nulls = order[0]
        nulls_last = (
            nulls == "last" if nulls is not None else self.dialect.nulls_last_by_default(desc)
        )
        nulls_after = nulls_last == (sign > 0)  # NULLs come after every value, walking
        branches = []
        for case in ("value", "cursor_null", "row_null"):
            if case == "cursor_null" and nulls_after:
                continue  # every row with a value lies before a NULL cursor
            alias = self._alias(info, scope)
            keys = self._order_keys(info, alias, order, scope)
            keys = keys + self._tie_breakers(info, alias, keys)
            conditions = [] if where is None else [self._condition(info, alias, where, scope)]
            conditions.append(
                self._cursor_condition(info, alias, order, keys, cursor, sign, where, scope)
            )
            first, desc, _ = keys[0]
            at_cursor = self._cursor_value(info, order[0][1], cursor, scope)
            if case == "value":
                bound = first <= at_cursor if desc == (sign > 0) else first >= at_cursor
                conditions += [at_cursor.is_not(None), first.is_not(None), bound]
            elif case == "cursor_null":
                conditions += [at_cursor.is_(None), first.is_not(None)]
            else:
                conditions.append(first.is_(None))
                if not nulls_after:  # NULL rows lie before a cursor that has a value
                    conditions.append(at_cursor.is_(None))
            branch = (
                sa.select(*alias.c)
                .where(*conditions)
                .order_by(
                    *(_ordered(expr, d if sign > 0 else not d, n, sign) for expr, d, n in keys)
                )
            )
            if take is not None:
                limit: Any = sa.bindparam(f"p{take}", type_=sa.BigInteger)
                if skip is not None:
                    limit = limit + sa.bindparam(f"p{skip}", type_=sa.BigInteger)
                branch = branch.limit(limit)
            # Each branch sits in its own subquery: SQLite takes no ORDER BY/LIMIT on the
            # members of a compound select.
            member = branch.subquery(scope.name("b"))
            branches.append(sa.select(*member.c))
        return sa.union_all(*branches).subquery(scope.name("t"))

    def _cursor_value(
        self, info: ModelInfo, field: str, cursor: Shape, scope: _Scope
    ) -> ColumnElement[Any]:
        """``field`` of the cursor row, as a scalar subquery."""
        alias = self._alias(info, scope)
        locate = [
            alias.c[info.scalars[name].db_name] == sa.bindparam(f"p{slot}") for name, slot in cursor
        ]
        value: ColumnElement[Any] = (
            sa.select(alias.c[info.scalars[field].db_name]).where(*locate).scalar_subquery()
        )
        return value

    def _filter_order_page(
        self,
        statement: sa.Select[Any],
        info: ModelInfo,
        alias: Any,
        where: Shape | None,
        order: Shape,
        take: int | None,
        sign: int,
        skip: int | None,
        cursor: Shape | None,
        distinct: tuple[str, ...],
        scope: _Scope,
    ) -> sa.Select[Any]:
        conditions = []
        if where is not None:
            conditions.append(self._condition(info, alias, where, scope))
        keys = self._order_keys(info, alias, order, scope)
        if cursor is not None:
            keys = keys + self._tie_breakers(info, alias, keys)
            conditions.append(
                self._cursor_condition(
                    info,
                    alias,
                    order,
                    keys,
                    cursor,
                    sign,
                    where if distinct or _any_nullable(self.info, info, order) else None,
                    scope,
                )
            )
        if conditions:
            statement = statement.where(*conditions)
        ordering = [
            _ordered(expr, desc if sign > 0 else not desc, nulls, sign)
            for expr, desc, nulls in keys
        ]
        if distinct:
            statement, ordering = self._distinct(
                statement, info, alias, distinct, keys, ordering, sign, scope
            )
        if ordering:
            statement = statement.order_by(*ordering)
        if take is not None:
            statement = statement.limit(sa.bindparam(f"p{take}"))
        if skip is not None:
            statement = statement.offset(sa.bindparam(f"p{skip}"))
        return statement

    def _distinct(
        self,
        statement: sa.Select[Any],
        info: ModelInfo,
        alias: Any,
        distinct: tuple[str, ...],
        keys: list[tuple[ColumnElement[Any], bool, str | None]],
        ordering: list[Any],
        sign: int,
        scope: _Scope,
    ) -> tuple[sa.Select[Any], list[Any]]:
        """Keep the first row (in the requested order) of each distinct combination.

        A window numbers the rows of each combination; the outer query keeps number one and
        orders and pages what is left, as Prisma applies ``distinct`` before ``take``/``skip``.
        """
        partition = [alias.c[info.scalars[name].db_name] for name in distinct]
        number = sa.func.row_number().over(partition_by=partition, order_by=ordering or partition)
        labels = [str(column.key) for column in statement.selected_columns]
        inner = statement.add_columns(
            number.label("_rn"), *(expr.label(f"_k{i}") for i, (expr, _, _) in enumerate(keys))
        ).subquery(scope.name("d"))
        outer = sa.select(*(inner.c[label] for label in labels)).where(inner.c["_rn"] == 1)
        outer_ordering = [
            _ordered(inner.c[f"_k{i}"], desc if sign > 0 else not desc, nulls, sign)
            for i, (_, desc, nulls) in enumerate(keys)
        ]
        return outer, outer_ordering

    def _columns(
        self, info: ModelInfo, alias: Any, selection: Shape, scope: _Scope
    ) -> list[_Column]:
        columns: list[_Column] = []
        for item in selection:
            kind = item[0]
            if kind == "s":
                columns.append(self._scalar_column(info, alias, info.scalars[item[1]]))
            elif kind == "r":
                columns.append(self._relation_column(info, alias, item[1], item[2], scope))
            else:
                columns.append(self._count_column(info, alias, item[1], scope))
        return columns

    def _scalar_column(self, info: ModelInfo, alias: Any, field: Field) -> _Column:
        codec = self.codec(info.name, field.name)
        column = alias.c[field.db_name]
        return _Column(
            field.name,
            column,
            codec.from_db,
            codec.from_json,
            codec.json_sql(column),
            is_list=field.is_list,
        )

    def _relation_column(
        self, info: ModelInfo, parent: Any, name: str, shape: Shape, scope: _Scope
    ) -> _Column:
        link = info.relations[name]
        (_, model, where, selection, order, take, sign, skip, cursor, distinct) = shape
        target = self.info.model(model)
        alias = self._alias(target, scope)
        columns = self._columns(target, alias, selection, scope)
        row_values = [c.in_json() for c in columns]
        keys = [c.key for c in columns]
        decoders = [c.decode_json for c in columns]
        final = _final_in_json(columns)
        join_from, join_condition = self._join(link, parent, alias, scope)
        if not link.is_list:
            one = (
                self.dialect.json_object(keys, row_values)
                if final
                else self.dialect.json_row(row_values)
            )
            statement = sa.select(one).select_from(join_from).where(join_condition).limit(1)
            if where is not None:
                statement = statement.where(self._condition(target, alias, where, scope))
            if final:
                expr = statement.scalar_subquery()
                return _Column(name, expr, _loads, None, self.dialect.embed_json(expr), True)
            decode_one = _row_decoder(keys, decoders, [c.is_list for c in columns])

            def decode_single(raw: Any) -> Any:
                if raw is None:
                    return None
                return decode_one(orjson.loads(raw) if isinstance(raw, str | bytes) else raw)

            def decode_single_json(raw: Any) -> Any:
                return None if raw is None else decode_one(raw)

            expr = statement.scalar_subquery()
            return _Column(
                name, expr, decode_single, decode_single_json, self.dialect.embed_json(expr), True
            )
        inner_columns = [value.label(f"c{i}") for i, value in enumerate(row_values)]
        order_keys = self._order_keys(target, alias, order, scope)
        if cursor is not None:
            order_keys = order_keys + self._tie_breakers(target, alias, order_keys)
        order_columns = [expr.label(f"o{i}") for i, (expr, _, _) in enumerate(order_keys)]
        if not order_keys:
            # Without an order, a list comes back in primary key order, not storage order.
            order_keys = self._tie_breakers(target, alias, [])
            order = tuple(("f", name, False, None) for name in target.key_fields)
            order_columns = [expr.label(f"o{i}") for i, (expr, _, _) in enumerate(order_keys)]
        inner = (
            sa.select(*inner_columns, *order_columns)
            .select_from(join_from)
            .where(join_condition)
            .correlate(parent)
        )
        inner = self._filter_order_page(
            inner, target, alias, where, order, take, sign, skip, cursor, distinct, scope
        )
        sub = inner.subquery(scope.name("s"))

        def row_of(source: Any) -> ColumnElement[Any]:
            # JSON values lose their JSON-ness crossing a subquery on SQLite: embed them again.
            values = [
                self.dialect.embed_json(source.c[f"c{i}"]) if c.is_json else source.c[f"c{i}"]
                for i, c in enumerate(columns)
            ]
            if final:
                return self.dialect.json_object(keys, values)
            return self.dialect.json_row(values)

        row = row_of(sub)
        outer_order = [
            _ordered(sub.c[f"o{i}"], desc, nulls, 1)
            for i, (_, desc, nulls) in enumerate(order_keys)
        ]
        source: Any = sub
        if outer_order and sign < 0 and self.dialect.aggregates_in_row_order:
            # The aggregate keeps row order here: put the page back in the requested order first.
            source = sa.select(sub).order_by(*outer_order).subquery(scope.name("s"))
            row = row_of(source)
        rows = self.dialect.json_rows(row, source, outer_order)
        if final:
            return _Column(name, rows, _loads, None, self.dialect.embed_json(rows), True)
        decode_row = _row_decoder(keys, decoders, [c.is_list for c in columns])

        def decode_many_json(raw: Any) -> Any:
            return [decode_row(r) for r in raw]

        def decode_many(raw: Any) -> Any:
            return decode_many_json(orjson.loads(raw) if isinstance(raw, str | bytes) else raw)

        return _Column(
            name, rows, decode_many, decode_many_json, self.dialect.embed_json(rows), True
        )

    def _count_column(self, info: ModelInfo, alias: Any, counted: Shape, scope: _Scope) -> _Column:
        exprs: list[ColumnElement[Any]] = []
        names = []
        for name, where in counted:
            link = info.relations[name]
            target = self.info.model(link.target)
            target_alias = self._alias(target, scope)
            join_from, join_condition = self._join(link, alias, target_alias, scope)
            statement = sa.select(self.dialect.count()).select_from(join_from).where(join_condition)
            if where is not None:
                statement = statement.where(self._condition(target, target_alias, where, scope))
            exprs.append(statement.scalar_subquery())
            names.append(name)
        # Counts are JSON numbers already: the database builds the final object.
        row = self.dialect.json_object(names, exprs)
        return _Column("_count", row, _loads, None, self.dialect.embed_json(row), True)

    # -- joins, filters, order --------------------------------------------------------

    def _join(
        self, link: Link, parent: Any, alias: Any, scope: _Scope
    ) -> tuple[Any, ColumnElement[bool]]:
        """The FROM clause for ``alias`` (the link's target) and its condition on ``parent``."""
        if link.through is None:
            condition = sa.and_(
                *(
                    alias.c[theirs] == parent.c[mine]
                    for mine, theirs in zip(link.own_columns, link.target_columns, strict=True)
                )
            )
            return alias, condition
        through = link.through
        table = self.tables[_key(through.schema, through.table)].alias(scope.name("j"))
        join_from = alias.join(table, table.c[through.other] == alias.c[link.target_columns[0]])
        return join_from, table.c[through.own] == parent.c[link.own_columns[0]]

    def _condition(
        self, info: ModelInfo, alias: Any, cond: Shape, scope: _Scope
    ) -> ColumnElement[bool]:
        kind = cond[0]
        if kind == "and":
            return sa.and_(*(self._condition(info, alias, c, scope) for c in cond[1]))
        if kind == "or":
            return sa.or_(*(self._condition(info, alias, c, scope) for c in cond[1]))
        if kind == "not":
            return sa.not_(self._condition(info, alias, cond[1], scope))
        if kind == "true":
            return sa.true()
        if kind == "false":
            return sa.false()
        if kind == "null":
            column = alias.c[info.scalars[cond[1]].db_name]
            null_check: ColumnElement[bool] = column.is_(None) if cond[2] else column.is_not(None)
            return null_check
        if kind == "cmp":
            _, name, op, insensitive, slot = cond
            return self._compare(alias.c[info.scalars[name].db_name], op, insensitive, slot)
        if kind == "json":
            _, name, op, path_slot, slot, insensitive = cond
            column = alias.c[info.scalars[name].db_name]
            path: Any = sa.bindparam(f"p{path_slot}") if path_slot is not None else None
            return self.dialect.json_condition(
                column, op, path, sa.bindparam(f"p{slot}"), insensitive
            )
        if kind == "list":
            _, name, op, slot = cond
            param: Any = sa.bindparam(f"p{slot}") if slot is not None else None
            return self.dialect.list_op(alias.c[info.scalars[name].db_name], op, param)
        if kind == "rel":
            return self._relation_condition(info, alias, cond, scope)
        if kind == "agg":
            _, op, inner = cond
            assert isinstance(alias, _Aggregated)
            return self._condition(info, _AggregateColumns(alias.alias, op), inner, scope)
        raise ValueError(f"unknown condition {kind!r}")

    def _compare(self, column: Any, op: str, insensitive: bool, slot: int) -> ColumnElement[bool]:
        param: Any = sa.bindparam(f"p{slot}")
        dialect = self.dialect
        if op == "equals":
            return dialect.equals(column, param, insensitive)
        if op == "not":
            return sa.not_(dialect.equals(column, param, insensitive))
        if op == "in":
            return dialect.in_list(column, param, insensitive)
        if op == "notIn":
            return sa.not_(dialect.in_list(column, param, insensitive))
        if op in ("contains", "startsWith", "endsWith"):
            return dialect.like(column, param, insensitive)
        if op == "search":
            return dialect.search(column, param)
        left, right = (
            (sa.func.lower(column), sa.func.lower(param)) if insensitive else (column, param)
        )
        if op == "lt":
            return left < right
        if op == "lte":
            return left <= right
        if op == "gt":
            return left > right
        return left >= right

    def _relation_condition(
        self, info: ModelInfo, alias: Any, cond: Shape, scope: _Scope
    ) -> ColumnElement[bool]:
        _, name, kind, inner = cond
        link = info.relations[name]
        target = self.info.model(link.target)
        target_alias = self._alias(target, scope)
        join_from, join_condition = self._join(link, alias, target_alias, scope)
        conditions = [join_condition]
        if kind in ("is", "isNot") and inner is not None:
            # Prisma joins a to-one relation, so its filter keeps SQL's three-valued logic: with
            # the related record there, the filter's own value (NULL for a NULL column); without
            # it, false. ``isNot`` is its negation, NULL staying NULL.
            matched = self._condition(target, target_alias, inner, scope)
            present = sa.exists(
                sa.select(sa.literal(1)).select_from(join_from).where(join_condition)
            )
            value = sa.select(matched).select_from(join_from).where(join_condition).limit(1)
            is_expr: ColumnElement[bool] = sa.case(
                (present, value.scalar_subquery()), else_=sa.false()
            )
            return is_expr if kind == "is" else sa.not_(is_expr)
        if inner is None and kind == "every":
            return sa.true()  # every related record matches an empty filter
        if inner is not None:
            matched = self._condition(target, target_alias, inner, scope)
            conditions.append(sa.not_(matched) if kind == "every" else matched)
        exists = sa.exists(sa.select(sa.literal(1)).select_from(join_from).where(*conditions))
        if kind in ("some", "is"):
            return exists
        return sa.not_(exists)  # none, every, isNot

    def _order_keys(
        self, info: ModelInfo, alias: Any, order: Shape, scope: _Scope
    ) -> list[tuple[ColumnElement[Any], bool, str | None]]:
        keys: list[tuple[ColumnElement[Any], bool, str | None]] = []
        for item in order:
            kind = item[0]
            if kind == "f":
                keys.append((alias.c[info.scalars[item[1]].db_name], item[2], item[3]))
            elif kind == "rf":
                _, path, field, desc, nulls = item
                keys.append((self._related_value(info, alias, path, field, scope), desc, nulls))
            else:
                _, name, desc = item
                link = info.relations[name]
                target = self.info.model(link.target)
                target_alias = self._alias(target, scope)
                join_from, join_condition = self._join(link, alias, target_alias, scope)
                counted = (
                    sa.select(self.dialect.count()).select_from(join_from).where(join_condition)
                )
                keys.append((counted.scalar_subquery(), desc, None))
        return keys

    def _related_value(
        self, info: ModelInfo, alias: Any, path: tuple[str, ...], field: str, scope: _Scope
    ) -> ColumnElement[Any]:
        """A field of a to-one related record (through ``path``) as a scalar subquery."""
        link = info.relations[path[0]]
        target = self.info.model(link.target)
        target_alias = self._alias(target, scope)
        join_from, join_condition = self._join(link, alias, target_alias, scope)
        if len(path) > 1:
            value = self._related_value(target, target_alias, path[1:], field, scope)
        else:
            value = target_alias.c[target.scalars[field].db_name]
        return (
            sa.select(value).select_from(join_from).where(join_condition).limit(1).scalar_subquery()
        )

    def _tie_breakers(
        self, info: ModelInfo, alias: Any, keys: list[tuple[ColumnElement[Any], bool, str | None]]
    ) -> list[tuple[ColumnElement[Any], bool, str | None]]:
        """The primary key, appended to an order so that a cursor has one exact position."""
        present = {id(expr) for expr, _, _ in keys}
        extra: list[tuple[ColumnElement[Any], bool, str | None]] = []
        for key_column in info.key_columns:
            column = alias.c[key_column]
            if id(column) not in present:
                extra.append((column, False, None))
        return extra

    def _cursor_condition(
        self,
        info: ModelInfo,
        alias: Any,
        order: Shape,
        keys: list[tuple[ColumnElement[Any], bool, str | None]],
        cursor: Shape,
        sign: int,
        where: Shape | None,
        scope: _Scope,
    ) -> ColumnElement[bool]:
        """Rows at or after the cursor row in ``keys`` order, the cursor row included (at or
        before it when ``take`` is negative).

        A nullable key compares by where NULLs sort (NULLS FIRST/LAST as asked, else the
        database's default), so the cursor has one exact position in the order, as Prisma
        places it. ``where`` (given with ``distinct`` or a nullable key, where Prisma finds the
        cursor among the filtered rows) must hold for the cursor row itself, or nothing is
        returned.
        """
        cursor_alias = self._alias(info, scope)
        cursor_keys = self._order_keys(info, cursor_alias, order, scope)
        cursor_keys = cursor_keys + self._tie_breakers(info, cursor_alias, cursor_keys)
        nullable = [_nullable(self.info, info, item) for item in order]
        nullable += [False] * (len(keys) - len(order))
        locate = [
            cursor_alias.c[info.scalars[name].db_name] == sa.bindparam(f"p{slot}")
            for name, slot in cursor
        ]

        def at_cursor(expr: ColumnElement[Any]) -> ColumnElement[Any]:
            return sa.select(expr).select_from(cursor_alias).where(*locate).scalar_subquery()

        values = [at_cursor(expr) for expr, _, _ in cursor_keys]

        def equal(j: int) -> ColumnElement[bool]:
            if nullable[j]:
                return keys[j][0].is_not_distinct_from(values[j])
            same: ColumnElement[bool] = keys[j][0] == values[j]
            return same

        def beyond(i: int) -> ColumnElement[bool]:
            expr, desc, nulls = keys[i]
            forward = sign > 0  # with a negative take the walk goes backwards
            after: ColumnElement[bool] = expr < values[i] if desc == forward else expr > values[i]
            if not nullable[i]:
                return after
            nulls_last = (
                nulls == "last" if nulls is not None else self.dialect.nulls_last_by_default(desc)
            )
            if nulls_last == forward:  # NULLs come after every value, in walking order
                return sa.and_(values[i].is_not(None), sa.or_(expr.is_(None), after))
            return sa.or_(sa.and_(values[i].is_(None), expr.is_not(None)), after)

        branches = [sa.and_(*(equal(j) for j in range(i)), beyond(i)) for i in range(len(keys))]
        branches.append(sa.and_(*(equal(j) for j in range(len(keys)))))
        found = locate
        if where is not None:
            found = [*locate, self._condition(info, cursor_alias, where, scope)]
        exists: ColumnElement[bool] = sa.exists(
            sa.select(sa.literal(1)).select_from(cursor_alias).where(*found)
        )
        # Prisma finds the cursor row joined to the related row of a required key reached
        # through the back side of an optional relation: without it there is no cursor row.
        related = [
            values[i].is_not(None)
            for i, item in enumerate(order)
            if item[0] == "rf" and not nullable[i]
        ]
        if related:
            exists = sa.and_(exists, *related)
        if nullable[0]:
            return sa.and_(exists, sa.or_(*branches))
        # Every branch keeps the first key at or beyond the cursor's value; said on its own, that
        # bound lets the database start an index scan at the cursor instead of filtering
        # every row before it.
        first, desc, _ = keys[0]
        bound = first <= values[0] if desc == (sign > 0) else first >= values[0]
        return sa.and_(exists, bound, sa.or_(*branches))

    # -- helpers ---------------------------------------------------------------------

    def _alias(self, info: ModelInfo, scope: _Scope) -> Any:
        table = self.tables[_key(info.model.schema, info.model.db_name)]
        return table.alias(scope.name("t"))

    def _text(self, statement: Any) -> tuple[str, tuple[tuple[int | None, Any], ...]]:
        with warnings.catch_warnings():
            # Inserts leave autoincrement keys to the database; SQLAlchemy warns about that.
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            compiled = statement.compile(dialect=self.dialect.sa_dialect)
        names = compiled.positiontup or []
        args = tuple(
            (int(name[1:]), None)
            if name.startswith("p") and name[1:].isdigit()
            else (None, compiled.params[name])
            for name in names
        )
        return str(compiled), args

    def _finish(
        self,
        statement: sa.Select[Any],
        columns: list[_Column],
        post: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None,
    ) -> Compiled:
        sql, args = self._text(statement)
        keys = [c.key for c in columns]
        lists = [c.is_list for c in columns]
        decoders = [c.decode for c in columns]
        decode_rows = _rows_decoder(_row_decoder(keys, decoders, lists), post)
        if _loads not in decoders:
            return Compiled(sql, args, decode_rows)
        wire = [_json_text if decode is _loads else decode for decode in decoders]
        return Compiled(
            sql, args, decode_rows, _rows_decoder(_row_decoder(keys, wire, lists), post)
        )


class _AggregateColumns:
    """An alias whose columns read as ``op(column)`` (inside ``having``)."""

    def __init__(self, alias: Any, op: str) -> None:
        self.c = {column.key: _aggregate_expr(op, column) for column in alias.c}


class _Aggregated:
    """Stands in for a table alias in ``having``: ``c[column]`` of an ``("agg", op, cond)``
    condition is the aggregate over that column."""

    def __init__(self, alias: Any, info: ModelInfo) -> None:
        self.alias = alias
        self.info = info
        self.c = alias.c


def _aggregate_expr(op: str, column: Any) -> Any:
    if op == "_count":
        return sa.func.count() if column is None else sa.func.count(column)
    if op == "_sum":
        return sa.func.sum(column)
    if op == "_avg":
        # An average is fractional even over integers: compare it as a float (a Decimal
        # field's average stays numeric).
        exact = isinstance(column.type, sa.Numeric) and not isinstance(column.type, sa.Float)
        return sa.func.avg(column, type_=column.type if exact else sa.Float())
    if op == "_min":
        return sa.func.min(column)
    return sa.func.max(column)


def _identity(value: Any) -> Any:
    return value


class _Scope:
    """Hands out alias names (t0, t1, ...) within one statement."""

    def __init__(self) -> None:
        self._counter = count()

    def name(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"


def _nullable(schema: SchemaInfo, info: ModelInfo, item: Shape) -> bool:
    """Whether a cursor treats an order key as one that can be NULL: an optional field, or a
    field reached through an optional relation whose foreign key is on this side.

    Through an optional relation whose foreign key is on the other side (the back side of
    a one-to-one), Prisma compares a required field as a required one, and finds the cursor
    row joined to its related row: without one there is no cursor row. datatier does the
    same (see ``_cursor_condition``).
    """
    if item[0] == "f":
        return not info.scalars[item[1]].is_required
    if item[0] != "rf":
        return False
    _, path, field, _, _ = item
    for name in path:
        if info.relations[name].holds_foreign_key and not info.model.field(name).is_required:
            return True
        info = schema.model(info.relations[name].target)
    return not info.scalars[field].is_required


def _any_nullable(schema: SchemaInfo, info: ModelInfo, order: Shape) -> bool:
    """Prisma places a cursor among the filtered rows (in memory) when the order has a nullable
    key: the cursor row must then pass the filter too."""
    return any(_nullable(schema, info, item) for item in order)


def _key(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _ordered(expr: ColumnElement[Any], desc: bool, nulls: str | None, sign: int) -> Any:
    ordered = expr.desc() if desc else expr.asc()
    if nulls is not None:
        first = nulls == "first"
        if sign < 0:
            first = not first
        ordered = ordered.nulls_first() if first else ordered.nulls_last()
    return ordered


# PostgreSQL takes at most 100 arguments per function call: 50 keys and their values.
_MAX_OBJECT_KEYS = 50


def _final_in_json(columns: list[_Column]) -> bool:
    """Whether a nested row can be built by the database as the final JSON object: every
    value reads as it is (no conversion, no NULL list to turn into ``[]``), so the driver's
    JSON decoder gives the result with no Python pass over the rows."""
    return len(columns) <= _MAX_OBJECT_KEYS and all(
        c.decode_json is None and not c.is_list for c in columns
    )


def _rows_decoder(
    decode_row: Callable[[Any], dict[str, Any]],
    post: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None,
) -> Callable[[list[Row]], list[dict[str, Any]]]:
    if post is None:
        return lambda rows: [decode_row(row) for row in rows]
    return lambda rows: post([decode_row(row) for row in rows])


def _json_text(raw: Any) -> Any:
    return JsonText(raw) if isinstance(raw, str | bytes) else raw


def _loads(raw: Any) -> Any:
    """A JSON value built by the database, as the driver hands it over (text, or parsed)."""
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def _row_decoder(
    keys: list[str], decoders: list[Decode | None], lists: list[bool] | None = None
) -> Callable[[Any], dict[str, Any]]:
    """A function turning one row (a sequence in column order) into a dict.

    The function is generated per shape (as ``dataclasses`` generates ``__init__``): a dict
    display that indexes the row directly and calls a converter only where a column has
    one, which is several times faster than a generic loop. A NULL scalar list reads as
    ``[]``, as Prisma reads it (its own writes store NULL for a list that was left out).
    """
    flags = lists if lists is not None else [False] * len(keys)
    namespace: dict[str, Any] = {}
    entries = []
    for index, (key, decode, is_list) in enumerate(zip(keys, decoders, flags, strict=True)):
        value = f"row[{index}]"
        if decode is None and not is_list:
            entries.append(f"{key!r}: {value}")
            continue
        namespace[f"f{index}"] = decode
        converted = value if decode is None else f"f{index}(v)"
        empty = "[]" if is_list else "None"
        entries.append(f"{key!r}: ({empty} if (v := {value}) is None else {converted})")
    source = "def decode(row):\n    return {" + ", ".join(entries) + "}\n"
    exec(source, namespace)  # the source holds only indexes, repr()'d keys and our own names
    decode_row: Callable[[Any], dict[str, Any]] = namespace["decode"]
    return decode_row


def _reverse(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A negative ``take`` reads backwards from the end; the caller gets the rows in order."""
    return rows[::-1]
