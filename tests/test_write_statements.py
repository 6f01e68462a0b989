"""Statements per write call, counted by the database itself (``pg_stat_statements`` on
PostgreSQL, SQLite's trace hook), transaction control excluded: a plain write is one
statement, and nested creates through one relation insert their rows together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from datatier import Client
from datatier.errors import NotFound, UniqueViolation, ValidationError
from datatier.migrate._push import push
from datatier.query._changes import ensure_outbox
from tests.harness.backends import Backend
from tests.harness.golden import REPO
from tests.harness.statements import SESSION_COMMANDS, StatementCounter, leading_keyword

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"
Counters = Callable[[str], StatementCounter]
Write = Callable[[Client, dict[str, Any]], Awaitable[Any]]

# Each write kind, run against seeded rows (``ids``: the seed's keys), and its statements.
WRITES: list[tuple[str, int, Write]] = [
    (
        "create",
        1,
        lambda db, ids: db.tag.create(data={"name": f"n{ids['n']}", "slug": f"s{ids['n']}"}),
    ),
    (
        "create_select_scalars",
        1,
        lambda db, ids: db.tag.create(
            data={"name": f"n{ids['n']}", "slug": f"s{ids['n']}"}, select={"id": True}
        ),
    ),
    (
        "create_include",
        2,
        lambda db, ids: db.tag.create(
            data={"name": f"n{ids['n']}", "slug": f"s{ids['n']}"}, include={"posts": True}
        ),
    ),
    (
        # a post with 3 new tags (m:n) and 2 comments, each connecting its author: the
        # post's author and the comments' (shared) author are looked up (2), then post, tags,
        # join rows and comments are inserted (4)
        "create_post_nested",
        6,
        lambda db, ids: db.post.create(
            data={
                "title": "t",
                "content": "c",
                "author": {"connect": {"id": ids["user"]}},
                "tags": {
                    "create": [
                        {"name": f"n{ids['n']}-{i}", "slug": f"s{ids['n']}-{i}"} for i in range(3)
                    ]
                },
                "comments": {
                    "create": [
                        {"content": f"c{i}", "author": {"connect": {"id": ids["user"]}}}
                        for i in range(2)
                    ]
                },
            }
        ),
    ),
    (
        # the same with 3 existing tags connected: one lookup of the tags, one INSERT of links
        "create_post_connect",
        6,
        lambda db, ids: db.post.create(
            data={
                "title": "t",
                "content": "c",
                "author": {"connect": {"id": ids["user"]}},
                "tags": {"connect": [{"slug": f"d{i}"} for i in range(3)]},
                "comments": {
                    "create": [
                        {"content": f"c{i}", "author": {"connect": {"id": ids["user"]}}}
                        for i in range(2)
                    ]
                },
            }
        ),
    ),
    (
        "create_many",
        1,
        lambda db, ids: db.tag.create_many(
            data=[{"name": f"m{ids['n']}-{i}", "slug": f"m{ids['n']}-{i}"} for i in range(10)]
        ),
    ),
    ("update", 1, lambda db, ids: db.post.update(where={"id": ids["post"]}, data={"title": "u"})),
    (
        "update_increment",
        1,
        lambda db, ids: db.post.update(where={"id": ids["post"]}, data={"views": {"increment": 1}}),
    ),
    (
        "update_include",
        2,
        lambda db, ids: db.post.update(
            where={"id": ids["post"]}, data={"title": "u"}, include={"tags": True}
        ),
    ),
    (
        "update_nested",
        2,
        lambda db, ids: db.post.update(
            where={"id": ids["post"]},
            data={"comments": {"updateMany": {"where": {}, "data": {"content": "x"}}}},
        ),
    ),
    (
        "update_many",
        1,
        lambda db, ids: db.post.update_many(where={"authorId": ids["user"]}, data={"views": 0}),
    ),
    (
        "upsert_update",
        1,
        lambda db, ids: db.tag.upsert(
            where={"slug": "t0"}, create={"name": "t0", "slug": "t0"}, update={"name": "t0"}
        ),
    ),
    (
        "upsert_create",
        2,
        lambda db, ids: db.tag.upsert(
            where={"slug": f"up{ids['n']}"},
            create={"name": f"up{ids['n']}", "slug": f"up{ids['n']}"},
            update={},
        ),
    ),
    (
        # where on one unique field, create sets it, update changes something: one
        # INSERT ... ON CONFLICT DO UPDATE, as Prisma's native upsert
        "upsert_create_native",
        1,
        lambda db, ids: db.tag.upsert(
            where={"slug": f"un{ids['n']}"},
            create={"name": f"un{ids['n']}", "slug": f"un{ids['n']}"},
            update={"name": "x"},
        ),
    ),
    ("delete", 1, lambda db, ids: db.tag.delete(where={"slug": ids["tags"].pop(0)})),
    (
        "delete_include",
        2,
        lambda db, ids: db.comment.delete(
            where={"id": ids["comments"].pop()}, include={"post": True}
        ),
    ),
    (
        "delete_many",
        1,
        lambda db, ids: db.tag.delete_many(where={"slug": {"in": [ids["tags"].pop()]}}),
    ),
]


async def _seed(db: Client) -> dict[str, Any]:
    user = await db.user.create(data={"email": "ann@example.com"})
    post = await db.post.create(
        data={
            "title": "p",
            "content": "c",
            "author": {"connect": {"id": user["id"]}},
            "tags": {"create": [{"name": "t0", "slug": "t0"}]},
        }
    )
    comments = [
        await db.comment.create(data={"content": "c", "postId": post["id"], "authorId": user["id"]})
        for _ in range(4)
    ]
    await db.tag.create_many(data=[{"name": f"d{i}", "slug": f"d{i}"} for i in range(7)])
    return {
        "user": user["id"],
        "post": post["id"],
        "comments": [c["id"] for c in comments],
        "tags": ["d3", "d4", "d5", "d6"],
        "n": 0,
    }


async def _count_each(url: str, counter: StatementCounter, record: bool) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with Client(SCHEMA, url) as db:
        if record:
            async with db.tx() as tx:
                await ensure_outbox(tx._conn, db.provider)
            db.engine.record_changes = True
        ids = await _seed(db)
        for name, _, write in WRITES:
            for _ in range(2):  # the first call compiles and lets the driver learn the types
                ids["n"] += 1
                counter.reset()
                await write(db, ids)
            executed = counter.statements()
            counts[name] = len(_runs(executed) if url.startswith("file:") else executed)
    return counts


def _runs(statements: list[str]) -> list[str]:
    """``statements`` with consecutive repeats of one DELETE/UPDATE text counted once:
    SQLite's trace hook reports such a statement again when it starts a foreign-key action
    (ON DELETE SET NULL or CASCADE), and the traced text holds the bound values, so a real
    second run of the same write would differ."""
    return [
        s
        for i, s in enumerate(statements)
        if i == 0 or statements[i - 1] != s or leading_keyword(s) not in ("DELETE", "UPDATE")
    ]


EXPECTED = {name: count for name, count, _ in WRITES}


async def test_postgres_statements_per_write(
    counted_pg_url: str, server_statements: Counters
) -> None:
    push(Client(SCHEMA, counted_pg_url).schema, counted_pg_url)
    counts = await _count_each(counted_pg_url, server_statements(counted_pg_url), False)
    assert counts == EXPECTED


async def test_sqlite_statements_per_write(tmp_path: Path, server_statements: Counters) -> None:
    url = f"file:{tmp_path / 'w.db'}"
    push(Client(SCHEMA, url).schema, url)
    counts = await _count_each(url, server_statements(url), False)
    assert counts == EXPECTED


async def test_recording_changes_adds_one_statement_per_write(
    tmp_path: Path, server_statements: Counters
) -> None:
    url = f"file:{tmp_path / 'r.db'}"
    push(Client(SCHEMA, url).schema, url)
    counts = await _count_each(url, server_statements(url), True)
    # while recording, an upsert does UPDATE then INSERT (its events tell which happened)
    assert counts == {
        **{name: count + 1 for name, count in EXPECTED.items()},
        "upsert_create_native": 3,
    }


async def test_batched_nested_writes_keep_their_meaning(tmp_path: Path) -> None:
    """Items that cannot share an INSERT go one by one, in order; a connect list that names
    a missing record fails as a whole and writes nothing."""
    url = f"file:{tmp_path / 'b.db'}"
    push(Client(SCHEMA, url).schema, url)
    async with Client(SCHEMA, url) as db:
        ids = await _seed(db)
        post = await db.post.create(
            data={
                "title": "t",
                "content": "c",
                "author": {"connect": {"id": ids["user"]}},
                "comments": {
                    "create": [
                        {"content": "1", "authorId": ids["user"]},
                        {"content": "2", "author": {"create": {"email": "new@example.com"}}},
                        {"content": "3", "authorId": ids["user"]},
                        {"content": "4", "authorId": ids["user"]},
                    ]
                },
            },
            include={"comments": {"orderBy": {"id": "asc"}, "include": {"author": True}}},
        )
        assert [c["content"] for c in post["comments"]] == ["1", "2", "3", "4"]
        assert post["comments"][1]["author"]["email"] == "new@example.com"
        with pytest.raises(NotFound, match="no `Tag` record to connect"):
            await db.post.update(
                where={"id": post["id"]},
                data={"tags": {"connect": [{"slug": "d3"}, {"slug": "missing"}]}},
            )
        assert await db.tag.count(where={"posts": {"some": {"id": post["id"]}}}) == 0
        # the same tag twice: linked once
        await db.post.update(
            where={"id": post["id"]},
            data={"tags": {"connect": [{"slug": "d3"}, {"id": (await _tag(db, "d3"))["id"]}]}},
        )
        assert await db.tag.count(where={"posts": {"some": {"id": post["id"]}}}) == 1


async def _tag(db: Client, slug: str) -> dict[str, Any]:
    return await db.tag.find_unique_or_raise(where={"slug": slug})


TYPES_SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

enum Mood {
  HAPPY
  SAD
}

model Thing {
  id      Int      @id @default(autoincrement())
  name    String   @unique
  big     BigInt
  ratio   Float
  price   Decimal
  ok      Boolean
  at      DateTime
  data    Json
  raw     Bytes
  mood    Mood     @default(HAPPY)
  note    String?
  when    DateTime @default(now())
  changed DateTime @updatedAt
}
"""


