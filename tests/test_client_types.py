"""Every field type through the client, written and read back, filtered and ordered, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio

from datatier import Client
from datatier.errors import ValidationError
from datatier.migrate._push import push
from tests.harness.backends import Backend

PORTABLE = """
datasource db {
  provider = "sqlite"
}

enum Size {
  SMALL
  LARGE @map("large")
}

model Item {
  id      Int      @id @default(autoincrement())
  name    String
  flag    Boolean  @default(false)
  count   Int      @default(0)
  big     BigInt?
  ratio   Float?
  price   Decimal?
  at      DateTime?
  data    Json?
  blob    Bytes?
  size    Size     @default(SMALL)
}
"""

LISTS = """
datasource db {
  provider = "postgresql"
}

model Bag {
  id     Int        @id @default(autoincrement())
  tags   String[]
  counts Int[]      @default([])
  times  DateTime[]
  prices Decimal[]
}
"""


@pytest_asyncio.fixture
async def db(sql_backend: Backend, tmp_path: Path) -> AsyncIterator[Client]:
    path = tmp_path / "schema.prisma"
    path.write_text(PORTABLE)
    client = Client(path, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        yield client


async def test_round_trip_every_type(db: Client) -> None:
    at = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=2)))
    created = await db.item.create(
        data={
            "name": "thing",
            "flag": True,
            "count": 7,
            "big": 2**62 + 1,
            "ratio": 0.1,
            "price": Decimal("12.345"),
            "at": at,
            "data": {"a": [1, 2, {"b": None}], "s": "x"},
            "blob": b"\x00\x01\xff",
            "size": "LARGE",
        }
    )
    read = await db.item.find_unique_or_raise(where={"id": created["id"]})
    assert read == created
    assert read["flag"] is True and read["count"] == 7 and read["big"] == 2**62 + 1
    assert read["ratio"] == 0.1 and read["price"] == Decimal("12.345")
    assert read["at"] == datetime(
        2024, 5, 6, 5, 8, 9, 123000, tzinfo=UTC
    )  # UTC, milliseconds, as Prisma
    assert read["data"] == {"a": [1, 2, {"b": None}], "s": "x"} and read["blob"] == b"\x00\x01\xff"
    assert read["size"] == "LARGE"
    nested = await db.item.find_many(
        select={"price": True, "at": True, "blob": True, "big": True, "data": True}
    )
    assert nested == [{k: read[k] for k in ("price", "at", "blob", "big", "data")}]
    # raw SQL read as the model's records decodes every type as a read does
    raw = await db.item.query_raw('SELECT * FROM "Item" WHERE "id" = $1', created["id"])
    assert raw == [read]
    extra = await db.item.query_raw('SELECT "at", 1 AS "one" FROM "Item"')
    assert extra == [{"at": read["at"], "one": 1}]


async def test_filters_on_types(db: Client) -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(5):
        await db.item.create(
            data={
                "name": f"n{i}",
                "price": Decimal(i) / 4,
                "at": base + timedelta(days=i),
                "big": i * 10**12,
                "size": "LARGE" if i % 2 else "SMALL",
            }
        )

    async def names(**args: object) -> list[str]:
        args.setdefault("order_by", {"id": "asc"})
        return [r["name"] for r in await db.item.find_many(select={"name": True}, **args)]

    assert await names(where={"price": {"gte": Decimal("0.5")}}) == ["n2", "n3", "n4"]
    assert await names(where={"at": {"lt": base + timedelta(days=2)}}) == ["n0", "n1"]
    assert await names(where={"at": {"gt": "2024-01-03T00:00:00Z"}}) == ["n3", "n4"]
    assert await names(where={"big": {"in": [10**12, 4 * 10**12]}}) == ["n1", "n4"]
    assert await names(where={"size": "LARGE"}) == ["n1", "n3"]
    assert await names(order_by={"at": "desc"}, take=2) == ["n4", "n3"]
    with pytest.raises(ValidationError, match=r"where\.count"):
        await db.item.find_many(where={"count": {"gt": 1.5}})


@pytest.mark.requires("scalar_lists")
async def test_scalar_lists(sql_backend: Backend, tmp_path: Path) -> None:
    path = tmp_path / "schema.prisma"
    path.write_text(LISTS)
    async with Client(path, sql_backend.url) as db:
        push(db.schema, sql_backend.url)
        first = await db.bag.create(
            data={
                "tags": ["a", "b"],
                "times": [datetime(2024, 1, 1, tzinfo=UTC)],
                "prices": [Decimal("1.5")],
            }
        )
        assert first["tags"] == ["a", "b"] and first["counts"] == []
        assert first["prices"] == [Decimal("1.5")] and first["times"] == [
            datetime(2024, 1, 1, tzinfo=UTC)
        ]
        second = await db.bag.create(data={})
        assert second["tags"] == [] and second["times"] == []  # a NULL list reads as []

        async def ids(where: dict[str, object]) -> list[int]:
            return [r["id"] for r in await db.bag.find_many(where=where, order_by={"id": "asc"})]

        assert await ids({"tags": {"has": "a"}}) == [first["id"]]
        assert await ids({"tags": {"hasSome": ["z", "b"]}}) == [first["id"]]
        assert await ids({"tags": {"hasEvery": ["a", "b"]}}) == [first["id"]]
        assert await ids({"tags": {"hasEvery": ["a", "z"]}}) == []
        assert await ids({"counts": {"isEmpty": True}}) == [first["id"], second["id"]]
        updated = await db.bag.update(where={"id": first["id"]}, data={"tags": {"set": ["c"]}})
        assert updated["tags"] == ["c"]
        pushed = await db.bag.update(
            where={"id": first["id"]}, data={"tags": {"push": "d"}, "counts": {"push": [5, 6]}}
        )
        assert pushed["tags"] == ["c", "d"] and pushed["counts"] == [5, 6]
        onto_null = await db.bag.update(  # second's times is NULL in the database
            where={"id": second["id"]}, data={"times": {"push": datetime(2025, 1, 1, tzinfo=UTC)}}
        )
        assert onto_null["times"] == [datetime(2025, 1, 1, tzinfo=UTC)]
        many = await db.bag.update_many(where={}, data={"tags": {"push": ["x"]}})
        assert many == 2
        assert [r["tags"] for r in await db.bag.find_many(order_by={"id": "asc"})] == [
            ["c", "d", "x"],
            ["x"],
        ]
        with pytest.raises(ValidationError, match=r"data\.tags\.increment"):
            await db.bag.update(where={"id": first["id"]}, data={"tags": {"increment": 1}})
        with pytest.raises(ValidationError, match=r"data\.tags\.push"):
            await db.bag.update(where={"id": first["id"]}, data={"tags": {"push": None}})


async def test_json_filters(db: Client) -> None:
    docs = [
        {"kind": "a", "n": 5, "tags": ["x", "y"], "meta": {"owner": "ann"}},
        {"kind": "b", "n": 15, "tags": ["y"], "meta": {"owner": "bob"}},
        [1, 2, 3],
        "plain text",
    ]
    for i, doc in enumerate(docs):
        await db.item.create(data={"name": f"j{i}", "data": doc})
    await db.item.create(data={"name": "none"})

    def at(*keys: str) -> object:
        # Prisma's path: a list of keys on PostgreSQL, a JSON path string on SQLite
        return list(keys) if db.provider == "postgresql" else "$." + ".".join(keys)

    async def names(where: dict[str, object]) -> list[str]:
        rows = await db.item.find_many(
            where={"data": where}, select={"name": True}, order_by={"id": "asc"}
        )
        return [r["name"] for r in rows]

    assert await names({"equals": [1, 2, 3]}) == ["j2"]
    assert await names({"path": at("kind"), "equals": "a"}) == ["j0"]
    assert await names({"path": at("meta", "owner"), "equals": "bob"}) == ["j1"]
    if (
        db.provider == "postgresql"
    ):  # SQLite has no Json ranges or array_contains (nor does Prisma there)
        assert await names({"path": at("n"), "gt": 10}) == ["j1"]
        assert await names({"path": at("n"), "lte": 5}) == ["j0"]
        assert await names({"path": at("tags"), "array_contains": ["y"]}) == ["j0", "j1"]
        assert await names({"path": at("tags"), "array_contains": ["x", "y"]}) == ["j0"]
    else:
        with pytest.raises(ValidationError, match="not available"):
            await names({"path": at("n"), "gt": 10})
    assert await names({"path": at("meta", "owner"), "string_starts_with": "an"}) == ["j0"]
    assert await names({"path": at("kind"), "string_contains": "b"}) == ["j1"]
    # mode: 'insensitive' on string tests (SQLite's LIKE ignores ASCII case anyway)
    owner = at("meta", "owner")
    assert await names({"path": owner, "string_ends_with": "OB", "mode": "insensitive"}) == ["j1"]
    ends_upper = await names({"path": owner, "string_ends_with": "OB"})
    assert ends_upper == ([] if db.provider == "postgresql" else ["j1"])
    if db.provider == "postgresql":
        assert await names({"path": owner, "equals": "ANN", "mode": "insensitive"}) == ["j0"]
        # `not` keeps documents without the path, case-insensitive or not
        not_ann = await names({"path": owner, "not": "ANN", "mode": "insensitive"})
        assert not_ann == await names({"path": owner, "not": "ann"}) == ["j1", "j2", "j3", "none"]
    else:  # Prisma's client has no SQL for this on SQLite either
        with pytest.raises(ValidationError, match=r"insensitive.*not available") as error:
            await names({"path": owner, "equals": "ANN", "mode": "insensitive"})
        assert error.value.path == ("where", "data", "mode")
    with pytest.raises(ValidationError, match="'default' or 'insensitive'"):
        await names({"path": owner, "string_contains": "a", "mode": "loose"})
    assert await names({"array_starts_with": 1}) == ["j2"]
    assert await names({"array_ends_with": 3}) == ["j2"]
    assert await names({"path": at("tags"), "array_ends_with": "y"}) == ["j0", "j1"]
    assert await names({"equals": None}) == ["none"]
    with pytest.raises(ValidationError, match=r"where\.data\.path"):
        await names({"path": "kind" if db.provider == "postgresql" else ["kind"], "equals": "a"})
