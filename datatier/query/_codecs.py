"""Field codecs: one field's values between Python, the database driver and database-built JSON.

Values are stored exactly as Prisma 7 stores them (docs/storage-formats.md), so Prisma
Client and datatier can share a database. Per field, ``codec_for`` builds plain closures
once: ``to_db`` (a query document's value -> the driver's parameter: asyncpg on
PostgreSQL, stdlib sqlite3 on SQLite), ``from_db`` (a column value from the driver ->
Python), ``from_json`` (the value inside JSON built by the database -> Python) and
``json_sql`` (the expression to place inside the JSON builder so nothing loses precision).
``from_db``/``from_json`` are ``None`` where the value needs no conversion, and are never
called with ``None`` (SQL NULL / JSON null).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.elements import ColumnElement

from datatier.errors import ValidationError
from datatier.schema import Field, ScalarType, Schema

__all__ = ["DbNull", "FieldCodec", "JsonNull", "codec_for"]

Convert = Callable[[Any], Any]
JsonSql = Callable[[ColumnElement[Any]], ColumnElement[Any]]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class _NullSentinel:
    """``JsonNull`` (the JSON value null) or ``DbNull`` (SQL NULL) for a Json field, as in Prisma."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


JsonNull: Final = _NullSentinel("JsonNull")
DbNull: Final = _NullSentinel("DbNull")