async def test_write_results_read_as_reads_do(sql_backend: Backend, tmp_path: Path) -> None:
    """What an INSERT/UPDATE/DELETE ... RETURNING hands back equals what a read returns,
    field for field and type for type, for every kind of scalar."""
    path = tmp_path / "schema.prisma"
    path.write_text(TYPES_SCHEMA)
    async with Client(path, sql_backend.url) as db:
        push(db.schema, sql_backend.url)
        data = {
            "name": "a",
            "big": 2**40,
            "ratio": 0.25,
            "price": Decimal("12.50"),
            "ok": True,
            "at": datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
            "data": {"k": [1, "x", None]},
            "raw": b"\x00\xff",
        }

        async def same(written: dict[str, Any], select: dict[str, Any] | None = None) -> None:
            read = await db.thing.find_unique_or_raise(where={"name": "a"}, select=select)
            assert written == read
            assert [type(v) for v in written.values()] == [type(v) for v in read.values()]
            assert list(written) == list(read)

        await same(await db.thing.create(data=data))
        await same(await db.thing.update(where={"name": "a"}, data={"big": {"increment": 1}}))
        await same(
            await db.thing.update(
                where={"name": "a"}, data={"mood": "SAD"}, select={"mood": True, "price": True}
            ),
            {"mood": True, "price": True},
        )
        await same(await db.thing.upsert(where={"name": "a"}, create=data, update={"note": "n"}))
        await same(await db.thing.update(where={"name": "a"}, data={}))
        # the one-statement upsert: the existing row's number grows in the database
        big = (await db.thing.find_unique_or_raise(where={"name": "a"}))["big"]
        grown = await db.thing.upsert(
            where={"name": "a"}, create=data, update={"big": {"increment": 5}}
        )
        assert grown["big"] == big + 5
        await same(grown)
        before = await db.thing.find_unique_or_raise(where={"name": "a"})
        assert await db.thing.delete(where={"name": "a"}) == before
        with pytest.raises(NotFound):
            await db.thing.delete(where={"name": "a"})
        with pytest.raises(NotFound):
            await db.thing.update(where={"name": "a"}, data={"note": "x"})
        with pytest.raises(ValidationError):
            await db.thing.update(where={"note": "x"}, data={"note": "y"})
        created = await db.thing.upsert(where={"name": "a"}, create=data, update={})
        await same(created)
        # a key change: the record comes back under its new key
        moved = await db.thing.update(where={"id": created["id"]}, data={"id": 1000})
        assert moved["id"] == 1000
        await same(moved)


