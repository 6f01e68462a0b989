"""Models keyed only by ``@unique``/``@@unique`` (no ``@id``): every write finds its records
again by that key, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from datatier import Client
from datatier.errors import UniqueViolation
from datatier.migrate._push import push
from tests.harness.backends import Backend

SCHEMA = """
datasource db {
  provider = "sqlite"
}

model Account {
  email    String    @unique
  nickname String?   @unique
  name     String
  visits   Int       @default(0)
  notes    Note[]
}

model Note {
  account String
  slot    Int
  text    String
  owner   Account @relation(fields: [account], references: [email], onDelete: Cascade)

  @@unique([account, slot])
}
"""


@pytest_asyncio.fixture
async def db(sql_backend: Backend, tmp_path: Path) -> AsyncIterator[Client]:
    path = tmp_path / "schema.prisma"
    path.write_text(SCHEMA)
    client = Client(path, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        yield client


async def test_writes_to_models_keyed_by_unique(db: Client) -> None:
    ann = await db.account.create(
        data={
            "email": "ann@x.io",
            "name": "Ann",
            "notes": {"create": [{"slot": 1, "text": "one"}, {"slot": 2, "text": "two"}]},
        },
        include={"notes": {"orderBy": {"slot": "asc"}}},
    )
    assert [n["text"] for n in ann["notes"]] == ["one", "two"]
    assert ann["nickname"] is None and ann["visits"] == 0

    bumped = await db.account.update(
        where={"email": "ann@x.io"}, data={"visits": {"increment": 2}, "nickname": "annie"}
    )
    assert bumped == {"email": "ann@x.io", "nickname": "annie", "name": "Ann", "visits": 2}
    # the key itself can change: the record is found again under its new value
    moved = await db.account.update(where={"nickname": "annie"}, data={"email": "ann@y.io"})
    assert moved["email"] == "ann@y.io"
    # the notes follow: a relation's onUpdate defaults to Cascade
    assert await db.note.count(where={"account": "ann@y.io"}) == 2

    note = await db.note.update(
        where={"account_slot": {"account": "ann@y.io", "slot": 1}}, data={"text": "uno"}
    )
    assert note["text"] == "uno"

    upserted = await db.account.upsert(
        where={"email": "bob@x.io"},
        create={"email": "bob@x.io", "name": "Bob"},
        update={"name": "never"},
    )
    assert upserted["name"] == "Bob"
    again = await db.account.upsert(
        where={"email": "bob@x.io"},
        create={"email": "bob@x.io", "name": "never"},
        update={"name": "Robert"},
    )
    assert again["name"] == "Robert"

    assert await db.account.update_many(where={"visits": 0}, data={"visits": 5}) == 1
    with pytest.raises(UniqueViolation) as error:
        await db.account.create(data={"email": "bob@x.io", "name": "twin"})
    assert error.value.fields == ("email",)

    removed = await db.account.delete(where={"email": "bob@x.io"})
    assert removed["name"] == "Robert" and removed["visits"] == 5
    assert await db.note.delete_many(where={"slot": 2}) == 1
    left = await db.note.find_many()
    assert [(n["account"], n["slot"], n["text"]) for n in left] == [("ann@y.io", 1, "uno")]

    # a key change and a relation write in one update: the relation write finds the record
    # under its new key
    renamed = await db.account.update(
        where={"email": "ann@y.io"},
        data={"email": "ann@z.io", "notes": {"create": {"slot": 3, "text": "three"}}},
        include={"notes": {"orderBy": {"slot": "asc"}}},
    )
    assert renamed["email"] == "ann@z.io"
    assert [(n["account"], n["slot"]) for n in renamed["notes"]] == [
        ("ann@z.io", 1),
        ("ann@z.io", 3),
    ]