@dataclass(frozen=True, slots=True)
class FieldCodec:
    """How one field's values cross to and from one database (see the module docstring)."""

    field: Field
    to_db: Convert
    from_db: Convert | None
    from_json: Convert | None
    json_expr: JsonSql | None = None

    def json_sql(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """``column`` as it must be placed inside ``json_build_object``/``json_object``."""
        return column if self.json_expr is None else self.json_expr(column)


def _invalid(field: Field, expected: str, value: Any) -> ValidationError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ValidationError(
        f"field {field.name} ({field.type}{'[]' if field.is_list else ''}) expects {expected}, "
        f"got {type(value).__name__} {shown}"
    )


# -- input checks shared by every database ---------------------------------------------------


def _check_str(field: Field) -> Convert:
    def to_db(value: Any) -> Any:
        if isinstance(value, str):
            return value
        raise _invalid(field, "a string", value)

    return to_db


def _check_int(field: Field, low: int, high: int, kind: str) -> Convert:
    def to_db(value: Any) -> Any:
        if type(value) is not int:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _invalid(field, f"an integer ({kind})", value)
            if isinstance(value, float) and not value.is_integer():
                raise _invalid(field, f"an integer ({kind}), not a fraction", value)
            value = int(value)
        if not low <= value <= high:
            raise _invalid(field, f"an integer that fits {kind} ({low}..{high})", value)
        return value

    return to_db


def _check_float(field: Field) -> Convert:
    def to_db(value: Any) -> Any:
        if type(value) is float:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(field, "a number", value)
        return float(value)

    return to_db


def _check_decimal(field: Field) -> Callable[[Any], Decimal]:
    def to_decimal(value: Any) -> Decimal:
        if type(value) is Decimal:
            result = value
        elif isinstance(value, bool):
            raise _invalid(field, "a Decimal, int, float or numeric string", value)
        elif isinstance(value, int | str | Decimal):
            try:
                result = Decimal(value)
            except InvalidOperation:
                raise _invalid(field, "a numeric string", value) from None
        elif isinstance(value, float):
            result = Decimal(str(value))  # 0.1 -> Decimal("0.1"), not its binary expansion
        else:
            raise _invalid(field, "a Decimal, int, float or numeric string", value)
        if not result.is_finite():
            raise _invalid(field, "a finite number", value)
        return result

    return to_decimal


def _check_bool(field: Field) -> Convert:
    def to_db(value: Any) -> Any:
        if value is True or value is False:
            return value
        raise _invalid(field, "a bool", value)

    return to_db


def _check_datetime(field: Field) -> Callable[[Any], datetime]:
    """Any accepted DateTime input -> an aware UTC datetime truncated to milliseconds.

    Prisma Client holds DateTime values as JavaScript Dates (millisecond precision):
    microseconds are cut off, never rounded (PostgreSQL would round them).
    """

    def to_utc(value: Any) -> datetime:
        moment: datetime
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                raise _invalid(field, "an ISO-8601 date-time string", value) from None
        else:
            raise _invalid(field, "a datetime or an ISO-8601 string", value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        elif moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        micro = moment.microsecond
        return moment.replace(microsecond=micro - micro % 1000) if micro % 1000 else moment

    return to_utc


def _check_bytes(field: Field) -> Convert:
    def to_db(value: Any) -> Any:
        if type(value) is bytes:
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise _invalid(field, "bytes", value)

    return to_db


def _dump_json(field: Field) -> Convert:
    """Any JSON-able value -> compact JSON text (Prisma writes JSON.stringify's form)."""

    def to_text(value: Any) -> Any:
        if value is JsonNull:
            return "null"
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            pass
        try:  # orjson stops at 64-bit integers; the standard library does not
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            raise _invalid(field, "a JSON value", value) from None

    return to_text


def _enum_maps(field: Field, schema: Schema) -> tuple[Convert, Convert | None]:
    """(to_db, from_db) of an enum field; ``from_db`` is None when no value is ``@map``ped
    (the stored text is the value's name, so reading needs no call per row)."""
    enum = schema.enum(field.type)
    to_db_names = {v.name: v.db_name for v in enum.values}
    to_names = {v.db_name: v.name for v in enum.values}
    allowed = ", ".join(to_db_names)

    def to_db(value: Any) -> Any:
        try:
            return to_db_names[value]
        except (KeyError, TypeError):
            raise _invalid(field, f"one of {allowed}", value) from None

    if all(name == db_name for name, db_name in to_db_names.items()):
        return to_db, None

    def from_db(raw: Any) -> Any:
        return to_names.get(raw, raw)

    return to_db, from_db


# -- reading shared by both databases --------------------------------------------------------


def _json_loads(raw: Any) -> Any:
    return orjson.loads(raw)


def _bytes_from_hex(raw: Any) -> bytes:
    if raw.startswith("\\x"):  # PostgreSQL's own rendering of bytea inside JSON
        raw = raw[2:]
    return bytes.fromhex(raw)


def _decimal_from_json(raw: Any) -> Decimal:
    return Decimal(raw) if type(raw) is str else Decimal(str(raw))


def _datetime_from_iso(raw: Any) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if value.tzinfo is UTC else value.astimezone(UTC)


# -- PostgreSQL (asyncpg) --------------------------------------------------------------------


def _pg_datetime(
    field: Field, to_utc: Callable[[Any], datetime]
) -> tuple[Convert, Convert | None, Convert]:
    native = field.native_type.name if field.native_type is not None else "Timestamp"
    if native == "Date":

        def to_date(value: Any) -> Any:
            return to_utc(value).date()

        def date_from_db(raw: Any) -> Any:
            return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)

        def date_from_json(raw: Any) -> Any:
            return date_from_db(date.fromisoformat(raw))

        return to_date, date_from_db, date_from_json
    if native in ("Time", "Timetz"):

        def to_time(value: Any) -> Any:
            moment = to_utc(value)
            return moment.timetz() if native == "Timetz" else moment.time()

        def time_from_db(raw: Any) -> Any:
            moment = datetime.combine(_EPOCH.date(), raw)
            if moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).replace(year=1970, month=1, day=1)

        def time_from_json(raw: Any) -> Any:
            return time_from_db(time.fromisoformat(raw))

        return to_time, time_from_db, time_from_json
    # ``timestamp`` and ``timestamptz``: the driver reads them as aware datetimes in UTC
    # and writes an aware datetime in UTC (datatier.drivers._postgres)
    return to_utc, None, _datetime_from_iso


