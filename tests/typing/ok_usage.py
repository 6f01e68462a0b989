"""Correct uses of the generated blog (demo schema) client: mypy --strict and pyright accept
every line and every ``assert_type``. Never run; only type-checked."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal, assert_type

from tests.golden.codegen.demo import (
    Category,
    Client,
    Comment,
    Post,
    PostWhereInput,
    SyncClient,
    User,
    UserCreateInput,
    UserProfile,
)


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
        assert_type(db.userSession.count(), int)
        with db.tx() as tx:
            assert_type(tx.post.find_first(where=where), Post | None)
    assert_type(Decimal("1"), Decimal)
