"""The generated client at runtime, on SQLite and PostgreSQL: select classes (narrowed reads,
nested relations, relation arguments, counts), the errors a select class that does not fit
its model gets before any SQL runs, and aggregate/group_by/count results whose values have
exactly the types the generated TypedDicts declare.

The demo and shop clients are the golden packages (tests/test_codegen.py keeps them equal to
fresh output); a small numeric schema is generated into a temporary folder.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import sys
import types
import typing
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import pytest_asyncio
from typing_extensions import TypedDict

from datatier.codegen import generate_client
from datatier.drivers import StatementEvent
from datatier.errors import ValidationError
from datatier.migrate._push import push
from datatier.schema import load_schema
from tests.golden.codegen import demo, shop
from tests.harness.backends import Backend
from tests.harness.golden import REPO

DEMO = REPO / "datatier" / "demo" / "schema.prisma"
SHOP = REPO / "tests" / "conformance" / "schemas" / "shared" / "shop.prisma"


class AuthorName(TypedDict, closed=True):
    email: str
    name: str | None


class TagName(TypedDict, closed=True):
    name: str


class PostCounts(TypedDict, closed=True):
    comments: int
    tags: int


class PostCard(TypedDict, closed=True):
    id: int
    title: str
    publishedAt: datetime.datetime | None
    author: AuthorName
    tags: Annotated[list[TagName], {"orderBy": {"name": "desc"}}]
    _count: PostCounts


class PostTitle(TypedDict, closed=True):
    title: str
    views: int


class ProfileBio(TypedDict, closed=True):
    bio: str | None


class UserCard(TypedDict, closed=True):
    email: str
    profile: ProfileBio | None
    posts: Annotated[
        list[PostTitle], {"where": {"status": "PUBLISHED"}, "orderBy": {"views": "desc"}}
    ]


class OnlyId(TypedDict, total=False, closed=True):
    id: int


@pytest_asyncio.fixture
async def db(sql_backend: Backend) -> AsyncIterator[demo.Client]:
    push(load_schema(DEMO), sql_backend.url)
    async with demo.Client(url=sql_backend.url) as client:
        await _seed(client)
        yield client


async def _seed(db: demo.Client) -> None:
    ann = await db.user.create(data={"email": "ann@x.io", "name": "Ann", "role": "ADMIN"})
    bob = await db.user.create(data={"email": "bob@x.io"})
    await db.userProfile.create(data={"userId": ann["id"], "bio": "writes"})
    await db.category.create(data={"name": "News", "slug": "news"})
    posts: list[tuple[demo.User, str, int, demo.PostStatus, list[str]]] = [
        (ann, "Hello", 10, "PUBLISHED", ["a", "b"]),
        (ann, "Second", 25, "PUBLISHED", ["b"]),
        (ann, "Draft", 0, "DRAFT", []),
        (bob, "Bob's", 40, "ARCHIVED", ["a"]),
    ]
    for author, title, views, status, tags in posts:
        await db.post.create(
            data={
                "title": title,
                "content": "c",
                "views": views,
                "status": status,
                "author": {"connect": {"id": author["id"]}},
                "tags": {
                    "connectOrCreate": [
                        {"where": {"slug": t}, "create": {"name": f"tag-{t}", "slug": t}}
                        for t in tags
                    ]
                },
            }
        )
    hello = await db.post.find_first_or_raise(where={"title": "Hello"})
    for text in ("first", "second"):
        await db.comment.create(
            data={"postId": hello["id"], "authorId": bob["id"], "content": text}
        )


# -- select classes ----------------------------------------------------------------------


async def test_select_class_reads_only_its_fields_with_nested_relations(db: demo.Client) -> None:
    cards = await db.post.find_many(
        where={"status": "PUBLISHED"}, order_by={"views": "asc"}, select=PostCard
    )
    assert [sorted(c) for c in cards] == [
        ["_count", "author", "id", "publishedAt", "tags", "title"]
    ] * 2
    first = cards[0]
    assert first["title"] == "Hello"
    assert first["author"] == {"email": "ann@x.io", "name": "Ann"}
    assert first["tags"] == [{"name": "tag-b"}, {"name": "tag-a"}]  # the annotated orderBy
    assert first["_count"] == {"comments": 2, "tags": 2}
    assert first["publishedAt"] is None

    user = await db.user.find_unique(where={"email": "ann@x.io"}, select=UserCard)
    assert user == {
        "email": "ann@x.io",
        "profile": {"bio": "writes"},
        "posts": [{"title": "Second", "views": 25}, {"title": "Hello", "views": 10}],
    }
    nobody = await db.user.find_unique_or_raise(where={"email": "bob@x.io"}, select=UserCard)
    assert nobody["profile"] is None
    assert nobody["posts"] == []


async def test_select_class_on_every_method_that_returns_rows(db: demo.Client) -> None:
    ann = await db.user.find_first_or_raise(where={"email": "ann@x.io"})
    created = await db.post.create(
        data={"title": "New", "content": "c", "authorId": ann["id"]}, select=PostTitle
    )
    assert created == {"title": "New", "views": 0}
    first = await db.post.find_first(where={"title": "New"}, select=OnlyId)
    assert first is not None and sorted(first) == ["id"]
    key: demo.PostWhereUniqueInput = {"id": first["id"]}
    updated = await db.post.update(where=key, data={"views": 7}, select=PostTitle)
    assert updated == {"title": "New", "views": 7}
    upserted = await db.post.upsert(
        where=key,
        create={"title": "x", "content": "c", "authorId": ann["id"]},
        update={"views": {"increment": 1}},
        select=PostTitle,
    )
    assert upserted == {"title": "New", "views": 8}
    assert await db.post.delete(where=key, select=OnlyId) == {"id": first["id"]}
    # A select dict works as before (its static type stays the model's).
    plain = await db.post.find_many(where={"views": 40}, select={"title": True})
    assert [dict(row) for row in plain] == [{"title": "Bob's"}]
    async with db.tx() as tx:
        rows = await tx.post.find_many(where={"title": "Draft"}, select=PostTitle)
    assert rows == [{"title": "Draft", "views": 0}]


def test_select_class_on_the_sync_client(sql_backend: Backend) -> None:
    push(load_schema(DEMO), sql_backend.url)
    with demo.SyncClient(url=sql_backend.url) as db:
        user = db.user.create(data={"email": "s@x.io", "name": "S"}, select=AuthorName)
        assert user == {"email": "s@x.io", "name": "S"}
        assert db.user.find_many(select=AuthorName) == [user]
        with db.tx() as tx:
            assert tx.user.find_first_or_raise(select=AuthorName) == user


def test_select_documents_are_built_once_per_class() -> None:
    from tests.golden.codegen.demo._selects import SELECTS

    document = SELECTS.document("Post", PostCard)
    assert document == {
        "id": True,
        "title": True,
        "publishedAt": True,
        "author": {"select": {"email": True, "name": True}},
        "tags": {"select": {"name": True}, "orderBy": {"name": "desc"}},
        "_count": {"select": {"comments": True, "tags": True}},
    }
    assert SELECTS.document("Post", PostCard) is document
    # The same class for another model is another document (or another error).
    assert SELECTS.document("Category", OnlyId) == {"id": True}


# -- select classes that do not fit ----------------------------------------------------------


class Misspelled(TypedDict, closed=True):
    titel: str


class NotNullable(TypedDict, closed=True):
    publishedAt: datetime.datetime


class RelationAsScalar(TypedDict, closed=True):
    author: str


class ToManyNotList(TypedDict, closed=True):
    tags: TagName


class NestedMisspelled(TypedDict, closed=True):
    nme: str


class BadNested(TypedDict, closed=True):
    tags: list[NestedMisspelled]


class Empty(TypedDict, closed=True):
    pass


class CountsAuthor(TypedDict, closed=True):
    author: int


class BadCount(TypedDict, closed=True):
    _count: CountsAuthor


class ScalarWithArguments(TypedDict, closed=True):
    title: Annotated[str, {"take": 1}]


class UnknownRelationArgument(TypedDict, closed=True):
    tags: Annotated[list[TagName], {"limit": 1}]


class Dangling(TypedDict, closed=True):
    author: NotDefinedAnywhere  # type: ignore[name-defined]  # noqa: F821


class NotADict:
    title: str


BAD_SELECTS: list[tuple[type, tuple[str | int, ...], str]] = [
    (Misspelled, ("select", "titel"), "`Misspelled` names `titel`, which is not a field of Post"),
    (Misspelled, ("select", "titel"), "did you mean `title`?"),
    (NotNullable, ("select", "publishedAt"), "`Post.publishedAt` is optional"),
    (NotNullable, ("select", "publishedAt"), "declare it `datetime | None`"),
    (RelationAsScalar, ("select", "author"), "is a relation to User: annotate it with a select"),
    (ToManyNotList, ("select", "tags"), "e.g. `tags: list[TagCard]`"),
    (BadNested, ("select", "tags", "select", "nme"), "which is not a field of Tag"),
    (Empty, ("select",), "`Empty` names no field"),
    (BadCount, ("select", "_count", "author"), "not a to-many relation of Post"),
    (ScalarWithArguments, ("select", "title"), "only relations take arguments"),
    (UnknownRelationArgument, ("select", "tags"), "unknown relation arguments ['limit']"),
    (Dangling, ("select",), "cannot be read"),
    (NotADict, ("select",), "`NotADict` is not a TypedDict"),
]


async def test_bad_select_classes_are_validation_errors_before_any_sql(
    db: demo.Client,
) -> None:
    statements: list[StatementEvent] = []
    db.runtime.on_statement(statements.append)
    for cls, path, message in BAD_SELECTS:
        select: Any = cls  # deliberately wrong: the type checkers reject these classes
        with pytest.raises(ValidationError) as raised:
            await db.post.find_many(select=select)
        assert (raised.value.path, message in str(raised.value)) == (path, True), (
            cls.__name__,
            str(raised.value),
        )
    assert statements == []


# -- aggregates --------------------------------------------------------------------------


def _conforms(value: Any, annotation: Any) -> bool:
    """Whether ``value`` has exactly one of the types ``annotation`` allows (no int for
    float, no bool for int)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, member) for member in typing.get_args(annotation))
    if origin is Literal:
        return value in typing.get_args(annotation)
    if annotation is type(None) or annotation is None:
        return value is None
    return type(value) is annotation


