"""Field codecs on real databases: every type written with ``to_db``, stored as Prisma stores it,
read back with ``from_db`` and, through the database's JSON builder with ``json_sql``, ``from_json``."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from datatier.drivers._postgres import set_timestamp_codecs
from datatier.errors import ValidationError
from datatier.migrate._push import push
from datatier.query._codecs import DbNull, FieldCodec, JsonNull, codec_for
from datatier.schema import Schema, validate_schema_text

FIELDS = """
  s    String?
  b    Boolean?
  i    Int?
  bi   BigInt?
  f    Float?
  d    Decimal?
  dt   DateTime?
  j    Json?
  by   Bytes?
  role Role?
"""
PG_EXTRA = """
  tz   DateTime? @db.Timestamptz(3)
  day  DateTime? @db.Date
  tm   DateTime? @db.Time(3)
  uid  String?   @db.Uuid
  jj   Json?     @db.Json
  real Float?    @db.Real
  sl   String[]
  il   Int[]
  bil  BigInt[]
  dl   Decimal[]
  dtl  DateTime[]
  jl   Json[]
  byl  Bytes[]
  rl   Role[]
  bl   Boolean[]
"""


def schema_text(provider: str, extra: str = "") -> str:
    """A model ``Row`` with every field type (and, on PostgreSQL, native types and lists)."""
    return (
        f'datasource db {{\n  provider = "{provider}"\n}}\n'
        'enum Role {\n  ADMIN @map("admin")\n  USER\n}\n'
        f"model Row {{\n  id Int @id\n{FIELDS}{extra}}}\n"
    )


def _schema(provider: str, extra: str = "") -> Schema:
    return validate_schema_text(schema_text(provider, extra))


PG = _schema("postgresql", PG_EXTRA)
SQLITE = _schema("sqlite")

T = datetime(2024, 1, 2, 1, 4, 5, 678000, tzinfo=UTC)
BIG_DECIMAL = Decimal("12345678901234567890123456789012345.123456789012345678901234567891")

# field -> (value written, value read back), shared by both databases
COMMON: dict[str, tuple[Any, Any]] = {
    "s": ("héllo 'x' \u0001", "héllo 'x' \u0001"),
    "b": (True, True),
    "i": (-(2**31), -(2**31)),
    "bi": (2**63 - 1, 2**63 - 1),
    "f": (0.30000000000000004, 0.30000000000000004),
    "dt": (datetime(2024, 1, 2, 3, 4, 5, 678999, tzinfo=timezone(timedelta(hours=2))), T),
    "j": ({"b": 1, "a": [1, 2.5, "x", None, True], "n": 2**63 - 1}, None),
    "by": (b"\x00\x01\xff", b"\x00\x01\xff"),
    "role": ("ADMIN", "ADMIN"),
}
COMMON["j"] = (COMMON["j"][0], COMMON["j"][0])

PG_ROW: dict[str, tuple[Any, Any]] = {
    **COMMON,
    "d": (BIG_DECIMAL, BIG_DECIMAL),
    "tz": ("2024-01-02T03:04:05.678+02:00", T),
    "day": (datetime(2024, 1, 2, 23, 59, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)),
    "tm": (
        datetime(2024, 5, 6, 13, 14, 15, 678900),
        datetime(1970, 1, 1, 13, 14, 15, 678000, tzinfo=UTC),
    ),
    "uid": ("123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000"),
    "jj": ({"b": 1, "a": 2}, {"b": 1, "a": 2}),
    "real": (0.5, 0.5),
    "sl": (["a", "b,c", '"q"', None], ["a", "b,c", '"q"', None]),
    "il": ([1, 2], [1, 2]),
    "bil": ([2**53 + 1, -(2**63)], [2**53 + 1, -(2**63)]),
    "dl": ([Decimal("1.5"), "0.1", 2], [Decimal("1.5"), Decimal("0.1"), Decimal(2)]),
    "dtl": (
        ["2024-01-02T03:04:05.678+02:00", datetime(2000, 1, 1)],
        [T, datetime(2000, 1, 1, tzinfo=UTC)],
    ),
    "jl": ([{"a": 1}, [1], "s", 1, None], [{"a": 1}, [1], "s", 1, None]),
    "byl": ([b"\x01", b""], [b"\x01", b""]),
    "rl": (["ADMIN", "USER"], ["ADMIN", "USER"]),
    "bl": ([True, False], [True, False]),
}
# SQLite stores Decimal as REAL (as Prisma does): a double, read back as its shortest text
SQLITE_ROW: dict[str, tuple[Any, Any]] = {**COMMON, "d": ("1.10", Decimal("1.1"))}


def _codecs(provider: str, schema: Schema) -> dict[str, FieldCodec]:
    model = schema.model("Row")
    return {f.name: codec_for(provider, f, schema) for f in model.fields}


def _json_select(codecs: Mapping[str, FieldCodec], names: list[str], dialect: Any) -> str:
    table = sa.table("Row", *(sa.column(n) for n in ["id", *names]))
    func = sa.func.json_build_object if dialect.name == "postgresql" else sa.func.json_object
    args: list[Any] = []
    for name in names:
        args += [sa.literal(name), codecs[name].json_sql(table.c[name])]
    mark: sa.ColumnElement[Any] = sa.literal_column("$1" if dialect.name == "postgresql" else "?")
    query = sa.select(func(*args)).select_from(table).where(table.c.id == mark)
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _decode(
    codecs: Mapping[str, FieldCodec], names: list[str], values: Any, attr: str
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in zip(names, values, strict=True):
        decode = getattr(codecs[name], attr)
        out[name] = raw if raw is None or decode is None else decode(raw)
    return out


class PgRoundTrip:
    def __init__(self, url: str) -> None:
        push(PG, url)
        self.url = url
        self.codecs = _codecs("postgresql", PG)

    async def _run(
        self, values: Mapping[str, Any], row_id: int
    ) -> tuple[dict[str, Any], dict[str, Any], Any]:
        names = list(values)
        conn = await asyncpg.connect(self.url)
        await set_timestamp_codecs(conn)
        try:
            params = [self.codecs[n].to_db(v) for n, v in values.items()]
            cols = ", ".join(f'"{n}"' for n in ["id", *names])
            marks = ", ".join(f"${i}" for i in range(1, len(names) + 2))
            await conn.execute(f'INSERT INTO "Row" ({cols}) VALUES ({marks})', row_id, *params)
            select = ", ".join(f'"{n}"' for n in names)
            row = await conn.fetchrow(f'SELECT {select} FROM "Row" WHERE id = $1', row_id)
            assert row is not None
            text = await conn.fetchval(
                _json_select(self.codecs, names, postgresql.dialect()),  # type: ignore[no-untyped-call]
                row_id,
            )
            as_text = ", ".join(f'"{n}"::text' for n in names)
            raw_text = await conn.fetchrow(f'SELECT {as_text} FROM "Row" WHERE id = $1', row_id)
            assert raw_text is not None
        finally:
            await conn.close()
        from_db = _decode(self.codecs, names, list(row.values()), "from_db")
        document = orjson.loads(text)
        from_json = _decode(self.codecs, names, [document[n] for n in names], "from_json")
        return from_db, from_json, dict(zip(names, raw_text.values(), strict=True))

    def run(
        self, values: Mapping[str, Any], row_id: int = 1
    ) -> tuple[dict[str, Any], dict[str, Any], Any]:
        return asyncio.run(self._run(values, row_id))


class SqliteRoundTrip:
    def __init__(self, url: str) -> None:
        push(SQLITE, url)
        self.path = url.removeprefix("file:")
        self.codecs = _codecs("sqlite", SQLITE)

    def run(
        self, values: Mapping[str, Any], row_id: int = 1
    ) -> tuple[dict[str, Any], dict[str, Any], Any]:
        names = list(values)
        with sqlite3.connect(self.path) as conn:
            params = [self.codecs[n].to_db(v) for n, v in values.items()]
            cols = ", ".join(f'"{n}"' for n in ["id", *names])
            marks = ", ".join("?" for _ in range(len(names) + 1))
            conn.execute(f'INSERT INTO "Row" ({cols}) VALUES ({marks})', [row_id, *params])
            select = ", ".join(f'"{n}"' for n in names)
            row = conn.execute(f'SELECT {select} FROM "Row" WHERE id = ?', [row_id]).fetchone()
            (text,) = conn.execute(
                _json_select(self.codecs, names, sqlite.dialect()), [row_id]
            ).fetchone()
        from_db = _decode(self.codecs, names, row, "from_db")
        document = orjson.loads(text)
        from_json = _decode(self.codecs, names, [document[n] for n in names], "from_json")
        return from_db, from_json, dict(zip(names, row, strict=True))


@pytest.fixture
def pg(pg_url: str) -> PgRoundTrip:
    return PgRoundTrip(pg_url)


@pytest.fixture
def lite(sqlite_url: str) -> SqliteRoundTrip:
    return SqliteRoundTrip(sqlite_url)


# -- every type, both ways ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PG_ROW))
def test_postgres_round_trip(pg: PgRoundTrip, name: str) -> None:
    written, expected = PG_ROW[name]
    from_db, from_json, _ = pg.run({name: written})
    assert from_db[name] == expected
    assert from_json[name] == expected
    assert type(from_db[name]) is type(expected)
    assert type(from_json[name]) is type(expected)


@pytest.mark.parametrize("name", list(SQLITE_ROW))
def test_sqlite_round_trip(lite: SqliteRoundTrip, name: str) -> None:
    written, expected = SQLITE_ROW[name]
    from_db, from_json, _ = lite.run({name: written})
    assert from_db[name] == expected
    assert from_json[name] == expected
    assert type(from_db[name]) is type(expected)
    assert type(from_json[name]) is type(expected)


def test_postgres_whole_row_in_one_json_object(pg: PgRoundTrip) -> None:
    from_db, from_json, _ = pg.run({n: w for n, (w, _) in PG_ROW.items()})
    expected = {n: e for n, (_, e) in PG_ROW.items()}
    assert from_db == expected
    assert from_json == expected


def test_sqlite_whole_row_in_one_json_object(lite: SqliteRoundTrip) -> None:
    from_db, from_json, _ = lite.run({n: w for n, (w, _) in SQLITE_ROW.items()})
    expected = {n: e for n, (_, e) in SQLITE_ROW.items()}
    assert from_db == expected
    assert from_json == expected


# -- stored exactly as Prisma 7 stores it (docs/storage-formats.md) -------------------------


def test_sqlite_storage_is_prismas(lite: SqliteRoundTrip) -> None:
    values = {n: w for n, (w, _) in SQLITE_ROW.items()}
    _, _, raw = lite.run(values)
    assert raw["dt"] == "2024-01-02T01:04:05.678+00:00"  # ISO text, UTC, ms, +00:00
    assert raw["b"] == 1
    assert raw["d"] == 1.1 and type(raw["d"]) is float  # REAL
    assert raw["bi"] == 2**63 - 1
    assert raw["j"] == '{"b":1,"a":[1,2.5,"x",null,true],"n":9223372036854775807}'
    assert raw["by"] == b"\x00\x01\xff"
    assert raw["role"] == "admin"  # the @map name
    assert raw["f"] == 0.30000000000000004


def test_postgres_storage_is_prismas(pg: PgRoundTrip) -> None:
    values = {n: w for n, (w, _) in PG_ROW.items()}
    _, _, raw = pg.run(values)
    assert raw["dt"] == "2024-01-02 01:04:05.678"  # timestamp(3) without time zone, in UTC
    assert raw["d"] == str(BIG_DECIMAL)
    assert raw["role"] == "admin"
    assert raw["by"] == "\\x0001ff"
    assert raw["j"] == '{"a": [1, 2.5, "x", null, true], "b": 1, "n": 9223372036854775807}'
    assert raw["jj"] == '{"b":1,"a":2}'  # json keeps the text as sent
    assert (
        raw["dl"]
        == "{1.500000000000000000000000000000,0.100000000000000000000000000000,2.000000000000000000000000000000}"
    )
    assert raw["dtl"] == '{"2024-01-02 01:04:05.678","2000-01-01 00:00:00"}'
    assert raw["jl"] == '{"{\\"a\\": 1}",[1],"\\"s\\"",1,"null"}'


# -- edge cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (
            datetime(2024, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
            datetime(2024, 1, 2, 3, 4, 5, 999000, tzinfo=UTC),
        ),
        (datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),  # naive is UTC
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05.5-05:30", datetime(2024, 1, 2, 8, 34, 5, 500000, tzinfo=UTC)),
        (
            datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
            datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        ),
    ],
)
def test_datetimes_are_utc_and_cut_to_milliseconds(
    pg: PgRoundTrip, lite: SqliteRoundTrip, written: Any, expected: datetime
) -> None:
    for trip in (pg, lite):
        from_db, from_json, _ = trip.run({"dt": written})
        assert from_db["dt"] == expected and from_db["dt"].tzinfo is UTC
        assert from_json["dt"] == expected and from_json["dt"].tzinfo is UTC


@pytest.mark.parametrize(
    "stored",
    [
        "2024-01-02T03:04:05.678+00:00",
        "2024-01-02 03:04:05.678",  # CURRENT_TIMESTAMP's layout (with ms)
        "2024-01-02T05:04:05.678+02:00",
        1704164645678,  # integer milliseconds: what Prisma 6's native engine wrote
    ],
)
def test_sqlite_reads_every_datetime_layout_prisma_reads(stored: Any) -> None:
    codec = codec_for("sqlite", SQLITE.model("Row").field("dt"), SQLITE)
    assert codec.from_db is not None
    assert codec.from_db(stored) == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_sqlite_decimal_is_a_double(lite: SqliteRoundTrip) -> None:
    long = Decimal("12345678901234567890.123456789")
    from_db, from_json, raw = lite.run({"d": long})
    assert raw["d"] == float(long)
    assert from_db["d"] == from_json["d"] == Decimal(repr(float(long)))
    from_db, from_json, raw = lite.run({"d": Decimal(5)}, row_id=2)
    assert raw["d"] == 5 and type(raw["d"]) is int  # NUMERIC affinity keeps a whole REAL as INTEGER
    assert from_db["d"] == from_json["d"] == Decimal(5)


def test_postgres_decimal_65_30_keeps_every_digit(pg: PgRoundTrip) -> None:
    tiny = Decimal("0.000000000000000000000000000001")
    from_db, from_json, _ = pg.run({"d": tiny, "dl": [BIG_DECIMAL, -tiny]})
    assert from_db["d"] == from_json["d"] == tiny
    assert from_db["dl"] == from_json["dl"] == [BIG_DECIMAL, -tiny]


def test_bigints_past_2_53(pg: PgRoundTrip, lite: SqliteRoundTrip) -> None:
    for value in (2**53 + 1, -(2**63), 2**63 - 1):
        row_id = 1 + value % 7
        for from_db, from_json, _ in (
            pg.run({"bi": value}, row_id),
            lite.run({"bi": value}, row_id),
        ):
            assert from_db["bi"] == from_json["bi"] == value


def test_empty_bytes_are_not_null(pg: PgRoundTrip, lite: SqliteRoundTrip) -> None:
    for trip in (pg, lite):
        from_db, from_json, _ = trip.run({"by": b"", "s": "x"}, row_id=1)
        assert from_db["by"] == from_json["by"] == b""
        from_db, from_json, _ = trip.run({"by": None, "s": "y"}, row_id=2)
        assert from_db["by"] is None and from_json["by"] is None


def test_json_null_and_db_null(pg: PgRoundTrip, lite: SqliteRoundTrip) -> None:
    for trip in (pg, lite):
        _, from_json, raw = trip.run({"j": JsonNull}, row_id=1)
        assert raw["j"] == "null" and from_json["j"] is None
        _, _, raw = trip.run({"j": DbNull}, row_id=2)
        assert raw["j"] is None
        _, _, raw = trip.run({"j": None}, row_id=3)
        assert raw["j"] is None
        from_db, from_json, _ = trip.run({"j": "a string"}, row_id=4)
        assert from_db["j"] == from_json["j"] == "a string"
        from_db, from_json, _ = trip.run({"j": [2**70]}, row_id=5)  # past orjson's 64 bits
        assert from_db["j"] == from_json["j"] == [2**70]
    # A bare JSON number in SQLite's JSONB column (NUMERIC affinity) is stored as a number.
    from_db, from_json, raw = lite.run({"j": 5}, row_id=6)
    assert raw["j"] == 5 and from_db["j"] == from_json["j"] == 5
    from_db, from_json, raw = lite.run({"j": 2**70}, row_id=7)
    assert raw["j"] == float(2**70) and from_db["j"] == from_json["j"] == float(2**70)
    assert pg.codecs["j"].to_db(float("inf")) == "null"  # as JSON.stringify writes it


def test_enum_uses_the_mapped_name(pg: PgRoundTrip, lite: SqliteRoundTrip) -> None:
    for trip in (pg, lite):
        from_db, from_json, raw = trip.run({"role": "ADMIN"}, row_id=1)
        assert raw["role"] == "admin" and from_db["role"] == from_json["role"] == "ADMIN"
        from_db, from_json, raw = trip.run({"role": "USER"}, row_id=2)
        assert raw["role"] == "USER" and from_db["role"] == from_json["role"] == "USER"


def test_float_keeps_all_17_digits_inside_json(pg: PgRoundTrip, lite: SqliteRoundTrip) -> None:
    for trip in (pg, lite):
        for row_id, value in enumerate((0.1, 1 / 3, 1e300, -2.5e-308, 5.0), start=1):
            from_db, from_json, _ = trip.run({"f": value}, row_id=row_id)
            assert from_db["f"] == from_json["f"] == value


def test_accepted_inputs_are_normalised() -> None:
    pg_codecs = _codecs("postgresql", PG)
    lite_codecs = _codecs("sqlite", SQLITE)
    assert pg_codecs["i"].to_db(3.0) == 3 and type(pg_codecs["i"].to_db(3.0)) is int
    assert pg_codecs["f"].to_db(3) == 3.0 and type(pg_codecs["f"].to_db(3)) is float
    assert pg_codecs["d"].to_db(0.1) == Decimal("0.1")
    assert pg_codecs["d"].to_db("1e-30") == Decimal("1e-30")
    assert pg_codecs["by"].to_db(bytearray(b"ab")) == b"ab"
    assert pg_codecs["by"].to_db(memoryview(b"ab")) == b"ab"
    assert pg_codecs["dt"].to_db(T) == T  # the driver writes it as UTC text
    assert pg_codecs["tz"].to_db(T) == T
    assert pg_codecs["day"].to_db(T) == date(2024, 1, 2)
    assert pg_codecs["j"].to_db({"a": 1}) == '{"a":1}'
    assert lite_codecs["b"].to_db(False) == 0
    assert lite_codecs["d"].to_db(Decimal("2.5")) == 2.5
    assert lite_codecs["dt"].to_db("2024-01-02T03:04:05+02:00") == "2024-01-02T01:04:05.000+00:00"
    for codec in (*pg_codecs.values(), *lite_codecs.values()):
        assert codec.to_db(None) is None


INVALID: list[tuple[str, Any, str]] = [
    ("i", True, "integer"),
    ("i", 1.5, "not a fraction"),
    ("i", 2**31, "fits Int"),
    ("i", "1", "integer"),
    ("bi", 2**63, "fits BigInt"),
    ("bi", False, "integer"),
    ("s", 5, "a string"),
    ("f", "1.5", "a number"),
    ("f", True, "a number"),
    ("d", "abc", "numeric string"),
    ("d", float("nan"), "finite"),
    ("d", True, "Decimal"),
    ("b", 1, "a bool"),
    ("dt", date(2024, 1, 2), "datetime"),
    ("dt", "next tuesday", "ISO-8601"),
    ("dt", 1704164645678, "datetime"),
    ("j", {1, 2}, "JSON value"),
    ("by", "AAE=", "bytes"),
    ("role", "admin", "one of ADMIN, USER"),
    ("role", 1, "one of ADMIN, USER"),
]


@pytest.mark.parametrize("provider", ["postgresql", "sqlite"])
@pytest.mark.parametrize(("name", "value", "message"), INVALID)
def test_invalid_inputs_raise_validation_error(
    provider: str, name: str, value: Any, message: str
) -> None:
    schema = PG if provider == "postgresql" else SQLITE
    codec = codec_for(provider, schema.model("Row").field(name), schema)
    with pytest.raises(ValidationError, match=message) as info:
        codec.to_db(value)
    assert name in info.value.message
    assert info.value.code == "validation_error"


def test_invalid_list_inputs() -> None:
    codecs = _codecs("postgresql", PG)
    with pytest.raises(ValidationError, match="a list"):
        codecs["il"].to_db(5)
    with pytest.raises(ValidationError, match="not a fraction"):
        codecs["il"].to_db([1, 1.5])


def test_relation_fields_have_no_codec(tmp_path: Path) -> None:
    schema = validate_schema_text(
        'datasource db {\n  provider = "sqlite"\n}\n'
        "model A {\n  id Int @id\n  bs B[]\n}\nmodel B {\n  id Int @id\n  a A @relation(fields: [aId], references: [id])\n  aId Int\n}\n"
    )
    with pytest.raises(ValueError, match="only scalars"):
        codec_for("sqlite", schema.model("A").field("bs"), schema)
