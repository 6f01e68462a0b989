"""The Python client on the demo (blog) schema, the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio

from datatier import Client, SyncClient
from datatier.drivers import StatementEvent
from datatier.errors import (
    ForeignKeyViolation,
    NotFound,
    RequiredRelationViolation,
    UniqueViolation,
    ValidationError,
)
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.golden import REPO

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[Client]:
    client = Client(SCHEMA, sql_backend.url)
    push(client.schema, sql_backend.url)
    async with client:
        await _seed(client)
        yield client


async def _seed(db: Client) -> None:
    ann = await db.user.create(data={"email": "ann@example.com", "name": "Ann", "role": "ADMIN"})
    bob = await db.user.create(data={"email": "bob@example.com", "name": "Bob"})
    await db.user.create(data={"email": "cy@example.com"})
    news = await db.category.create(data={"name": "News", "slug": "news"})
    for i, (author, title, views, status) in enumerate(
        [
            (ann, "Hello SQL", 10, "PUBLISHED"),
            (ann, "Second post", 25, "PUBLISHED"),
            (bob, "Bob writes", 3, "DRAFT"),
            (bob, "Another sql note", 40, "ARCHIVED"),
        ]
    ):
        await db.post.create(
            data={
                "title": title,
                "content": f"content {i}",
                "views": views,
                "status": status,
                "author": {"connect": {"id": author["id"]}},
                **({"category": {"connect": {"slug": "news"}}} if i % 2 == 0 else {}),
                "tags": {
                    "connectOrCreate": [
                        {
                            "where": {"slug": f"t{i % 2}"},
                            "create": {"name": f"tag{i % 2}", "slug": f"t{i % 2}"},
                        }
                    ]
                },
            }
        )
    assert news["slug"] == "news"
    first = await db.post.find_first_or_raise(where={"title": "Hello SQL"})
    await db.comment.create(
        data={
            "content": "nice",
            "post": {"connect": {"id": first["id"]}},
            "author": {"connect": {"email": "bob@example.com"}},
        }
    )
    await db.comment.create(
        data={
            "content": "thanks",
            "post": {"connect": {"id": first["id"]}},
            "author": {"connect": {"email": "ann@example.com"}},
        }
    )


def titles(rows: list[dict[str, Any]]) -> list[str]:
    return [r["title"] for r in rows]


# -- reads ------------------------------------------------------------------------------


async def test_find_unique_and_first(db: Client) -> None:
    ann = await db.user.find_unique(where={"email": "ann@example.com"})
    assert ann is not None and ann["name"] == "Ann" and ann["role"] == "ADMIN"
    assert set(ann) == {"id", "email", "name", "role", "createdAt", "updatedAt"}
    assert await db.user.find_unique(where={"email": "nobody@example.com"}) is None
    with pytest.raises(NotFound):
        await db.user.find_unique_or_raise(where={"email": "nobody@example.com"})
    with pytest.raises(NotFound):
        await db.post.find_first_or_raise(where={"views": {"gt": 1000}})
    top = await db.post.find_first(order_by={"views": "desc"}, select={"title": True})
    assert top == {"title": "Another sql note"}


async def test_scalar_filters(db: Client) -> None:
    async def find(where: dict[str, Any]) -> list[str]:
        return titles(
            await db.post.find_many(where=where, order_by={"title": "asc"}, select={"title": True})
        )

    assert await find({"views": {"gte": 10, "lt": 40}}) == ["Hello SQL", "Second post"]
    assert await find({"views": {"in": [3, 40]}}) == ["Another sql note", "Bob writes"]
    assert await find({"views": {"notIn": [3, 40]}}) == ["Hello SQL", "Second post"]
    assert (
        await find({"title": {"contains": "sql"}}) == ["Another sql note"]
        if db.provider == "postgresql"
        else ["Another sql note", "Hello SQL"]
    )
    assert await find({"title": {"startsWith": "Se"}}) == ["Second post"]
    assert await find({"title": {"endsWith": "note"}}) == ["Another sql note"]
    assert await find({"title": {"not": "Bob writes"}, "status": "PUBLISHED"}) == [
        "Hello SQL",
        "Second post",
    ]
    assert await find({"status": {"in": ["DRAFT", "ARCHIVED"]}}) == [
        "Another sql note",
        "Bob writes",
    ]
    assert await find({"categoryId": None}) == ["Another sql note", "Second post"]
    assert await find({"categoryId": {"not": None}}) == ["Bob writes", "Hello SQL"]
    assert await find({"OR": [{"views": 3}, {"views": 10}]}) == ["Bob writes", "Hello SQL"]
    assert await find({"NOT": [{"views": 3}, {"views": 10}]}) == ["Another sql note", "Second post"]
    assert await find({"AND": [{"views": {"gt": 5}}, {"status": "PUBLISHED"}]}) == [
        "Hello SQL",
        "Second post",
    ]
    # As in Prisma, % and _ keep their LIKE meaning
    assert await find({"title": {"contains": "o_S"}}) == ["Hello SQL"]


async def test_insensitive_mode(db: Client, sql_backend: Backend) -> None:
    if sql_backend.provider == "sqlite":
        with pytest.raises(ValidationError, match="insensitive"):
            await db.post.find_many(where={"title": {"contains": "SQL", "mode": "insensitive"}})
        return
    rows = await db.post.find_many(
        where={"title": {"contains": "SQL", "mode": "insensitive"}}, order_by={"title": "asc"}
    )
    assert titles(rows) == ["Another sql note", "Hello SQL"]


async def test_relation_filters(db: Client) -> None:
    def emails(rows: list[dict[str, Any]]) -> list[str]:
        return sorted(r["email"] for r in rows)

    assert emails(await db.user.find_many(where={"posts": {"some": {"views": {"gt": 30}}}})) == [
        "bob@example.com"
    ]
    assert emails(await db.user.find_many(where={"posts": {"every": {"status": "PUBLISHED"}}})) == [
        "ann@example.com",
        "cy@example.com",
    ]
    assert emails(await db.user.find_many(where={"posts": {"none": {}}})) == ["cy@example.com"]
    posts = await db.post.find_many(
        where={"author": {"is": {"name": "Ann"}}}, select={"title": True}
    )
    assert sorted(titles(posts)) == ["Hello SQL", "Second post"]
    posts = await db.post.find_many(
        where={"author": {"name": "Bob"}, "category": None}, select={"title": True}
    )
    assert titles(posts) == ["Another sql note"]
    posts = await db.post.find_many(where={"category": {"isNot": None}}, select={"title": True})
    assert sorted(titles(posts)) == ["Bob writes", "Hello SQL"]
    posts = await db.post.find_many(
        where={"tags": {"some": {"slug": "t1"}}}, select={"title": True}
    )
    assert sorted(titles(posts)) == ["Another sql note", "Second post"]


async def test_nested_select_include_and_counts(db: Client) -> None:
    ann = await db.user.find_unique(
        where={"email": "ann@example.com"},
        select={
            "name": True,
            "posts": {
                "where": {"views": {"gt": 1}},
                "orderBy": {"views": "desc"},
                "select": {
                    "title": True,
                    "author": {"select": {"email": True}},
                    "comments": {"orderBy": {"id": "asc"}, "select": {"content": True}},
                    "_count": {"select": {"comments": True, "tags": True}},
                },
            },
            "_count": True,
        },
    )
    assert ann == {
        "name": "Ann",
        "posts": [
            {
                "title": "Second post",
                "author": {"email": "ann@example.com"},
                "comments": [],
                "_count": {"comments": 0, "tags": 1},
            },
            {
                "title": "Hello SQL",
                "author": {"email": "ann@example.com"},
                "comments": [{"content": "nice"}, {"content": "thanks"}],
                "_count": {"comments": 2, "tags": 1},
            },
        ],
        "_count": {"sessions": 0, "posts": 2, "comments": 1},
    }
    post = await db.post.find_first_or_raise(
        where={"title": "Hello SQL"}, include={"category": True, "tags": True}
    )
    assert post["category"]["slug"] == "news"
    assert [t["slug"] for t in post["tags"]] == ["t0"]
    assert (
        await db.post.find_first_or_raise(
            where={"title": "Second post"}, include={"category": True}
        )
    )["category"] is None


async def test_order_by_relations_and_counts(db: Client) -> None:
    rows = await db.post.find_many(
        order_by=[{"author": {"email": "desc"}}, {"views": "asc"}], select={"title": True}
    )
    assert titles(rows) == ["Bob writes", "Another sql note", "Hello SQL", "Second post"]
    users = await db.user.find_many(
        order_by=[{"posts": {"_count": "desc"}}, {"email": "asc"}], select={"email": True}
    )
    assert [u["email"] for u in users] == ["ann@example.com", "bob@example.com", "cy@example.com"]


async def test_pagination(db: Client) -> None:
    ordered = titles(await db.post.find_many(order_by={"views": "asc"}))
    assert ordered == ["Bob writes", "Hello SQL", "Second post", "Another sql note"]
    assert (
        titles(await db.post.find_many(order_by={"views": "asc"}, take=2, skip=1)) == ordered[1:3]
    )
    assert titles(await db.post.find_many(order_by={"views": "asc"}, take=-2)) == ordered[2:]
    second = await db.post.find_first_or_raise(where={"title": "Hello SQL"})
    page = await db.post.find_many(order_by={"views": "asc"}, cursor={"id": second["id"]}, take=2)
    assert titles(page) == ordered[1:3]
    page = await db.post.find_many(
        order_by={"views": "asc"}, cursor={"id": second["id"]}, skip=1, take=5
    )
    assert titles(page) == ordered[2:]
    assert await db.post.find_many(cursor={"id": 999_999}) == []


async def test_distinct(db: Client) -> None:
    rows = await db.post.find_many(
        distinct=["authorId"], order_by={"views": "desc"}, select={"title": True}
    )
    assert titles(rows) == ["Another sql note", "Second post"]
    rows = await db.post.find_many(
        distinct="status", order_by={"views": "asc"}, select={"status": True}, take=2
    )
    assert [r["status"] for r in rows] == ["DRAFT", "PUBLISHED"]


async def test_count(db: Client) -> None:
    assert await db.post.count() == 4
    assert await db.post.count(where={"author": {"email": "ann@example.com"}}) == 2


# -- writes -----------------------------------------------------------------------------


async def test_create_defaults(db: Client) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    user = await db.user.create(data={"email": "new@example.com"})
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", user["id"]
    )
    assert user["role"] == "USER" and user["name"] is None
    assert user["createdAt"].tzinfo is not None and user["createdAt"] >= before
    assert user["updatedAt"] >= before
    session = await db.userSession.create(
        data={
            "token": "t",
            "expiresAt": datetime(2030, 1, 1, tzinfo=UTC),
            "user": {"connect": {"id": user["id"]}},
        }
    )
    assert re.fullmatch(r"c[0-9a-z]{24}", session["id"])
    assert session["expiresAt"] == datetime(2030, 1, 1, tzinfo=UTC)


async def test_update_and_atomic_numbers(db: Client) -> None:
    post = await db.post.find_first_or_raise(where={"title": "Hello SQL"})
    updated = await db.post.update(
        where={"id": post["id"]}, data={"views": {"increment": 5}, "title": "Hello again"}
    )
    assert updated["views"] == 15 and updated["title"] == "Hello again"
    assert updated["updatedAt"] >= post["updatedAt"]
    assert (await db.post.update(where={"id": post["id"]}, data={"views": {"multiply": 2}}))[
        "views"
    ] == 30
    assert (await db.post.update(where={"id": post["id"]}, data={"views": {"decrement": 10}}))[
        "views"
    ] == 20
    assert (await db.post.update(where={"id": post["id"]}, data={"views": {"divide": 4}}))[
        "views"
    ] == 5
    assert await db.post.update_many(where={"status": "PUBLISHED"}, data={"views": {"set": 0}}) == 2
    with pytest.raises(NotFound):
        await db.post.update(where={"id": 999_999}, data={"views": 1})


async def test_upsert_delete(db: Client) -> None:
    created = await db.tag.upsert(
        where={"slug": "x"}, create={"name": "X", "slug": "x"}, update={"name": "Y"}
    )
    updated = await db.tag.upsert(
        where={"slug": "x"}, create={"name": "X", "slug": "x"}, update={"name": "Y"}
    )
    assert (created["name"], updated["name"], created["id"]) == ("X", "Y", updated["id"])
    deleted = await db.tag.delete(where={"slug": "x"})
    assert deleted["name"] == "Y"
    assert await db.tag.find_unique(where={"slug": "x"}) is None
    with pytest.raises(NotFound):
        await db.tag.delete(where={"slug": "x"})
    assert await db.comment.delete_many(where={"content": {"startsWith": "n"}}) == 1


async def test_create_many(db: Client) -> None:
    assert (
        await db.tag.create_many(data=[{"name": "a", "slug": "a"}, {"name": "b", "slug": "b"}]) == 2
    )
    count = await db.tag.create_many(
        data=[{"name": "a", "slug": "a"}, {"name": "c", "slug": "c"}], skip_duplicates=True
    )
    assert count == 1
    with pytest.raises(UniqueViolation):
        await db.tag.create_many(data=[{"name": "d", "slug": "d"}, {"name": "a", "slug": "a"}])
    assert await db.tag.find_unique(where={"slug": "d"}) is None  # all or nothing


async def test_nested_writes(db: Client) -> None:
    user = await db.user.create(
        data={
            "email": "writer@example.com",
            "profile": {"create": {"bio": "hi"}},
            "posts": {
                "create": [
                    {
                        "title": "One",
                        "content": "1",
                        "tags": {"create": [{"name": "fresh", "slug": "fresh"}]},
                    },
                    {"title": "Two", "content": "2", "tags": {"connect": [{"slug": "t0"}]}},
                ]
            },
        },
        include={
            "profile": True,
            "posts": {"orderBy": {"title": "asc"}, "include": {"tags": True}},
        },
    )
    assert user["profile"]["bio"] == "hi"
    assert [(p["title"], [t["slug"] for t in p["tags"]]) for p in user["posts"]] == [
        ("One", ["fresh"]),
        ("Two", ["t0"]),
    ]
    two = user["posts"][1]
    changed = await db.user.update(
        where={"id": user["id"]},
        data={
            "posts": {
                "update": {
                    "where": {"id": two["id"]},
                    "data": {"title": "Two!", "tags": {"set": [{"slug": "fresh"}]}},
                },
                "delete": {"title": "One"},
            },
            "profile": {"update": {"bio": "hello"}},
        },
        include={"posts": {"include": {"tags": True}}, "profile": True},
    )
    assert [(p["title"], [t["slug"] for t in p["tags"]]) for p in changed["posts"]] == [
        ("Two!", ["fresh"])
    ]
    assert changed["profile"]["bio"] == "hello"
    with pytest.raises(RequiredRelationViolation):
        await db.user.update(
            where={"id": user["id"]}, data={"posts": {"disconnect": [{"id": two["id"]}]}}
        )


async def test_failed_nested_write_leaves_nothing(db: Client) -> None:
    with pytest.raises(NotFound):
        await db.user.create(
            data={
                "email": "half@example.com",
                "posts": {
                    "create": [
                        {
                            "title": "kept?",
                            "content": "x",
                            "tags": {"connect": [{"slug": "missing"}]},
                        }
                    ]
                },
            }
        )
    assert await db.user.find_unique(where={"email": "half@example.com"}) is None
    assert await db.post.count(where={"title": "kept?"}) == 0


async def test_errors_name_fields(db: Client) -> None:
    with pytest.raises(UniqueViolation) as unique:
        await db.user.create(data={"email": "ann@example.com"})
    assert (
        unique.value.model,
        unique.value.fields,
        unique.value.code,
        unique.value.prisma_code,
    ) == (
        "User",
        ("email",),
        "unique_violation",
        "P2002",
    )
    with pytest.raises(ForeignKeyViolation):
        await db.post.create(data={"title": "x", "content": "y", "authorId": "no-such-user"})
    with pytest.raises(ForeignKeyViolation):
        await db.user.delete(where={"email": "ann@example.com"})  # posts still point at Ann


async def test_bad_documents_run_no_sql(db: Client) -> None:
    events: list[StatementEvent] = []
    db.on_statement(events.append)
    cases: list[tuple[Any, str]] = [
        (
            db.user.find_many(where={"emial": "x"}),
            r"where\.emial: `User` has no field `emial`; did you mean `email`\?",
        ),
        (db.post.find_many(where={"views": {"gt": "many"}}), r"where\.views\.gt"),
        (db.post.find_many(order_by={"views": "up"}), r"orderBy\.views"),
        (db.post.find_many(take=1.5), r"take: expected an integer"),
        (db.user.find_unique(where={"name": "Ann"}), r"unique"),
        (db.user.create(data={"name": "no email"}), r"missing required field `email`"),
        (
            db.post.find_many(select={"title": True}, include={"author": True}),
            r"either `select` or `include`",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValidationError, match=message):
            await call
    assert [
        e
        for e in events
        if not e.sql.lstrip()
        .upper()
        .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
    ] == []


# -- transactions and raw SQL -------------------------------------------------------------


async def test_transactions(db: Client) -> None:
    async with db.tx() as tx:
        await tx.tag.create(data={"name": "in tx", "slug": "in-tx"})
        assert await tx.tag.count(where={"slug": "in-tx"}) == 1
    assert await db.tag.count(where={"slug": "in-tx"}) == 1
    with pytest.raises(RuntimeError):
        async with db.tx() as tx:
            await tx.tag.create(data={"name": "rolled back", "slug": "rb"})
            raise RuntimeError("abort")
    assert await db.tag.count(where={"slug": "rb"}) == 0
    results = await db.batch(
        lambda tx: tx.tag.create(data={"name": "b1", "slug": "b1"}),
        lambda tx: tx.tag.count(),
    )
    assert results[0]["slug"] == "b1" and results[1] >= 3


async def test_raw_sql(db: Client) -> None:
    rows = await db.query_raw('SELECT title, views FROM "Post" WHERE views > $1 ORDER BY views', 20)
    assert rows == [
        {"title": "Second post", "views": 25},
        {"title": "Another sql note", "views": 40},
    ]
    assert await db.execute_raw('UPDATE "Post" SET views = $1 WHERE views < $2', 0, 5) == 1


def test_sync_client(sql_backend: Backend) -> None:
    with SyncClient(SCHEMA, sql_backend.url) as db:
        push(db.schema, sql_backend.url)
        db.tag.create(data={"name": "s", "slug": "s"})
        with db.tx() as tx:
            tx.tag.update(where={"slug": "s"}, data={"name": "S"})
        assert db.tag.find_unique_or_raise(where={"slug": "s"})["name"] == "S"
        assert db.query_raw('SELECT count(*) AS n FROM "Tag"') == [{"n": 1}]


# -- aggregates ----------------------------------------------------------------------------


async def test_count_with_window_and_fields(db: Client) -> None:
    assert await db.post.count(where={"views": {"gt": 5}}, order_by={"views": "desc"}, take=2) == 2
    assert await db.post.count(skip=3) == 1
    counts = await db.user.count(select={"_all": True, "name": True})
    assert counts == {"_all": 3, "name": 2}


async def test_aggregate(db: Client) -> None:
    result = await db.post.aggregate(
        _count={"_all": True, "categoryId": True},
        _sum={"views": True},
        _avg={"views": True},
        _min={"views": True, "title": True},
        _max={"views": True, "createdAt": True},
    )
    assert result["_count"] == {"_all": 4, "categoryId": 2}
    assert result["_sum"] == {"views": 78}
    assert result["_avg"] == {"views": 19.5}
    assert result["_min"] == {"views": 3, "title": "Another sql note"}
    assert result["_max"]["views"] == 40 and result["_max"]["createdAt"].tzinfo is not None
    top = await db.post.aggregate(_sum={"views": True}, order_by={"views": "desc"}, take=2)
    assert top == {"_sum": {"views": 65}}
    empty = await db.post.aggregate(
        where={"views": {"gt": 1000}}, _sum={"views": True}, _count=True
    )
    assert empty == {"_sum": {"views": None}, "_count": 0}


async def test_group_by(db: Client) -> None:
    groups = await db.post.group_by(
        by=["authorId"],
        _count={"_all": True},
        _sum={"views": True},
        having={"views": {"_sum": {"gt": 20}}},
        order_by={"_sum": {"views": "desc"}},
    )
    ann = await db.user.find_unique_or_raise(where={"email": "ann@example.com"})
    bob = await db.user.find_unique_or_raise(where={"email": "bob@example.com"})
    assert groups == [
        {"authorId": bob["id"], "_count": {"_all": 2}, "_sum": {"views": 43}},
        {"authorId": ann["id"], "_count": {"_all": 2}, "_sum": {"views": 35}},
    ]
    by_status = await db.post.group_by(
        by="status", _count=True, order_by={"status": "asc"}, take=2, skip=1
    )
    # PostgreSQL orders an enum by its declared values; SQLite stores it as text.
    expected = (
        [{"status": "PUBLISHED", "_count": 2}, {"status": "ARCHIVED", "_count": 1}]
        if db.provider == "postgresql"
        else [{"status": "DRAFT", "_count": 1}, {"status": "PUBLISHED", "_count": 2}]
    )
    assert by_status == expected
    with pytest.raises(ValidationError, match="not grouped by"):
        await db.post.group_by(by=["authorId"], having={"title": "x"})
    with pytest.raises(ValidationError, match="need an `orderBy`"):
        await db.post.group_by(by=["authorId"], take=1)
    with pytest.raises(ValidationError, match="each `by` entry is a field name"):
        await db.post.group_by(by=[{}])


async def test_having_on_counts_and_averages_takes_numbers(db: Client) -> None:
    # A count filter is an Int filter and an average a Float filter, whatever the field's
    # own type (a String field's _count, an Int field's fractional _avg).
    bob = await db.user.find_unique_or_raise(where={"email": "bob@example.com"})
    groups = await db.post.group_by(
        by=["authorId"],
        _avg={"views": True},
        having={"title": {"_count": {"gte": 2}}, "views": {"_avg": {"gt": 17.5, "not": 100.5}}},
    )
    assert groups == [{"authorId": bob["id"], "_avg": {"views": 21.5}}]
    counted = await db.post.group_by(
        by=["authorId"],
        having={"categoryId": {"_count": {"in": [0, 1]}}},
        order_by={"authorId": "asc"},
    )
    assert len(counted) == 2
    with pytest.raises(ValidationError, match="compared with an integer") as error:
        await db.post.group_by(by=["authorId"], having={"title": {"_count": {"gt": 1.5}}})
    assert error.value.path == ("having", "title", "_count", "gt")
    with pytest.raises(ValidationError, match="expected a number"):
        await db.post.group_by(by=["authorId"], having={"views": {"_avg": {"gt": "ten"}}})
    with pytest.raises(ValidationError, match="unknown filter `contains` on an aggregate"):
        await db.post.group_by(by=["authorId"], having={"title": {"_count": {"contains": "x"}}})


async def test_full_text_search(db: Client) -> None:
    if db.provider == "sqlite":
        with pytest.raises(ValidationError, match="search"):
            await db.post.find_many(where={"title": {"search": "sql"}})
        return
    rows = await db.post.find_many(
        where={"title": {"search": "sql & note"}}, select={"title": True}
    )
    assert titles(rows) == ["Another sql note"]
    rows = await db.post.find_many(
        where={"title": {"search": "hello | bob"}}, order_by={"title": "asc"}
    )
    assert titles(rows) == ["Bob writes", "Hello SQL"]


async def test_more_nested_writes(db: Client) -> None:
    ann = await db.user.find_unique_or_raise(where={"email": "ann@example.com"})
    bob_post = await db.post.find_first_or_raise(where={"title": "Bob writes"})
    # move Bob's post to Ann, create one by connectOrCreate, add two with createMany
    await db.user.update(
        where={"id": ann["id"]},
        data={
            "posts": {
                "connect": {"id": bob_post["id"]},
                "connectOrCreate": {
                    "where": {"id": 999_999},
                    "create": {"title": "Fresh", "content": "f"},
                },
                "createMany": {
                    "data": [
                        {"title": "Many 1", "content": "m"},
                        {"title": "Many 2", "content": "m"},
                    ]
                },
            }
        },
    )
    mine = await db.post.find_many(
        where={"authorId": ann["id"]}, order_by={"title": "asc"}, select={"title": True}
    )
    assert titles(mine) == ["Bob writes", "Fresh", "Hello SQL", "Many 1", "Many 2", "Second post"]

    # m:n: disconnect one tag, then set the whole list, then delete the related tags
    hello = await db.post.find_first_or_raise(where={"title": "Hello SQL"}, include={"tags": True})
    assert [t["slug"] for t in hello["tags"]] == ["t0"]
    await db.post.update(where={"id": hello["id"]}, data={"tags": {"connect": [{"slug": "t1"}]}})
    after = await db.post.update(
        where={"id": hello["id"]},
        data={"tags": {"disconnect": [{"slug": "t0"}]}},
        include={"tags": True},
    )
    assert [t["slug"] for t in after["tags"]] == ["t1"]
    after = await db.post.update(
        where={"id": hello["id"]}, data={"tags": {"set": []}}, include={"tags": True}
    )
    assert after["tags"] == []
    assert await db.tag.count() == 2  # set and disconnect unlink, they do not delete

    # to-one where this side holds the key: create, update, upsert, disconnect, delete
    second = await db.post.find_first_or_raise(where={"title": "Second post"})
    step = await db.post.update(
        where={"id": second["id"]},
        data={"category": {"create": {"name": "Tech", "slug": "tech"}}},
        include={"category": True},
    )
    assert step["category"]["slug"] == "tech"
    step = await db.post.update(
        where={"id": second["id"]},
        data={"category": {"update": {"name": "Technology"}}},
        include={"category": True},
    )
    assert step["category"]["name"] == "Technology"
    step = await db.post.update(
        where={"id": second["id"]},
        data={
            "category": {
                "upsert": {"create": {"name": "X", "slug": "x"}, "update": {"name": "Tech!"}}
            }
        },
        include={"category": True},
    )
    assert step["category"]["name"] == "Tech!"
    step = await db.post.update(
        where={"id": second["id"]},
        data={"category": {"disconnect": True}},
        include={"category": True},
    )
    assert step["category"] is None
    assert await db.category.count(where={"slug": "tech"}) == 1
    await db.post.update(
        where={"id": second["id"]}, data={"category": {"connect": {"slug": "tech"}}}
    )
    step = await db.post.update(
        where={"id": second["id"]}, data={"category": {"delete": True}}, include={"category": True}
    )
    assert step["category"] is None
    assert await db.category.count(where={"slug": "tech"}) == 0

    # to-one where the other side holds the key (User.profile)
    user = await db.user.update(
        where={"id": ann["id"]},
        data={"profile": {"upsert": {"create": {"bio": "new"}, "update": {"bio": "changed"}}}},
        include={"profile": True},
    )
    assert user["profile"]["bio"] == "new"
    user = await db.user.update(
        where={"id": ann["id"]},
        data={"profile": {"upsert": {"create": {"bio": "new"}, "update": {"bio": "changed"}}}},
        include={"profile": True},
    )
    assert user["profile"]["bio"] == "changed"
    user = await db.user.update(
        where={"id": ann["id"]}, data={"profile": {"delete": True}}, include={"profile": True}
    )
    assert user["profile"] is None

    # deleteMany through a relation deletes the related records
    await db.user.update(
        where={"id": ann["id"]}, data={"posts": {"deleteMany": {"title": {"startsWith": "Many"}}}}
    )
    assert await db.post.count(where={"title": {"startsWith": "Many"}}) == 0
