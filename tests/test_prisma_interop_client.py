"""Prisma Client 7 and datatier's client share one database: rows written through either
client read back identically through the other, every field type, nested includes too.

Each test makes one batch of calls through Prisma Client (tools/prisma-client/ops.mjs, one
Node process: about 2 s) between datatier's writes and datatier's reads. Needs Node.js and
npm; without them the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from datatier import Client
from datatier.migrate._push import push
from datatier.schema import Schema
from tests.differential.prisma import prisma_schema_text, require_prisma, run_prisma
from tests.differential.values import from_prisma, to_prisma
from tests.harness.backends import Backend

SCHEMA = """
datasource db {
  provider = "sqlite"
}

enum Size {
  SMALL  @map("small")
  MEDIUM
  LARGE  @map("x-large")
}

model Owner {
  id     Int     @id
  name   String
  things Thing[]
}

model Thing {
  id      Int       @id
  label   String
  flag    Boolean
  count   Int
  big     BigInt
  ratio   Float
  price   Decimal
  at      DateTime
  data    Json
  blob    Bytes
  size    Size
  oLabel  String?   @map("o_label")
  oFlag   Boolean?
  oCount  Int?
  oBig    BigInt?
  oRatio  Float?
  oPrice  Decimal?
  oAt     DateTime?
  oData   Json?
  oBlob   Bytes?
  oSize   Size?
  ownerId Int?
  owner   Owner?    @relation(fields: [ownerId], references: [id])
  parts   Part[]

  @@map("things")
}

model Part {
  id      Int       @id
  thingId Int
  thing   Thing     @relation(fields: [thingId], references: [id], onDelete: Cascade)
  name    String
  weight  Decimal?
  madeAt  DateTime?
  tag     Size?
}
"""

LISTS = """
datasource db {
  provider = "postgresql"
}

enum Size {
  SMALL  @map("small")
  LARGE
}

