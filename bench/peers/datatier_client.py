"""datatier itself as a subject of the client workloads: ``datatier.Client`` on its own pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.datagen.blog_db import WRITER_ID
from bench.peers.blog import (
    FEW,
    MANY,
    MIN_VIEWS,
    NESTED_POSTS,
    NESTED_USERS,
    PAGE,
    category,
    new_post,
    updated_post,
)
from datatier import Client

POOL_SIZE = 10
NESTED_SELECT: dict[str, Any] = {
    "id": True,
    "email": True,
    "posts": {
        "take": NESTED_POSTS,
        "orderBy": {"createdAt": "desc"},
        "select": {"id": True, "title": True, "_count": {"select": {"comments": True}}},
    },
}
LATEST = {"createdAt": "desc"}
PAGE_WHERE = {"status": "PUBLISHED", "views": {"gte": MIN_VIEWS}}


class DatatierPeer:
    """``await db.post.find_unique(...)`` and friends, exactly as a user writes them."""

    subject = "datatier"
    operation = "Client"

    def __init__(self, db: Client) -> None:
        self.db = db

    @classmethod
    async def open(cls, schema: Path, url: str) -> DatatierPeer:
        db = Client(schema, url, pool_size=POOL_SIZE)
        await db.connect()
        return cls(db)

    async def find_unique(self, post_id: int) -> object:
        return await self.db.post.find_unique(where={"id": post_id})

    async def find_many_50(self, _arg: int) -> object:
        return await self.db.post.find_many(order_by=LATEST, take=FEW)

    async def find_many_1000(self, _arg: int) -> object:
        return await self.db.post.find_many(order_by=LATEST, take=MANY)

    async def filter_page(self, cursor: int) -> object:
        return await self.db.post.find_many(
            where=PAGE_WHERE,
            order_by={"publishedAt": "desc"},
            cursor={"id": cursor},
            skip=1,
            take=PAGE,
        )

    async def nested(self, _arg: int) -> object:
        return await self.db.user.find_many(
            take=NESTED_USERS, order_by={"email": "asc"}, select=NESTED_SELECT
        )

    async def create_post(self, n: int) -> object:
        post = new_post(n)
        writer = {"connect": {"id": WRITER_ID}}
        return await self.db.post.create(
            data={
                "title": post.title,
                "content": post.content,
                "status": "PUBLISHED",
                "author": writer,
                "tags": {"connect": [{"id": tag} for tag in post.tags]},
                "comments": {
                    "create": [{"content": text, "author": writer} for text in post.comments]
                },
            }
        )

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        return await self.db.post.update(
            where={"id": post_id}, data={"title": title, "views": views}
        )

    async def upsert_category(self, k: int) -> object:
        name, slug = category(k)
        return await self.db.category.upsert(
            where={"slug": slug}, create={"name": name, "slug": slug}, update={"name": name}
        )

    async def increment_views(self, post_id: int) -> object:
        row = await self.db.post.update(
            where={"id": post_id}, data={"views": {"increment": 1}}, select={"views": True}
        )
        return row["views"]

    def plain(self, workload: str, result: object) -> Any:
        return result

    async def close(self) -> None:
        await self.db.close()
