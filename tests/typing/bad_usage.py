"""Mistakes the generated client's types must catch: each line ending in an ``E`` comment
(what is wrong) must get an error from mypy and from pyright, and no other line may.
Never run; only type-checked."""

from __future__ import annotations

from typing_extensions import TypedDict

from tests.golden.codegen.demo import Client, SyncClient


class PostTitle(TypedDict, closed=True):
    title: str


class WrongType(TypedDict, closed=True):
    title: int


class NoSuchField(TypedDict, closed=True):
    titel: str


class WrongTag(TypedDict, closed=True):
    name: bytes


class WrongNested(TypedDict, closed=True):
    tags: list[WrongTag]


class ToOneAsList(TypedDict, closed=True):
    author: list[PostTitle]


class NotClosed(TypedDict):
    title: str


class WrongCount(TypedDict, closed=True):
    author: int


async def mistakes(db: Client) -> None:
    await db.user.find_many(where={"emial": "a@x.io"})  # E: misspelled field in where
    await db.post.find_many(where={"views": {"gte": "ten"}})  # E: wrong value type for a filter
    await db.post.find_many(where={"title": {"startswith": "a"}})  # E: operator spelled wrongly
    await db.user.find_many(limit=10)  # E: unknown method keyword argument
    print([row["email"] for row in await db.post.query_raw("SELECT * FROM users")])  # E: Post rows
    await db.tag.create(data={"name": 1, "slug": "s"})  # E: wrong type in create data
    await db.tag.create(data={"name": "n"})  # E: missing required create field
    await db.user.find_unique(where={"id": "u"}, take=1)  # E: find_unique takes no take
    await db.post.find_many(order_by={"title": "up"})  # E: sort order is asc or desc
    await db.user.update(where={"id": "u"}, data={"role": "OWNER"})  # E: not an enum value
    await db.post.update(where={"id": 1}, data={"views": {"add": 1}})  # E: unknown atomic operation
    count: str = await db.post.count()  # E: count returns int
    print(count)
    await db.nobody.find_many()  # E: no such model accessor
    titles = await db.post.find_many(select=PostTitle)
    titles[0]["views"]  # E: a field the select class does not name
    views: int = titles[0]["title"]  # E: a selected field read as the wrong type
    print(views)
    await db.post.find_many(select=WrongType)  # E: select class field of the wrong type
    await db.post.find_many(select=NoSuchField)  # E: select class names no field of the model
    await db.post.find_many(select=WrongNested)  # E: nested select class field of the wrong type
    await db.post.find_many(select=ToOneAsList)  # E: a to-one relation declared as a list
    await db.post.find_many(select=NotClosed)  # E: a select class must be closed
    await db.post.find_many(select=PostTitle, include={"author": True})  # E: select or include
    await db.user.find_many(select=PostTitle)  # E: a select class of another model
    await db.post.aggregate(_sum={"title": True})  # E: _sum of a string field
    await db.post.aggregate(_avg={"publishedAt": True})  # E: _avg of a date field
    await db.post.aggregate(_min={"nope": True})  # E: _min of an unknown field
    await db.post.group_by(by=["statsu"])  # E: by a misspelled field
    await db.post.group_by(by="author")  # E: by a relation
    await db.post.group_by(by="status", having={"views": {"_avg": {"gt": "x"}}})  # E: having value
    await db.post.group_by(by="status", order_by={"_sum": {"title": "asc"}})  # E: _sum of text
    stats = await db.post.aggregate(_count=True)
    stats.get("_count", 0).bit_length()
    stats.get("_avg", {})["title"]  # E: _avg has number fields only
    grouped = await db.post.group_by(by="status", _count={"_all": True})
    grouped[0].get("_count", {}).bit_length()  # E: _count is per field here, not a number
    await db.post.count(select={"author": True})  # E: count select takes scalar fields
    await db.post.aggregate(_count=True, select=PostTitle)  # E: aggregate takes no select


def sync_mistakes(db: SyncClient) -> None:
    user = db.user.find_unique(where={"id": "u"})
    user["email"]  # E: the result may be None
    db.post.find_many(select=WrongType)  # E: select class field of the wrong type (sync)
