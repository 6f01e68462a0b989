"""Change events: with ``engine.record_changes`` every write records one outbox row per row it
created, updated, deleted or linked, in the write's own transaction; without it, nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from datatier import Client
from datatier.errors import DatatierError
from datatier.migrate._push import push
from datatier.query._changes import OUTBOX_TABLE, ensure_outbox, key_text
from tests.harness.backends import Backend

SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id      Int      @id @default(autoincrement())
  email   String   @unique
  name    String?
  profile Profile?
  posts   Post[]
}

model Profile {
  userId Int    @id
  user   User   @relation(fields: [userId], references: [id], onDelete: Cascade)
  bio    String
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String @unique
  views    Int    @default(0)
  authorId Int?
  author   User?  @relation(fields: [authorId], references: [id])
  tags     Tag[]
}

model Tag {
  id    Int    @id @default(autoincrement())
  name  String @unique
  posts Post[]
}

model Setting {
  key   String @unique
  value String
}

model Stamp {
  at   DateTime @id
  note String
}
"""

Event = tuple[str, str, str]


@pytest.fixture
async def db(sql_backend: Backend, tmp_path: Path) -> AsyncIterator[Client]:
    path = tmp_path / "schema.prisma"
    path.write_text(SCHEMA)
    client = Client(path, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        async with client.tx() as tx:
            await ensure_outbox(tx._conn, client.provider)
        client.engine.record_changes = True
        yield client


async def drain(db: Client) -> list[Event]:
    """The events recorded since the last drain, in insertion order (then forgets them)."""
    rows = await db.query_raw(f'SELECT "model", "op", "key" FROM "{OUTBOX_TABLE}" ORDER BY "id"')
    await db.execute_raw(f'DELETE FROM "{OUTBOX_TABLE}"')
    return [(row["model"], row["op"], row["key"]) for row in rows]


def k(*values: Any) -> str:
    return key_text(values)


async def test_create_with_nested_creates(db: Client) -> None:
    user = await db.user.create(
        data={
            "email": "a@x.io",
            "profile": {"create": {"bio": "hi"}},
            "posts": {
                "create": [{"title": "p1"}, {"title": "p2", "tags": {"create": {"name": "t"}}}]
            },
        }
    )
    posts = await db.post.find_many(order_by={"id": "asc"})
    tag = await db.tag.find_unique_or_raise(where={"name": "t"})
    uid, p1, p2 = user["id"], posts[0]["id"], posts[1]["id"]
    assert sorted(await drain(db)) == sorted(
        [
            ("User", "create", k(uid)),
            ("Profile", "create", k(uid)),
            ("Post", "create", k(p1)),
            ("Post", "create", k(p2)),
            ("Tag", "create", k(tag["id"])),
            ("Post", "link", k(p2)),
            ("Tag", "link", k(tag["id"])),
        ]
    )


async def test_create_many_records_the_inserted_rows_only(db: Client) -> None:
    assert await db.tag.create_many(data=[{"name": "a"}, {"name": "b"}]) == 2
    ids = {t["name"]: t["id"] for t in await db.tag.find_many()}
    assert await drain(db) == [("Tag", "create", k(ids["a"])), ("Tag", "create", k(ids["b"]))]
    assert await db.tag.create_many(data=[{"name": "a"}, {"name": "c"}], skip_duplicates=True) == 1
    c = await db.tag.find_unique_or_raise(where={"name": "c"})
    assert await drain(db) == [("Tag", "create", k(c["id"]))]


async def test_update_update_many_delete_delete_many(db: Client) -> None:
    await db.post.create_many(data=[{"title": "a"}, {"title": "b"}, {"title": "c"}])
    ids = {p["title"]: p["id"] for p in await db.post.find_many()}
    await drain(db)
    await db.post.update(where={"title": "a"}, data={"views": {"increment": 1}})
    assert await drain(db) == [("Post", "update", k(ids["a"]))]
    assert await db.post.update_many(where={"title": {"in": ["b", "c"]}}, data={"views": 5}) == 2
    assert sorted(await drain(db)) == [
        ("Post", "update", k(ids["b"])),
        ("Post", "update", k(ids["c"])),
    ]
    assert await db.post.update_many(where={"title": "zzz"}, data={"views": 5}) == 0
    assert await drain(db) == []
    await db.post.delete(where={"title": "a"})
    assert await drain(db) == [("Post", "delete", k(ids["a"]))]
    assert await db.post.delete_many(where={}) == 2
    assert sorted(await drain(db)) == [
        ("Post", "delete", k(ids["b"])),
        ("Post", "delete", k(ids["c"])),
    ]


async def test_an_update_that_changes_the_key_records_old_and_new(db: Client) -> None:
    await db.setting.create(data={"key": "old", "value": "v"})
    assert await drain(db) == [("Setting", "create", k("old"))]
    await db.setting.update(where={"key": "old"}, data={"key": "new"})
    assert sorted(await drain(db)) == [
        ("Setting", "update", k("new")),
        ("Setting", "update", k("old")),
    ]
    await db.setting.update_many(where={}, data={"key": "newer", "value": "w"})
    assert sorted(await drain(db)) == [
        ("Setting", "update", k("new")),
        ("Setting", "update", k("newer")),
    ]


async def test_upsert_records_create_or_update(db: Client) -> None:
    args: dict[str, Any] = {
        "where": {"email": "u@x.io"},
        "create": {"email": "u@x.io"},
        "update": {"name": "n"},
    }
    user = await db.user.upsert(**args)
    assert await drain(db) == [("User", "create", k(user["id"]))]
    await db.user.upsert(**args)
    assert await drain(db) == [("User", "update", k(user["id"]))]


async def test_nested_writes_on_a_to_many_relation(db: Client) -> None:
    user = await db.user.create(data={"email": "a@x.io", "posts": {"create": [{"title": "p1"}]}})
    other = await db.post.create(data={"title": "p2"})
    p1 = (await db.post.find_unique_or_raise(where={"title": "p1"}))["id"]
    p2 = other["id"]
    await drain(db)

    async def nested(posts: dict[str, Any]) -> list[Event]:
        await db.user.update(where={"id": user["id"]}, data={"posts": posts})
        return sorted(await drain(db))

    # User has no @updatedAt: a nested write changes only the related rows, not the parent
    assert await nested({"connect": {"title": "p2"}}) == [("Post", "update", k(p2))]
    assert await nested({"disconnect": {"title": "p2"}}) == [("Post", "update", k(p2))]
    assert await nested({"set": [{"title": "p2"}]}) == [
        ("Post", "update", k(p1)),
        ("Post", "update", k(p2)),
    ]
    assert await nested({"update": {"where": {"title": "p2"}, "data": {"views": 3}}}) == [
        ("Post", "update", k(p2))
    ]
    assert await nested({"updateMany": {"where": {}, "data": {"views": 4}}}) == [
        ("Post", "update", k(p2))
    ]
    assert await nested(
        {"upsert": {"where": {"title": "p2"}, "create": {"title": "p2"}, "update": {"views": 1}}}
    ) == [("Post", "update", k(p2))]
    events = await nested(
        {"upsert": {"where": {"title": "p3"}, "create": {"title": "p3"}, "update": {"views": 1}}}
    )
    p3 = (await db.post.find_unique_or_raise(where={"title": "p3"}))["id"]
    assert events == [("Post", "create", k(p3))]
    events = await nested(
        {"connectOrCreate": {"where": {"title": "p4"}, "create": {"title": "p4"}}}
    )
    p4 = (await db.post.find_unique_or_raise(where={"title": "p4"}))["id"]
    assert events == [("Post", "create", k(p4))]
    assert await nested(
        {"connectOrCreate": {"where": {"title": "p1"}, "create": {"title": "p1"}}}
    ) == [("Post", "update", k(p1))]
    assert await nested({"delete": {"title": "p4"}}) == [("Post", "delete", k(p4))]
    assert await nested({"deleteMany": {"title": {"in": ["p2", "p3"]}}}) == [
        ("Post", "delete", k(p2)),
        ("Post", "delete", k(p3)),
    ]
    assert await nested({"createMany": {"data": [{"title": "p5"}]}}) == [
        ("Post", "create", k((await db.post.find_unique_or_raise(where={"title": "p5"}))["id"]))
    ]


async def test_nested_writes_on_a_to_one_relation_record_the_foreign_key_owner(db: Client) -> None:
    post = await db.post.create(data={"title": "p"})
    await drain(db)
    await db.post.update(where={"id": post["id"]}, data={"author": {"create": {"email": "a@x.io"}}})
    user = await db.user.find_unique_or_raise(where={"email": "a@x.io"})
    assert sorted(await drain(db)) == [
        ("Post", "update", k(post["id"])),
        ("User", "create", k(user["id"])),
    ]
    await db.post.update(where={"id": post["id"]}, data={"author": {"update": {"name": "n"}}})
    assert await drain(db) == [("User", "update", k(user["id"]))]
    await db.post.update(where={"id": post["id"]}, data={"author": {"disconnect": True}})
    assert await drain(db) == [("Post", "update", k(post["id"]))]
    await db.post.update(where={"id": post["id"]}, data={"author": {"connect": {"id": user["id"]}}})
    assert await drain(db) == [("Post", "update", k(post["id"]))]
    await db.post.update(where={"id": post["id"]}, data={"author": {"delete": True}})
    assert sorted(await drain(db)) == [
        ("Post", "update", k(post["id"])),
        ("User", "delete", k(user["id"])),
    ]
    await db.user.create(data={"email": "b@x.io", "profile": {"create": {"bio": "x"}}})
    b = (await db.user.find_unique_or_raise(where={"email": "b@x.io"}))["id"]
    await drain(db)
    await db.user.update(where={"id": b}, data={"profile": {"update": {"bio": "y"}}})
    assert await drain(db) == [("Profile", "update", k(b))]
    await db.user.update(where={"id": b}, data={"profile": {"delete": True}})
    assert await drain(db) == [("Profile", "delete", k(b))]


async def test_many_to_many_links_record_both_sides(db: Client) -> None:
    post = await db.post.create(data={"title": "p"})
    await db.tag.create_many(data=[{"name": "a"}, {"name": "b"}])
    tags = {t["name"]: t["id"] for t in await db.tag.find_many()}
    p, a, b = k(post["id"]), k(tags["a"]), k(tags["b"])
    await drain(db)

    async def tags_(op: dict[str, Any]) -> list[Event]:
        await db.post.update(where={"id": post["id"]}, data={"tags": op})
        return sorted(await drain(db))

    # several links at once: the parent's row once, each tag's row
    assert await tags_({"connect": [{"name": "a"}, {"name": "b"}]}) == sorted(
        [("Post", "link", p), ("Tag", "link", a), ("Tag", "link", b)]
    )
    assert await tags_({"connect": {"name": "a"}}) == []  # already linked: nothing changed
    assert await tags_({"disconnect": {"name": "a"}}) == [("Post", "link", p), ("Tag", "link", a)]
    assert await tags_({"set": [{"name": "a"}]}) == sorted(
        [("Post", "link", p), ("Tag", "link", b), ("Post", "link", p), ("Tag", "link", a)]
    )
    # deleting a linked tag: the join row goes by the database's cascade, not recorded
    await db.tag.delete(where={"name": "a"})
    assert await drain(db) == [("Tag", "delete", a)]


async def test_a_failed_write_records_nothing(db: Client) -> None:
    await db.post.create(data={"title": "taken"})
    await drain(db)
    with pytest.raises(DatatierError):
        await db.user.create(
            data={"email": "a@x.io", "posts": {"create": [{"title": "new"}, {"title": "taken"}]}}
        )
    assert await drain(db) == []
    assert await db.user.count() == 0


async def test_inside_a_transaction_events_roll_back_with_it(db: Client) -> None:
    with pytest.raises(RuntimeError):
        async with db.tx() as tx:
            await tx.tag.create(data={"name": "x"})
            raise RuntimeError("abort")
    assert await drain(db) == []


async def test_off_records_nothing_and_adds_no_statement(db: Client) -> None:
    statements: list[str] = []
    db.on_statement(lambda event: statements.append(event.sql))
    await db.post.create(data={"title": "a"})
    statements.clear()
    await db.post.update(where={"title": "a"}, data={"views": 1})
    on = list(statements)
    assert sum(OUTBOX_TABLE in sql for sql in on) == 1
    await drain(db)
    db.engine.record_changes = False
    statements.clear()
    await db.post.update(where={"title": "a"}, data={"views": 2})
    # The same statements less the outbox INSERT (and, being one statement now, no
    # transaction around it).
    assert _work(statements) == [sql for sql in _work(on) if OUTBOX_TABLE not in sql]
    await db.post.create(data={"title": "b", "tags": {"create": {"name": "t"}}})
    await db.post.delete_many(where={})
    assert not any(OUTBOX_TABLE in sql for sql in statements)
    assert await drain(db) == []


async def test_key_text_of_a_record_read_back_equals_its_event_key(db: Client) -> None:
    at = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    await db.stamp.create(data={"at": at, "note": "n"})
    (event,) = await drain(db)
    record = await db.stamp.find_unique_or_raise(where={"at": at})
    assert event == ("Stamp", "create", key_text([record["at"]]))
    await db.stamp.update(where={"at": at}, data={"note": "m"})
    assert await drain(db) == [("Stamp", "update", event[2])]


def _work(statements: list[str]) -> list[str]:
    """``statements`` without transaction control."""
    return [sql for sql in statements if not sql.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
