"""Reads whose JSON PostgreSQL writes: each record comes back as the API's JSON text, built
in the one statement the engine sends, and goes to the client without being decoded into
Python values and encoded again.

The text is byte for byte what the API's encoder (``datatier.api._json.dumps``) writes for
the record the usual read decodes: keys in selection order, DateTime as ISO 8601 in UTC
with ``Z`` (microseconds only when not zero), Decimal as its string, Bytes as base64, enums by their schema name,
``_count`` and nested relations as objects and arrays. A shape touching a value whose
text PostgreSQL writes differently (Float, Json, Date and Time columns, lists of those) or a top-level ``distinct`` has no JSON statement: the caller reads it the usual way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from datatier.drivers._protocol import Connection
from datatier.errors import NotFound
from datatier.query._compile import Compiler, Decode, _Column, _ordered, _Scope
from datatier.query._dialect import PostgresQueryDialect
from datatier.query._engine import MAX_SHAPES, Engine
from datatier.query._model_info import ModelInfo
from datatier.query._plan import Shape
from datatier.schema._ir import Field

__all__ = ["JsonRead", "JsonReads", "JsonRows", "json_reads"]

Row = Sequence[Any]
# Types whose JSON (to_json) PostgreSQL writes as the API does, also as list elements, and
# the column types they may have (others may reach Python as other objects: inet, money).
_PLAIN = frozenset(("String", "Int", "BigInt", "Boolean"))
_PLAIN_NATIVE = frozenset(
    (None, "Text", "VarChar", "Char", "Citext", "Uuid", "Integer", "SmallInt", "BigInt", "Boolean")
)


@dataclass(frozen=True, slots=True)
class JsonRows:
    """The rows of a JSON read: each record's JSON text, in order, and the raw rows, whose
    later columns hold the selected key fields (to render a cursor or a URL from)."""

    texts: list[str]
    rows: list[Row]
    keys: tuple[tuple[str, Decode | None], ...]

    def key(self, index: int) -> dict[str, Any]:
        """The key fields of record ``index`` as the usual read decodes them."""
        row = self.rows[index]
        return {
            name: value if decode is None or value is None else decode(value)
            for (name, decode), value in zip(self.keys, row[1:], strict=True)
        }


@dataclass(frozen=True, slots=True)
class JsonRead:
    """One shape's statement: its SQL (one text column, then the key fields it selects),
    which parameter slots feed its placeholders, and the key fields' decoders."""

    sql: str
    args: tuple[tuple[int | None, Any], ...]
    keys: tuple[tuple[str, Decode | None], ...]
    reverse: bool  # a negative take reads from the end; the caller gets the rows in order

    async def fetch(self, conn: Connection, params: Sequence[Any]) -> JsonRows:
        rows = await conn.fetch(
            self.sql, [params[slot] if slot is not None else value for slot, value in self.args]
        )
        if self.reverse:
            rows = rows[::-1]
        return JsonRows([row[0] for row in rows], rows, self.keys)


class JsonReads:
    """The JSON statements of one engine, compiled once per shape (None: no such statement)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.compiler = JsonCompiler(
            engine.info, engine.compiler.tables, engine.dialect, engine.compiler.codec
        )
        self._reads: dict[Shape, JsonRead | None] = {}

    def prepare(
        self, model: str, document: Any, *, unique: bool = False
    ) -> tuple[JsonRead, list[Any]] | None:
        """The statement and parameters of a ``findMany`` (or, ``unique``, ``findUnique``)
        document; None when its shape has no JSON statement. A bad document raises the
        ``ValidationError`` the usual read raises."""
        shape, params = self.engine.planner.read(model, document, unique=unique)
        try:
            read = self._reads[shape]
        except KeyError:
            read = self.compiler.compile_json_read(shape)
            if len(self._reads) >= MAX_SHAPES:  # as the engine bounds its statements
                del self._reads[next(iter(self._reads))]
            self._reads[shape] = read
        return None if read is None else (read, params)

    @staticmethod
    def one(rows: JsonRows, model: str) -> str:
        """The text of the one record of a unique read; NotFound, as the engine says it, if none."""
        if not rows.texts:
            raise NotFound(f"no `{model}` record matches the query")
        return rows.texts[0]


_READS: WeakKeyDictionary[Engine, JsonReads] = WeakKeyDictionary()


def json_reads(engine: Engine) -> JsonReads | None:
    """The engine's JSON reads; None on a database without them (SQLite)."""
    if not isinstance(engine.dialect, PostgresQueryDialect):
        return None
    reads = _READS.get(engine)
    if reads is None:
        reads = _READS[engine] = JsonReads(engine)
    return reads


