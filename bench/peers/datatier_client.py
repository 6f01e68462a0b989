"""datatier itself as a subject of the client workloads: ``datatier.Client`` on its own pool."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.peers.blog import MANY, NESTED_POSTS, NESTED_USERS
from datatier import Client

NESTED_SELECT: dict[str, Any] = {
    "id": True,
    "email": True,
    "posts": {
        "take": NESTED_POSTS,
        "orderBy": {"createdAt": "desc"},
        "select": {"id": True, "title": True, "_count": {"select": {"comments": True}}},
    },
}


class DatatierPeer:
    """``await db.post.find_unique(...)`` and friends, exactly as a user writes them."""

    subject = "datatier"
    operation = "Client"

    def __init__(self, db: Client) -> None:
        self.db = db

    @classmethod
    async def open(cls, schema: Path, url: str) -> DatatierPeer:
        db = Client(schema, url)
        await db.connect()
        return cls(db)

    async def find_unique(self, post_id: int) -> object:
        return await self.db.post.find_unique(where={"id": post_id})

    async def find_many_1000(self) -> object:
        return await self.db.post.find_many(order_by={"createdAt": "desc"}, take=MANY)

    async def nested(self) -> object:
        return await self.db.user.find_many(
            take=NESTED_USERS, order_by={"email": "asc"}, select=NESTED_SELECT
        )

    def plain(self, workload: str, result: object) -> Any:
        return result

    async def close(self) -> None:
        await self.db.close()