model Bag {
  id     Int        @id
  texts  String[]
  flags  Boolean[]
  ints   Int[]
  bigs   BigInt[]
  floats Float[]
  decs   Decimal[]
  times  DateTime[]
  jsons  Json[]
  blobs  Bytes[]
  sizes  Size[]
}
"""

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
T1 = datetime(1969, 7, 20, 20, 17, 40, tzinfo=UTC)
JSON_DOC = {"b": 1, "a": [1, 2.5, "x", None, True], "o": {"k": "é</", "n": {"deep": []}}}


def thing_rows(provider: str) -> list[dict[str, Any]]:
    """Three rows of every type (the third with every optional field left out), as written."""
    price = (
        Decimal("12345678901234567890.123456789012345678901234567891")
        if provider == "postgresql"  # decimal(65,30); SQLite keeps a double's precision
        else Decimal("1234.5")
    )
    first = {
        "label": "héllo 'x' \"q\" ✓ \u0001",
        "flag": True,
        "count": -(2**31),
        "big": 2**63 - 1,
        "ratio": 0.1 + 0.2,
        "price": price,
        "at": T0,
        "data": JSON_DOC,
        "blob": b"\x00\x01\xfe\xff",
        "size": "LARGE",
    }
    second = {
        "label": "",
        "flag": False,
        "count": 2**31 - 1,
        "big": -(2**63),
        "ratio": -2.5e-300,
        "price": Decimal("-0.001"),
        "at": T1,
        "data": [1, "two", {"3": 3.5}],
        "blob": b"",
        "size": "SMALL",
    }
    optional = {f"o{name[0].upper()}{name[1:]}": value for name, value in first.items()}
    optional["oData"] = "just a string"
    optional["oSize"] = "MEDIUM"
    third = {**second, "label": "no optionals", "size": "MEDIUM", "data": {}}
    return [{**first, **optional}, {**second, **optional, "oRatio": 1e300}, third]


def utc_ms(value: datetime) -> datetime:
    """``value`` as Prisma reads it back: in UTC, cut to milliseconds (a JS Date)."""
    return value.astimezone(UTC).replace(microsecond=value.microsecond // 1000 * 1000)


def expected(row: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """What reading ``row`` gives: DateTime in UTC cut to milliseconds, omitted fields null."""
    out: dict[str, Any] = {}
    for field in schema.model("Thing").fields:
        if field.is_relation or field.name in ("id", "ownerId"):
            continue
        value = row.get(field.name)
        out[field.name] = utc_ms(value) if isinstance(value, datetime) else value
    return out


def write_schema(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schema.prisma"
    path.write_text(text)
    return path


async def test_rows_written_by_either_client_read_alike_through_the_other(
    sql_backend: Backend, tmp_path: Path
) -> None:
    require_prisma()
    provider, url = sql_backend.provider, sql_backend.url
    async with Client(write_schema(tmp_path, SCHEMA), url) as db:
        schema = db.schema
        push(schema, url)
        thing = schema.model("Thing")
        rows = thing_rows(provider)
        want = [expected(r, schema) for r in rows]
        # datatier writes ids 1..3; Prisma writes the same values as ids 11..13.
        made_by_datatier = [
            await db.thing.create(data={"id": i, **row}) for i, row in enumerate(rows, 1)
        ]
        calls: list[dict[str, Any]] = [
            {"model": "thing", "op": "create", "args": {"data": {"id": i, **to_prisma(thing, row)}}}
            for i, row in enumerate(rows, 11)
        ]
        calls.append({"model": "thing", "op": "findMany", "args": {"orderBy": {"id": "asc"}}})
        # Both rows of a value match an equality filter on every field, whoever wrote them.
        filters = [
            {name: to_prisma(thing, {name: value})[name]}
            for name, value in rows[0].items()
            if name not in ("data", "oData")
        ]
        calls += [{"model": "thing", "op": "count", "args": {"where": f}} for f in filters]
        outcomes = [
            o.value()
            for o in run_prisma(prisma_schema_text(SCHEMA, provider), url, calls, tmp_path)
        ]
        made_by_prisma = from_prisma(schema, "Thing", outcomes[:3])
        read_by_prisma = from_prisma(schema, "Thing", outcomes[3])
        read_by_datatier = await db.thing.find_many(order_by={"id": "asc"})
        datatier_counts = [await db.thing.count(where={n: rows[0][n]}) for f in filters for n in f]

    def body(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if k not in ("id", "ownerId")}

    assert [r["id"] for r in read_by_prisma] == [1, 2, 3, 11, 12, 13]
    assert [r["id"] for r in read_by_datatier] == [1, 2, 3, 11, 12, 13]
    for i, want_row in enumerate(want):
        for name, value in want_row.items():
            where = f"row {i + 1}, field {name}"
            assert made_by_datatier[i][name] == value, where
            assert made_by_prisma[i][name] == value, where
            assert read_by_prisma[i][name] == value, f"Prisma reading datatier's {where}"
            assert read_by_datatier[i + 3][name] == value, f"datatier reading Prisma's {where}"
            assert read_by_datatier[i][name] == value, where
            assert read_by_prisma[i + 3][name] == value, where
        assert body(read_by_prisma[i]) == body(read_by_datatier[i + 3]) == want_row
    # Each value is in as many datatier rows as Prisma rows.
    want_counts = [2 * sum(r.get(n) == rows[0][n] for r in rows) for f in filters for n in f]
    assert outcomes[4:] == want_counts
    assert datatier_counts == want_counts


def owner_tree(first_id: int) -> dict[str, Any]:
    """An owner with two things with parts (one thing without), ids from ``first_id``."""
    i = first_id
    base = thing_rows("sqlite")[2]
    return {
        "id": i,
        "name": f"owner {i}",
        "things": {
            "create": [
                {
                    **base,
                    "id": i + n,
                    "label": f"thing {n}",
                    "count": 10 - n,
                    "parts": {
                        "create": [
                            {
                                "id": i + 10 * n + p,
                                "name": f"part {p}",
                                "weight": Decimal(p) / 4,
                                "madeAt": T0 if p else None,
                                "tag": "SMALL" if p % 2 else None,
                            }
                            for p in range(n)
                        ]
                    },
                }
                for n in range(3)
            ]
        },
    }


def prisma_tree(schema: Schema, tree: dict[str, Any]) -> dict[str, Any]:
    """``owner_tree`` as Prisma input (tagged values, nested creates kept)."""
    things = []
    for thing in tree["things"]["create"]:
        parts = [to_prisma(schema.model("Part"), p) for p in thing["parts"]["create"]]
        flat = {k: v for k, v in thing.items() if k != "parts"}
        things.append({**to_prisma(schema.model("Thing"), flat), "parts": {"create": parts}})
    return {"id": tree["id"], "name": tree["name"], "things": {"create": things}}


INCLUDE: dict[str, Any] = {
    "things": {
        "where": {"count": {"lte": 9}},
        "orderBy": {"count": "asc"},
        "select": {
            "id": True,
            "label": True,
            "at": True,
            "blob": True,
            "big": True,
            "price": True,
            "size": True,
            "owner": {"select": {"name": True}},
            "parts": {"orderBy": {"id": "desc"}, "include": {"thing": {"select": {"id": True}}}},
            "_count": {"select": {"parts": True}},
        },
    },
    "_count": True,
}


async def test_nested_include_reads_alike_both_ways(sql_backend: Backend, tmp_path: Path) -> None:
    require_prisma()
    provider, url = sql_backend.provider, sql_backend.url
    async with Client(write_schema(tmp_path, SCHEMA), url) as db:
        schema = db.schema
        push(schema, url)
        await db.owner.create(data=owner_tree(100))  # written by datatier
        calls: list[dict[str, Any]] = [
            {
                "model": "owner",
                "op": "create",
                "args": {"data": prisma_tree(schema, owner_tree(200))},
            }
        ]
        reads = [{"where": {"id": i}, "include": INCLUDE} for i in (100, 200)]
        calls += [{"model": "owner", "op": "findUnique", "args": r} for r in reads]
        calls.append(
            {
                "model": "part",
                "op": "findMany",
                "args": {
                    "orderBy": {"id": "asc"},
                    "include": {"thing": {"include": {"owner": True}}},
                },
            }
        )
        outcomes = [
            o.value()
            for o in run_prisma(prisma_schema_text(SCHEMA, provider), url, calls, tmp_path)
        ]
        by_prisma = from_prisma(schema, "Owner", outcomes[1:3])
        parts_by_prisma = from_prisma(schema, "Part", outcomes[3])
        by_datatier = [await db.owner.find_unique_or_raise(**r) for r in reads]
        parts_by_datatier = await db.part.find_many(
            order_by={"id": "asc"}, include={"thing": {"include": {"owner": True}}}
        )

    assert by_prisma == by_datatier
    assert parts_by_prisma == parts_by_datatier
    # The two trees differ only in their ids and names.
    prisma_tree_read = by_prisma[1]
    assert prisma_tree_read["_count"] == {"things": 3}
    assert [t["_count"] for t in prisma_tree_read["things"]] == [{"parts": 2}, {"parts": 1}]
    assert [len(t["parts"]) for t in by_datatier[0]["things"]] == [2, 1]
    assert by_datatier[0]["things"][0]["parts"][0]["weight"] == Decimal("0.25")
    assert by_datatier[0]["things"][0]["parts"][0]["madeAt"] == datetime(
        2024, 5, 6, 5, 8, 9, 123000, tzinfo=UTC
    )


@pytest.mark.requires("scalar_lists")
async def test_scalar_lists_read_alike_both_ways(sql_backend: Backend, tmp_path: Path) -> None:
    require_prisma()
    url = sql_backend.url
    bag: dict[str, list[Any]] = {
        "texts": ["a", "b,c", '"q"', "", "NULL", "{x}"],
        "flags": [True, False],
        "ints": [-(2**31), 0, 2**31 - 1],
        "bigs": [2**63 - 1, -(2**63)],
        # Not 0.1 + 0.2: Prisma itself writes a Float[] element with 16 significant digits
        # (0.30000000000000004 is stored as 0.3), while a plain Float keeps all 17.
        "floats": [1 / 3, -1e300, 0.0, 5e-324],
        "decs": [
            Decimal("1.5"),
            Decimal("-0.000000000000000000000000000001"),
            Decimal("12345678901234567890"),
        ],
        "times": [T0, T1],
        "jsons": [JSON_DOC, [1, 2], "s", 5],
        "blobs": [b"\x00\xff", b""],
        "sizes": ["SMALL", "LARGE", "SMALL"],
    }
    async with Client(write_schema(tmp_path, LISTS), url) as db:
        schema = db.schema
        push(schema, url)
        model = schema.model("Bag")
        await db.bag.create(data={"id": 1, **bag})
        await db.bag.create(data={"id": 2})  # every list left out: read as []
        calls: list[dict[str, Any]] = [
            {"model": "bag", "op": "create", "args": {"data": {"id": 11, **to_prisma(model, bag)}}},
            {"model": "bag", "op": "create", "args": {"data": {"id": 12}}},
            {"model": "bag", "op": "findMany", "args": {"orderBy": {"id": "asc"}}},
        ]
        outcomes = [o.value() for o in run_prisma(LISTS, url, calls, tmp_path)]
        read_by_prisma = from_prisma(schema, "Bag", outcomes[2])
        read_by_datatier = await db.bag.find_many(order_by={"id": "asc"})

    want = {**bag, "times": [utc_ms(t) for t in bag["times"]]}
    empty: dict[str, list[Any]] = {name: [] for name in bag}
    assert (
        [r["id"] for r in read_by_prisma] == [r["id"] for r in read_by_datatier] == [1, 2, 11, 12]
    )
    for name in bag:
        assert read_by_prisma[0][name] == want[name], f"Prisma reading datatier's {name}"
        assert read_by_datatier[2][name] == want[name], f"datatier reading Prisma's {name}"
        assert read_by_prisma[2][name] == read_by_datatier[0][name] == want[name], name
    for i in (1, 3):
        assert {k: read_by_prisma[i][k] for k in bag} == empty
        assert {k: read_by_datatier[i][k] for k in bag} == empty