def _pg_scalar(
    field: Field, schema: Schema
) -> tuple[Convert, Convert | None, Convert | None, JsonSql | None]:
    """(to_db, from_db, from_json, json_expr) of one PostgreSQL value (a list's element)."""
    if field.kind == "enum":
        to_db, from_db = _enum_maps(field, schema)
        return to_db, from_db, from_db, None
    scalar = ScalarType(field.type)
    native = field.native_type.name if field.native_type is not None else None
    if scalar is ScalarType.STRING:
        if native == "Uuid":
            return _check_str(field), str, None, None
        return _check_str(field), None, None, None
    if scalar is ScalarType.BOOLEAN:
        return _check_bool(field), None, None, None
    if scalar is ScalarType.INT:
        return _check_int(field, _INT_MIN, _INT_MAX, "Int, 32 bits"), None, None, None
    if scalar is ScalarType.BIGINT:
        return _check_int(field, _BIGINT_MIN, _BIGINT_MAX, "BigInt, 64 bits"), None, None, None
    if scalar is ScalarType.FLOAT:
        return _check_float(field), None, float, None
    if scalar is ScalarType.DECIMAL:
        text_array = pg.ARRAY(sa.Text()) if field.is_list else sa.Text()
        return (
            _check_decimal(field),
            None,
            _decimal_from_json,
            lambda column: sa.cast(column, text_array),
        )
    if scalar is ScalarType.DATETIME:
        to_db, from_db, from_json = _pg_datetime(field, _check_datetime(field))
        return to_db, from_db, from_json, None
    if scalar is ScalarType.JSON:
        return _dump_json(field), _json_loads, None, None
    # Bytes: hex inside JSON, decoded as is; a list keeps PostgreSQL's "\\x..." rendering
    json_expr: JsonSql | None = (
        None if field.is_list else (lambda column: sa.func.encode(column, "hex"))
    )
    return _check_bytes(field), None, _bytes_from_hex, json_expr


# -- SQLite (stdlib sqlite3) -----------------------------------------------------------------


def _sqlite_datetime_from_db(raw: Any) -> datetime:
    """Prisma 7 writes ISO text (``2024-01-02T03:04:05.678+00:00``); Prisma 6 wrote integer ms."""
    if type(raw) is str:
        return _datetime_from_iso(raw)
    return _EPOCH + timedelta(milliseconds=raw)


def _sqlite_decimal_from_db(raw: Any) -> Decimal:
    # Stored as REAL (or INTEGER when whole); repr is the shortest text that reads back
    # as the same double, the text Prisma Client shows for it.
    if type(raw) is float:
        return Decimal(repr(raw))
    if type(raw) is int:
        return Decimal(raw)
    return Decimal(raw)


def _sqlite_decimal_from_json(raw: Any) -> Decimal:
    if type(raw) is str:  # a REAL printed with 17 digits by json_sql
        return Decimal(repr(float(raw)))
    return _sqlite_decimal_from_db(raw)


def _sqlite_real_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
    # json_object prints REALs with 15 significant digits; 17 always read back exactly.
    return sa.case(
        (sa.func.typeof(column) == "real", sa.func.printf("%!.17g", column)), else_=column
    )


def _sqlite_json_from_db(raw: Any) -> Any:
    return orjson.loads(raw) if type(raw) is str else raw


def _sqlite_json_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return sa.func.json(
        sa.case((sa.func.typeof(column) == "real", sa.func.printf("%!.17g", column)), else_=column)
    )


def _sqlite_bool_from_db(raw: Any) -> bool:
    return bool(raw == 1 or raw == "true")