class JsonCompiler(Compiler):
    """Compiles read shapes to statements whose rows are records as JSON text (PostgreSQL).

    It reuses the read compiler's filters, order, pages, cursors and joins; only how a
    value, a record, a relation and a count are selected differs. A column's ``expr`` stays
    the raw value (the key fields are selected raw too) and its ``json_expr`` is the text.
    """

    def compile_json_read(self, shape: Shape) -> JsonRead | None:
        if shape[9] or not self._writable(shape):
            return None
        info = self.info.model(shape[1])
        statement, columns, post = self._top_read(shape, _Scope())
        keys = [c for c in columns if c.key in info.key_fields and not c.is_json]
        statement = statement.with_only_columns(
            _record(columns).label("j"), *(c.expr.label(f"k{i}") for i, c in enumerate(keys))
        )
        sql, args = self._text(statement)
        return JsonRead(sql, args, tuple((c.key, c.decode) for c in keys), post is not None)

    def _writable(self, shape: Shape) -> bool:
        """Whether every value the read selects (nested reads too) has a JSON text here."""
        info = self.info.model(shape[1])
        for item in shape[3]:
            if (
                item[0] == "s"
                and _value_text(self.info.schema.enums, info.scalars[item[1]]) is None
            ):
                return False
            if item[0] == "r" and not self._writable(item[2]):
                return False
        return True

    def _scalar_column(self, info: ModelInfo, alias: Any, field: Field) -> _Column:
        column = alias.c[field.db_name]
        text = _value_text(self.info.schema.enums, field)
        assert text is not None  # _writable checked
        return _Column(
            field.name,
            column,
            self.codec(info.name, field.name).from_db,
            None,
            _or_null(column, text(column), field),
        )

    def _relation_column(
        self, info: ModelInfo, parent: Any, name: str, shape: Shape, scope: _Scope
    ) -> _Column:
        """A related record (``null`` when none) or the array of related records, as text."""
        link = info.relations[name]
        (_, model, where, selection, order, take, sign, skip, cursor, distinct) = shape
        target = self.info.model(model)
        alias = self._alias(target, scope)
        record = _record(self._columns(target, alias, selection, scope))
        join_from, join_condition = self._join(link, parent, alias, scope)
        if not link.is_list:
            statement = sa.select(record).select_from(join_from).where(join_condition).limit(1)
            if where is not None:
                statement = statement.where(self._condition(target, alias, where, scope))
            one = sa.func.coalesce(statement.scalar_subquery(), _literal("null"))
            return _Column(name, one, None, None, one, True)
        order_keys = self._order_keys(target, alias, order, scope)
        if cursor is not None:
            order_keys = order_keys + self._tie_breakers(target, alias, order_keys)
        if not order_keys:
            # Without an order, a list comes back in primary key order, as the usual read's.
            order_keys = self._tie_breakers(target, alias, [])
            order = tuple(("f", key, False, None) for key in target.key_fields)
        inner = (
            sa.select(
                record.label("c0"), *(e.label(f"o{i}") for i, (e, _, _) in enumerate(order_keys))
            )
            .select_from(join_from)
            .where(join_condition)
            .correlate(parent)
        )
        inner = self._filter_order_page(
            inner, target, alias, where, order, take, sign, skip, cursor, distinct, scope
        )
        sub = inner.subquery(scope.name("s"))
        outer_order = [
            _ordered(sub.c[f"o{i}"], desc, nulls, 1)
            for i, (_, desc, nulls) in enumerate(order_keys)
        ]
        joined = sa.func.string_agg(sub.c["c0"], aggregate_order_by(_literal(","), *outer_order))
        array = _concat([_literal("["), sa.func.coalesce(joined, _literal("")), _literal("]")])
        many = sa.select(array).select_from(sub).scalar_subquery()
        return _Column(name, many, None, None, many, True)

    def _count_column(self, info: ModelInfo, alias: Any, counted: Shape, scope: _Scope) -> _Column:
        """``{"relation": n, ...}`` as text."""
        parts: list[ColumnElement[Any]] = []
        for name, where in counted:
            link = info.relations[name]
            target = self.info.model(link.target)
            target_alias = self._alias(target, scope)
            join_from, join_condition = self._join(link, alias, target_alias, scope)
            statement = sa.select(self.dialect.count()).select_from(join_from).where(join_condition)
            if where is not None:
                statement = statement.where(self._condition(target, target_alias, where, scope))
            parts.append(sa.cast(statement.scalar_subquery(), sa.Text()))
        text = _object([name for name, _ in counted], parts)
        return _Column("_count", text, None, None, text, True)


# -- JSON text of values -----------------------------------------------------------------

TextOf = Callable[[ColumnElement[Any]], ColumnElement[Any]]