def _check_result(result: dict[str, Any], module: types.ModuleType, model: str) -> int:
    """Every aggregate in ``result`` against ``<model><Op>AggregateOutputType``; the number of
    values checked."""
    checked = 0
    for op, values in result.items():
        if not op.startswith("_"):
            continue
        if not isinstance(values, dict):
            assert op == "_count" and type(values) is int
            checked += 1
            continue
        output = getattr(module, f"{model}{op[1:].capitalize()}AggregateOutputType")
        hints = typing.get_type_hints(output, vars(module))
        for field, value in values.items():
            assert _conforms(value, hints[field]), (op, field, value, hints[field])
            checked += 1
    return checked


async def test_aggregate_results_have_the_declared_types(
    db: demo.Client, sql_backend: Backend
) -> None:
    stats = await db.post.aggregate(
        _count=True,
        _avg={"views": True, "id": True},
        _sum={"views": True},
        _min={"publishedAt": True, "title": True, "status": True, "createdAt": True},
        _max={"views": True, "status": True},
    )
    assert stats.get("_count") == 4
    assert stats.get("_avg", {}).get("views") == 18.75
    assert stats.get("_sum", {}).get("views") == 75
    assert stats.get("_min", {}).get("title") == "Bob's"
    # Enums order as declared on PostgreSQL (an enum type), by text on SQLite.
    last = "ARCHIVED" if sql_backend.provider == "postgresql" else "PUBLISHED"
    assert stats.get("_max", {}).get("status") == last
    assert _check_result(dict(stats), demo.types, "Post") == 10
    empty = await db.post.aggregate(
        where={"views": {"gt": 1000}},
        _count={"_all": True, "publishedAt": True},
        _avg={"views": True},
        _sum={"views": True},
        _min={"createdAt": True},
    )
    assert empty == {
        "_count": {"_all": 0, "publishedAt": 0},
        "_avg": {"views": None},
        "_sum": {"views": None},
        "_min": {"createdAt": None},
    }
    assert _check_result(dict(empty), demo.types, "Post") == 5
    windowed = await db.post.aggregate(order_by={"views": "desc"}, take=2, _sum={"views": True})
    assert windowed == {"_sum": {"views": 65}}


