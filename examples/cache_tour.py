"""The cache on the demo schema: run `python examples/cache_tour.py [DATABASE_URL [REDIS_URL]]`.

Without a URL it uses a fresh SQLite file in a temporary folder and the memory tier only;
with a Redis URL the Redis tier sits behind the memory tier and is shared by processes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from datatier import Client
from datatier.cache import cache_status
from datatier.migrate._push import push

SCHEMA = Path(__file__).resolve().parents[1] / "datatier" / "demo" / "schema.prisma"


async def tour(url: str, redis: str | None) -> None:
    settings: dict[str, Any] = {"ttl": 30, "swr": 10, "models": {"UserSession": False}}
    if redis is not None:
        settings.update(redis=redis, namespace="cache-tour")
    db = Client(SCHEMA, url, cache=settings)
    push(db.schema, url)
    async with db:
        assert db.cache is not None
        status: list[str] = []
        cache_status.set(status)  # the API does this per request for X-Cache

        ann = await db.user.create(data={"email": "ann@example.com", "name": "Ann"})
        await db.user.find_unique(where={"id": ann["id"]})  # MISS: read and stored
        await db.user.find_unique(where={"id": ann["id"]})  # HIT: from memory
        print("reads:", " ".join(status))

        # Write-through: the update's change event is applied before update() returns.
        await db.user.update(where={"id": ann["id"]}, data={"name": "Ann B."})
        fresh = await db.user.find_unique(where={"id": ann["id"]})
        print("after the update:", fresh["name"] if fresh else None)

        # Queries depend on every model they read: a new post invalidates this include.
        query = {"where": {"id": ann["id"]}, "include": {"posts": True}}
        before = await db.user.find_unique(**query)
        await db.post.create(
            data={"title": "Hello", "content": "...", "author": {"connect": {"id": ann["id"]}}}
        )
        after = await db.user.find_unique(**query)
        print(
            "posts before/after:",
            len(before["posts"]) if before else 0,
            len(after["posts"]) if after else 0,
        )

        # Per call: bypass, or other freshness.
        await db.user.find_many(cache=False)
        await db.user.find_many(take=10, cache={"ttl": 5})
        print("memory hits:", db.cache.metrics.get("hits", "memory"))
        print("applied change events up to seq", db.cache.versions.applied)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else None
    redis = sys.argv[2] if len(sys.argv) > 2 else None
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            asyncio.run(tour(f"file:{folder}/cache_tour.db", redis))
    else:
        asyncio.run(tour(url, redis))


if __name__ == "__main__":
    main()