def _value_text(enums: Any, field: Field) -> TextOf | None:
    """How PostgreSQL writes ``field``'s value (never NULL here) as the API's JSON text;
    None when it cannot write it the same way."""
    if field.kind == "enum":
        enum = next(e for e in enums if e.name == field.type)
        renamed = {v.db_name: v.name for v in enum.values if v.db_name != v.name}
        if renamed and field.is_list:
            return None
        # to_json of an enum looks its labels up for every value (more than the rest of a
        # record costs); of the same text, it does not
        if renamed:
            return lambda column: _to_json(
                sa.case(renamed, value=sa.cast(column, sa.Text()), else_=sa.cast(column, sa.Text()))
            )
        text = pg.ARRAY(sa.Text()) if field.is_list else sa.Text()
        return lambda column: _to_json(sa.cast(column, text))
    native = field.native_type.name if field.native_type is not None else None
    if field.type in _PLAIN and native not in _PLAIN_NATIVE:
        return None
    if field.type != "String" and field.type in _PLAIN and not field.is_list:
        # a number or boolean's text is its JSON; to_json would look its type up per value
        return lambda column: sa.cast(column, sa.Text())
    if field.type in _PLAIN:
        return _to_json
    if field.is_list:
        return None
    if field.type == "DateTime" and native in (None, "Timestamp"):
        return _iso_utc
    if field.type == "DateTime" and native == "Timestamptz":
        return lambda column: _iso_utc(sa.func.timezone(_literal("UTC"), column))
    if field.type == "Bytes":
        # encode() breaks base64 into lines of 76 characters; the API's base64 has none.
        return lambda column: _quoted(
            sa.func.translate(
                sa.func.encode(column, _literal("base64")),
                sa.literal_column("E'\\n'"),
                _literal(""),
            )
        )
    if field.type == "Decimal" and native in (None, "Decimal"):
        return lambda column: _quoted(_decimal_text(column))
    return None  # Float, Json, Date/Time, money: PostgreSQL's text differs from the API's


def _or_null(
    column: ColumnElement[Any], text: ColumnElement[Any], field: Field
) -> ColumnElement[Any]:
    """A NULL value as ``null``, a NULL list as ``[]`` (as the usual read decodes it); the
    text of a NULL is not NULL itself (``concat`` skips NULLs), so the column is tested."""
    if field.is_required and not field.is_list:
        return text
    return sa.case((column.is_(None), _literal("[]" if field.is_list else "null")), else_=text)


def _to_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.cast(sa.func.to_json(column), sa.Text())


def _iso_utc(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``timestamp`` (UTC) as the API writes a datetime: microseconds only when not zero.

    ``to_json`` writes ISO 8601 whatever the session's DateStyle, with the fraction's
    trailing zeros cut (``...05.678``); padded back to six digits it is the API's text.
    ``to_char`` would say it directly but costs the server several times more per value.
    """
    iso = sa.func.btrim(sa.cast(sa.func.to_json(column), sa.Text()), _literal('"'))
    padded = sa.case(
        (sa.func.length(iso) == sa.literal_column("19"), iso),
        else_=sa.func.rpad(iso, sa.literal_column("26"), _literal("0")),
    )
    return _concat([_literal('"'), padded, _literal('Z"')])


def _decimal_text(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A ``numeric`` as ``str(Decimal)`` writes it: PostgreSQL's text (every digit of its
    scale), except below 10^-6, where Python writes scientific notation (``1.20E-7``,
    ``0E-8``)."""
    scale = sa.func.scale(column)
    digits = sa.func.ltrim(
        sa.func.replace(sa.cast(sa.func.abs(column), sa.Text()), _literal("."), _literal("")),
        _literal("0"),
    )
    count = sa.func.length(digits)
    scientific = _concat(
        [
            sa.case((column < 0, _literal("-")), else_=_literal("")),
            sa.func.left(digits, 1),
            sa.case(
                (count > 1, _concat([_literal("."), sa.func.substr(digits, 2)])), else_=_literal("")
            ),
            _literal("E"),
            sa.cast(count - 1 - scale, sa.Text()),
        ]
    )
    return sa.case(
        (sa.and_(column == 0, scale > 6), _concat([_literal("0E-"), sa.cast(scale, sa.Text())])),
        (sa.and_(column != 0, sa.func.abs(column) < sa.literal_column("0.000001")), scientific),
        else_=sa.cast(column, sa.Text()),
    )


def _quoted(text: ColumnElement[Any]) -> ColumnElement[Any]:
    """Text that needs no escaping (base64) as a JSON string."""
    return _concat([_literal('"'), text, _literal('"')])


def _record(columns: list[_Column]) -> ColumnElement[Any]:
    return _object([c.key for c in columns], [c.in_json() for c in columns])


def _object(keys: list[str], values: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    """``{"key": value, ...}`` from the values' texts (none of them NULL)."""
    if not keys:
        return _literal("{}")
    parts: list[ColumnElement[Any]] = []
    for index, (key, value) in enumerate(zip(keys, values, strict=True)):
        label = ("{" if index == 0 else ",") + orjson.dumps(key).decode() + ":"
        parts += [_literal(label), value]
    parts.append(_literal("}"))
    return _concat(parts)


def _concat(parts: list[ColumnElement[Any]]) -> ColumnElement[Any]:
    """The parts (none NULL) as one text, built once: a chain of ``||`` copies the growing
    text at every step, which costs the server more than the rest of the record."""
    return sa.func.concat(*parts, type_=sa.Text())


def _literal(value: str) -> ColumnElement[Any]:
    """A constant of the SQL text (never a value from a request)."""
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.Text())