async def test_count_and_group_by(db: demo.Client) -> None:
    assert await db.post.count(where={"status": "PUBLISHED"}) == 2
    counts = await db.user.count(select={"_all": True, "name": True})
    assert counts == {"_all": 2, "name": 1}
    groups = await db.post.group_by(
        by=["authorId", "status"],
        where={"views": {"gte": 0}},
        having={"views": {"_max": {"gte": 10}}},
        order_by=[{"_sum": {"views": "desc"}}],
        _count=True,
        _sum={"views": True},
        _avg={"views": True},
    )
    assert [(g.get("status"), g.get("_count"), g.get("_sum")) for g in groups] == [
        ("ARCHIVED", 1, {"views": 40}),
        ("PUBLISHED", 2, {"views": 35}),
    ]
    for group in groups:
        assert _check_result(dict(group), demo.types, "Post") == 3
    counted = await db.post.group_by(
        by="status", order_by={"_count": {"id": "desc"}}, take=1, _count={"_all": True}
    )
    assert counted == [{"status": "PUBLISHED", "_count": {"_all": 2}}]


# -- numbers of every kind -------------------------------------------------------------------

NUMBERS = """
datasource db {
  provider = "sqlite"
  url      = "file:./numbers.db"
}

model Reading {
  id     Int      @id @default(autoincrement())
  count  Int
  big    BigInt
  ratio  Float
  amount Decimal
  label  String
  at     DateTime
  ok     Boolean
}
"""


