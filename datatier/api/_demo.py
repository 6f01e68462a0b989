"""Realistic data for ``datatier serve --demo``: hundreds of users, thousands of posts and
comments, written with ``create_many`` (a few statements, about a second on SQLite).

Fixed seed: every demo database holds the same rows.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from datatier.client import Client

__all__ = ["seed_demo"]

_FIRST = ["Ann", "Bob", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jo", "Kai", "Lu"]
_LAST = ["Smith", "Ng", "Okafor", "Garcia", "Kowalski", "Haddad", "Ivanova", "Sato"]
_WORDS = [
    "schema",
    "query",
    "index",
    "cache",
    "replica",
    "migration",
    "postgres",
    "sqlite",
    "latency",
    "cursor",
    "page",
    "transaction",
    "outbox",
    "webhook",
    "tenant",
    "policy",
    "metric",
    "shard",
    "vacuum",
    "lock",
    "json",
]


async def seed_demo(
    db: Client, *, users: int = 300, posts: int = 3000, comments: int = 9000
) -> bool:
    """Fill an empty demo database; False (and nothing written) when it holds users already."""
    if await db.user.count() > 0:
        return False
    rng = random.Random(2026)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    user_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(users)]
    await db.user.create_many(
        data=[
            {
                "id": uid,
                "email": f"user{i}@example.com",
                "name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                "role": "ADMIN" if i == 0 else "EDITOR" if i % 25 == 0 else "USER",
                "createdAt": start + timedelta(hours=i),
            }
            for i, uid in enumerate(user_ids)
        ]
    )
    await db.category.create_many(
        data=[{"id": i + 1, "name": w.title(), "slug": w} for i, w in enumerate(_WORDS[:8])]
    )
    await db.tag.create_many(
        data=[{"id": i + 1, "name": w, "slug": w} for i, w in enumerate(_WORDS)]
    )
    statuses = ["PUBLISHED"] * 6 + ["DRAFT"] * 3 + ["ARCHIVED"]
    post_rows = []
    for i in range(posts):
        created = start + timedelta(minutes=37 * i)
        status = rng.choice(statuses)
        post_rows.append(
            {
                "id": i + 1,
                "authorId": rng.choice(user_ids),
                "categoryId": rng.randint(1, 8) if rng.random() < 0.8 else None,
                "title": " ".join(rng.sample(_WORDS, 4)).capitalize(),
                "content": " ".join(rng.choices(_WORDS, k=60)),
                "status": status,
                "views": int(rng.paretovariate(1.2) * 10),
                "publishedAt": created if status != "DRAFT" else None,
                "createdAt": created,
            }
        )
    await db.post.create_many(data=post_rows)
    await db.comment.create_many(
        data=[
            {
                "id": i + 1,
                "postId": rng.randint(1, posts),
                "authorId": rng.choice(user_ids),
                "content": " ".join(rng.choices(_WORDS, k=12)),
                "createdAt": start + timedelta(minutes=11 * i),
            }
            for i in range(comments)
        ]
    )
    return True