def _sqlite_scalar(
    field: Field, schema: Schema
) -> tuple[Convert, Convert | None, Convert | None, JsonSql | None]:
    """(to_db, from_db, from_json, json_expr) of one SQLite column."""
    if field.kind == "enum":
        to_db, from_db = _enum_maps(field, schema)
        return to_db, from_db, from_db, None
    scalar = ScalarType(field.type)
    if scalar is ScalarType.STRING:
        return _check_str(field), None, None, None
    if scalar is ScalarType.BOOLEAN:
        check = _check_bool(field)

        def bool_to_db(value: Any) -> Any:
            return 1 if check(value) else 0

        return bool_to_db, _sqlite_bool_from_db, _sqlite_bool_from_db, None
    if scalar is ScalarType.INT:
        return _check_int(field, _INT_MIN, _INT_MAX, "Int, 32 bits"), None, None, None
    if scalar is ScalarType.BIGINT:
        return _check_int(field, _BIGINT_MIN, _BIGINT_MAX, "BigInt, 64 bits"), None, None, None
    if scalar is ScalarType.FLOAT:
        return _check_float(field), float, float, _sqlite_real_json
    if scalar is ScalarType.DECIMAL:
        to_decimal = _check_decimal(field)

        def decimal_to_db(value: Any) -> Any:
            # Prisma's SQLite adapters bind Decimal as a JavaScript number: a double.
            return float(to_decimal(value))

        return decimal_to_db, _sqlite_decimal_from_db, _sqlite_decimal_from_json, _sqlite_real_json
    if scalar is ScalarType.DATETIME:
        to_utc = _check_datetime(field)

        def datetime_to_db(value: Any) -> Any:
            moment = to_utc(value)
            return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+00:00"

        return datetime_to_db, _sqlite_datetime_from_db, _sqlite_datetime_from_db, None
    if scalar is ScalarType.JSON:
        # Stored as text; json() embeds it in json_object as JSON, not as a string. The
        # JSONB column has NUMERIC affinity: a bare JSON number is stored as INTEGER/REAL.
        return _dump_json(field), _sqlite_json_from_db, None, _sqlite_json_json

    # Bytes: BLOB; json_object cannot hold a BLOB, so hex (NULL stays NULL: hex(NULL) is '').
    def bytes_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return sa.case((column.is_(None), sa.null()), else_=sa.func.hex(column))

    return _check_bytes(field), None, bytes.fromhex, bytes_json


# -- assembly -------------------------------------------------------------------------------


def _with_nulls(field: Field, to_db: Convert) -> Convert:
    """None -> SQL NULL; for Json also ``DbNull`` -> NULL and ``JsonNull`` -> JSON null."""
    if field.type == ScalarType.JSON and field.kind == "scalar":

        def json_to_db(value: Any) -> Any:
            if value is None or value is DbNull:
                return None
            return to_db(value)

        return json_to_db

    def to_db_or_null(value: Any) -> Any:
        return None if value is None else to_db(value)

    return to_db_or_null


def _over_list(field: Field, element: Convert | None, *, encode: bool) -> Convert | None:
    if element is None:
        return None
    if encode:
        # In a Json[] list, None is the JSON value null (as Prisma stores it), not NULL.
        nullable = not (field.kind == "scalar" and field.type == ScalarType.JSON)

        def list_to_db(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise _invalid(field, "a list", value)
            if nullable:
                return [None if item is None else element(item) for item in value]
            return [element(item) for item in value]

        return list_to_db

    def list_from(raw: Any) -> Any:
        return [None if item is None else element(item) for item in raw]

    return list_from


def codec_for(provider: str, field: Field, schema: Schema) -> FieldCodec:
    """The codec of ``field`` (a scalar or enum field, possibly a list) on ``provider``."""
    if field.kind not in ("scalar", "enum"):
        raise ValueError(f"field {field.name} is a {field.kind} field; only scalars have codecs")
    if provider in ("postgresql", "postgres"):
        to_db, from_db, from_json, json_expr = _pg_scalar(field, schema)
    elif provider == "sqlite":
        if field.is_list:
            raise ValueError(f"field {field.name}: SQLite has no scalar lists")
        to_db, from_db, from_json, json_expr = _sqlite_scalar(field, schema)
    else:
        raise ValueError(f"no codecs for the provider {provider!r}")
    if field.is_list:
        list_to_db = _over_list(field, to_db, encode=True)
        assert list_to_db is not None
        return FieldCodec(
            field,
            _with_nulls(field, list_to_db),
            _over_list(field, from_db, encode=False),
            _over_list(field, from_json, encode=False),
            json_expr,
        )
    return FieldCodec(field, _with_nulls(field, to_db), from_db, from_json, json_expr)
