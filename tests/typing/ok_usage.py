"""Correct uses of the generated blog (demo schema) client: mypy --strict and pyright accept
every line and every ``assert_type``. Never run; only type-checked."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, assert_type

from typing_extensions import TypedDict

from tests.golden.codegen.demo import (
    AggregatePost,
    Category,
    Client,
    Comment,
    JsonValue,
    Post,
    PostCountAggregateOutputType,
    PostGroupByOutputType,
    PostStatus,
    PostWhereInput,
    SyncClient,
    User,
    UserCountAggregateOutputType,
    UserCreateInput,
    UserProfile,
)


# Select classes: closed TypedDicts naming the fields to read (relations as select classes).
class AuthorName(TypedDict, closed=True):
    email: str
    name: str | None


class TagName(TypedDict, closed=True):
    name: str


class PostCounts(TypedDict, closed=True):
    comments: int


class PostCard(TypedDict, closed=True):
    id: int
    title: str
    status: PostStatus
    publishedAt: datetime.datetime | None
    author: AuthorName
    tags: Annotated[list[TagName], {"take": 3}]
    _count: PostCounts


class ProfileBio(TypedDict, closed=True):
    bio: str | None
    preferences: JsonValue


class UserCard(TypedDict, closed=True):
    id: str
    profile: ProfileBio | None
    posts: list[PostCard]


class OnlyId(TypedDict, total=False, closed=True):
    id: int


async def reads(db: Client) -> None:
    user = await db.user.find_unique(where={"email": "a@x.io"})
    assert_type(user, User | None)
    if user is not None:
        assert_type(user["email"], str)
        assert_type(user["name"], str | None)
        assert_type(user["createdAt"], datetime.datetime)
        assert_type(user["role"], Literal["USER", "EDITOR", "ADMIN"])
    found = await db.user.find_unique_or_raise(where={"id": "u1"}, include={"posts": True})
    assert_type(found, User)
    assert_type(found.get("posts"), list[Post] | None)
    posts = await db.post.find_many(
        where={
            "title": {"contains": "sql", "mode": "insensitive"},
            "views": {"gte": 10, "not": {"in": [1, 2]}},
            "status": {"in": ["DRAFT", "PUBLISHED"]},
            "publishedAt": None,
            "author": {"is": {"email": {"endsWith": "@x.io"}}},
            "tags": {"some": {"slug": "python"}},
            "OR": [{"categoryId": None}, {"category": {"slug": "news"}}],
            "NOT": {"createdAt": {"lt": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)}},
        },
        order_by=[
            {"publishedAt": {"sort": "desc", "nulls": "last"}},
            {"comments": {"_count": "asc"}},
        ],
        take=10,
        skip=0,
        cursor={"id": 5},
        distinct=["authorId"],
        select={"id": True, "author": {"select": {"email": True}}, "_count": True},
    )
    assert_type(posts, list[Post])
    first = await db.comment.find_first(where={"replies": {"none": {}}}, order_by={"id": "asc"})
    assert_type(first, Comment | None)
    assert_type(await db.post.count(where={"status": "PUBLISHED"}), int)
    rows = await db.query_raw("SELECT 1 AS one")
    assert_type(rows, list[dict[str, Any]])
    assert_type(await db.post.query_raw('SELECT * FROM "Post" WHERE "views" > $1', 10), list[Post])


async def narrowed(db: Client) -> None:
    cards = await db.post.find_many(where={"views": {"gt": 0}}, take=5, select=PostCard)
    assert_type(cards, list[PostCard])
    assert_type(cards[0]["author"]["email"], str)
    assert_type(cards[0]["tags"][0]["name"], str)
    assert_type(cards[0]["_count"]["comments"], int)
    assert_type(cards[0]["publishedAt"], datetime.datetime | None)
    user = await db.user.find_unique(where={"id": "u1"}, select=UserCard)
    assert_type(user, UserCard | None)
    if user is not None:
        assert_type(user["posts"][0]["status"], Literal["DRAFT", "PUBLISHED", "ARCHIVED"])
        if user["profile"] is not None:
            assert_type(user["profile"]["bio"], str | None)
    assert_type(await db.post.find_unique_or_raise(where={"id": 1}, select=OnlyId), OnlyId)
    assert_type(await db.post.find_first(select=PostCard), PostCard | None)
    assert_type(await db.post.find_first_or_raise(select=OnlyId), OnlyId)
    created = await db.post.create(
        data={"title": "t", "content": "c", "authorId": "u"}, select=OnlyId
    )
    assert_type(created, OnlyId)
    assert_type(await db.post.update(where={"id": 1}, data={"views": 2}, select=PostCard), PostCard)
    assert_type(
        await db.user.upsert(where={"id": "u"}, create={"email": "e"}, update={}, select=UserCard),
        UserCard,
    )
    assert_type(await db.post.delete(where={"id": 1}, select=OnlyId), OnlyId)
    # A select dict still works; the static type stays the model's.
    assert_type(await db.post.find_many(select={"id": True}), list[Post])


async def aggregates(db: Client) -> None:
    stats = await db.post.aggregate(
        where={"status": "PUBLISHED"},
        _count=True,
        _avg={"views": True},
        _sum={"views": True, "id": True},
        _min={"publishedAt": True, "title": True},
        _max={"status": True},
    )
    assert_type(stats, AggregatePost[int])
    if "_count" in stats:
        assert_type(stats["_count"], int)
    assert_type(stats.get("_avg", {}).get("views"), float | None)
    assert_type(stats.get("_sum", {}).get("views"), int | None)
    assert_type(stats.get("_min", {}).get("publishedAt"), datetime.datetime | None)
    assert_type(stats.get("_max", {}).get("status"), PostStatus | None)
    counted = await db.post.aggregate(_count={"_all": True, "publishedAt": True}, take=10)
    assert_type(counted, AggregatePost[PostCountAggregateOutputType])
    assert_type(counted.get("_count", {}).get("_all"), int | None)
    groups = await db.post.group_by(
        by=["status", "authorId"],
        where={"views": {"gte": 0}},
        having={"views": {"_avg": {"gt": 1}}, "status": {"in": ["DRAFT"]}},
        order_by=[{"status": "asc"}, {"_count": {"views": "desc"}}],
        take=10,
        skip=0,
        _count=True,
        _max={"views": True},
    )
    assert_type(groups, list[PostGroupByOutputType[int]])
    for group in groups:
        assert_type(group.get("status"), PostStatus | None)
        assert_type(group.get("_count"), int | None)
        assert_type(group.get("_max", {}).get("views"), int | None)
    by_one = await db.user.group_by(by="role", _count={"_all": True})
    assert_type(by_one[0].get("_count", {}).get("_all"), int | None)
    assert_type(
        await db.user.count(select={"_all": True, "name": True}), UserCountAggregateOutputType
    )
    assert_type(await db.user.count(), int)


async def writes(db: Client) -> None:
    data: UserCreateInput = {
        "email": "a@x.io",
        "posts": {
            "create": [{"title": "t", "content": "c", "tags": {"connect": {"slug": "py"}}}],
        },
        "profile": {"connectOrCreate": {"where": {"userId": "u1"}, "create": {"bio": "hi"}}},
    }
    user = await db.user.create(data=data)
    assert_type(user, User)
    post = await db.post.create(data={"title": "t", "content": "c", "authorId": user["id"]})
    assert_type(post, Post)
    await db.post.update(
        where={"id": post["id"]},
        data={"views": {"increment": 1}, "status": "PUBLISHED", "category": {"disconnect": True}},
    )
    await db.user.upsert(
        where={"email": "b@x.io"},
        create={"email": "b@x.io"},
        update={"name": {"set": None}},
    )
    assert_type(
        await db.tag.create_many(data=[{"name": "a", "slug": "a"}], skip_duplicates=True), int
    )
    assert_type(await db.post.update_many(where={"views": 0}, data={"views": 1}), int)
    assert_type(await db.comment.delete_many(), int)
    assert_type(await db.category.delete(where={"slug": "x"}), Category)
    async with db.tx() as tx:
        assert_type(await tx.userProfile.find_many(), list[UserProfile])
        assert_type(await tx.execute_raw("DELETE FROM tag WHERE id = $1", 1), int)


def sync_usage(where: PostWhereInput) -> None:
    with SyncClient() as db:
        assert_type(db.post.find_many(where=where), list[Post])
        assert_type(db.post.find_many(where=where, select=PostCard), list[PostCard])
        assert_type(db.post.aggregate(_count=True), AggregatePost[int])
        assert_type(db.post.group_by(by="status", _count=True), list[PostGroupByOutputType[int]])
        assert_type(db.userSession.count(), int)
        assert_type(db.user.query_raw("SELECT * FROM users"), list[User])
        with db.tx() as tx:
            assert_type(tx.post.find_first(where=where), Post | None)
    assert_type(Decimal("1"), Decimal)
