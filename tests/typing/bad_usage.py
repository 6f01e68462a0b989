"""Mistakes the generated client's types must catch: each line ending in an ``E`` comment
(what is wrong) must get an error from mypy and from pyright, and no other line may.
Never run; only type-checked."""

from __future__ import annotations

from tests.golden.codegen.demo import Client, SyncClient


async def mistakes(db: Client) -> None:
    await db.user.find_many(where={"emial": "a@x.io"})  # E: misspelled field in where
    await db.post.find_many(where={"views": {"gte": "ten"}})  # E: wrong value type for a filter
    await db.post.find_many(where={"title": {"startswith": "a"}})  # E: operator spelled wrongly
    await db.user.find_many(limit=10)  # E: unknown method keyword argument
    await db.tag.create(data={"name": 1, "slug": "s"})  # E: wrong type in create data
    await db.tag.create(data={"name": "n"})  # E: missing required create field
    await db.user.find_unique(where={"id": "u"}, take=1)  # E: find_unique takes no take
    await db.post.find_many(order_by={"title": "up"})  # E: sort order is asc or desc
    await db.user.update(where={"id": "u"}, data={"role": "OWNER"})  # E: not an enum value
    await db.post.update(where={"id": 1}, data={"views": {"add": 1}})  # E: unknown atomic operation
    count: str = await db.post.count()  # E: count returns int
    print(count)
    await db.nobody.find_many()  # E: no such model accessor


def sync_mistakes(db: SyncClient) -> None:
    user = db.user.find_unique(where={"id": "u"})
    user["email"]  # E: the result may be None