@pytest.fixture
def numbers(tmp_path: Path) -> Iterator[types.ModuleType]:
    """A client for ``NUMBERS``, generated as package ``numbers_client`` under ``tmp_path``."""
    schema = tmp_path / "schema.prisma"
    schema.write_text(NUMBERS)
    generate_client(load_schema(schema), schema, tmp_path / "numbers_client")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("numbers_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == "numbers_client"]:
            del sys.modules[name]


async def test_aggregate_value_types_of_every_number_kind(
    numbers: types.ModuleType, sql_backend: Backend
) -> None:
    push(load_schema(Path(numbers.SCHEMA_PATH)), sql_backend.url)
    every = {"count": True, "big": True, "ratio": True, "amount": True}
    ordered = {**every, "label": True, "at": True}
    if sql_backend.provider == "sqlite":
        # Prisma offers _min/_max of Boolean fields; the runtime runs min(boolean), which
        # PostgreSQL lacks (reported), so booleans are checked on SQLite only for now.
        ordered["ok"] = True
    async with numbers.Client(url=sql_backend.url) as db:
        at = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)
        for i in (1, 2):
            await db.reading.create(
                data={
                    "count": i,
                    "big": 2**40 * i,
                    "ratio": 0.5 * i,
                    "amount": decimal.Decimal(f"{i}.25"),
                    "label": f"r{i}",
                    "at": at + datetime.timedelta(days=i),
                    "ok": i == 1,
                }
            )
        query = {"_avg": every, "_sum": every, "_min": ordered, "_max": ordered}
        stats = await db.reading.aggregate(_count=True, **query)
        assert _check_result(stats, numbers.types, "Reading") == 1 + 4 + 4 + 2 * len(ordered)
        assert stats["_avg"] == {
            "count": 1.5,
            "big": 1.5 * 2**40,
            "ratio": 0.75,
            "amount": decimal.Decimal("1.75"),
        }
        assert stats["_sum"] == {
            "count": 3,
            "big": 3 * 2**40,
            "ratio": 1.5,
            "amount": decimal.Decimal("3.50"),
        }
        assert stats["_min"]["at"] == at + datetime.timedelta(days=1)
        assert stats["_max"].get("ok", True) is True
        groups = await db.reading.group_by(by="label", order_by={"label": "asc"}, **query)
        assert [g["label"] for g in groups] == ["r1", "r2"]
        for group in groups:
            assert _check_result(group, numbers.types, "Reading") == 4 + 4 + 2 * len(ordered)


async def test_shop_decimal_aggregates(sql_backend: Backend) -> None:
    push(load_schema(SHOP), sql_backend.url)
    async with shop.Client(url=sql_backend.url) as db:
        await db.category.create(data={"name": "c", "slug": "c"})
        for sku, price in (("a", "1.10"), ("b", "2.30")):
            await db.product.create(data={"sku": sku, "name": sku, "price": price, "categoryId": 1})
        stats = await db.product.aggregate(
            _avg={"price": True}, _sum={"price": True, "stock": True}
        )
        assert stats == {
            "_avg": {"price": decimal.Decimal("1.7")},
            "_sum": {"price": decimal.Decimal("3.40"), "stock": 0},
        }
        assert _check_result(dict(stats), shop.types, "Product") == 3