# (accessor, method, args, whether it runs as one statement with no transaction around it)
ALONE: list[tuple[str, str, dict[str, Any], bool]] = [
    ("tag", "create", {"data": {"name": "a1", "slug": "a1"}}, True),
    ("tag", "create", {"data": {"name": "a2", "slug": "a2"}, "include": {"posts": True}}, False),
    ("tag", "update", {"where": {"slug": "a1"}, "data": {"name": "a1b"}}, True),
    ("tag", "update", {"where": {"slug": "a1"}, "data": {"posts": {"set": []}}}, False),
    (
        "category",
        "upsert",
        {"where": {"slug": "c1"}, "create": {"name": "c", "slug": "c1"}, "update": {"name": "d"}},
        True,
    ),
    (
        "category",
        "upsert",
        {"where": {"slug": "c1"}, "create": {"name": "c", "slug": "c2"}, "update": {"name": "e"}},
        False,  # create names another slug than the where: not Prisma's native upsert
    ),
    # names become equal: a unique violation, and the one statement changes nothing
    ("tag", "update_many", {"where": {"slug": {"startsWith": "d"}}, "data": {"name": "x"}}, True),
    ("post", "update_many", {"where": {}, "data": {"views": {"increment": 1}}}, True),
    ("tag", "delete", {"where": {"slug": "a2"}}, True),
    ("tag", "delete", {"where": {"slug": "a1"}, "include": {"posts": True}}, False),
    ("tag", "delete_many", {"where": {"slug": {"startsWith": "zz"}}}, True),
    ("tag", "create_many", {"data": [{"name": "m1", "slug": "m1"}]}, False),
]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
async def test_a_one_statement_write_runs_without_a_transaction(
    backend: str, counted_pg_url: str, tmp_path: Path, server_statements: Counters
) -> None:
    """A write the engine runs as one statement skips BEGIN/COMMIT (the database applies a
    statement atomically anyway); any other write runs in a transaction of its own."""
    url = counted_pg_url if backend == "postgresql" else f"file:{tmp_path / 'a.db'}"
    push(Client(SCHEMA, url).schema, url)
    counter = server_statements(url)
    async with Client(SCHEMA, url) as db:
        await _seed(db)
        for accessor, method, args, alone in ALONE:
            model = accessor[0].upper() + accessor[1:]
            assert db.engine.runs_alone(method, model, args) is alone, (accessor, method, args)
            counter.reset()
            call = getattr(getattr(db, accessor), method)
            clashed = False
            try:
                await call(**args)
            except UniqueViolation:
                clashed = True
            executed = counter.statements(exclude=SESSION_COMMANDS)
            if backend == "sqlite":
                executed = _runs(executed)
            if clashed:
                assert await db.tag.count(where={"name": "x"}) == 0
            if alone:
                # (SQLite's trace hook leaves out a statement that failed)
                assert len(executed) == 1 or (clashed and not executed), (method, executed)
            else:
                assert any(leading_keyword(s) in ("BEGIN", "START") for s in executed), executed
