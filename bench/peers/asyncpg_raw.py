"""Raw asyncpg: the floor. Hand-written SQL, prepared once on one connection; and the same via a pool.

``nested`` is the best single statement we know for the nested read: the 20 users,
a LATERAL per user for its 10 latest posts (the ``(authorId, createdAt DESC)``
index), a correlated count per post, all folded by ``json_agg`` into ONE JSON
document that ``orjson`` decodes into datatier's dict shape.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from bench.peers.blog import (
    FIND_MANY,
    FIND_UNIQUE,
    MANY,
    NESTED_POSTS,
    NESTED_USERS,
    POST_FIELDS,
    plain_post,
)

_COLUMNS = ", ".join(f'"{name}"' for name in POST_FIELDS)
FIND_UNIQUE_SQL = f'SELECT {_COLUMNS} FROM "Post" WHERE "id" = $1'
FIND_MANY_SQL = f'SELECT {_COLUMNS} FROM "Post" ORDER BY "createdAt" DESC LIMIT {MANY}'
NESTED_SQL = f"""
SELECT coalesce(json_agg(json_build_object('id', u."id", 'email', u."email", 'posts', p.posts)
                         ORDER BY u."email"), '[]'::json)
FROM (SELECT "id", "email" FROM "users" ORDER BY "email" LIMIT {NESTED_USERS}) AS u
CROSS JOIN LATERAL (
    SELECT coalesce(json_agg(json_build_object('id', p."id", 'title', p."title",
                                               '_count', json_build_object('comments', p.comments))
                             ORDER BY p."createdAt" DESC), '[]'::json) AS posts
    FROM (
        SELECT p."id", p."title", p."createdAt",
               (SELECT count(*) FROM "Comment" AS c WHERE c."postId" = p."id") AS comments
        FROM "Post" AS p
        WHERE p."authorId" = u."id"
        ORDER BY p."createdAt" DESC
        LIMIT {NESTED_POSTS}
    ) AS p
) AS p
"""


def _plain(workload: str, result: object) -> Any:
    if workload == FIND_UNIQUE:
        return None if result is None else plain_post(result)  # type: ignore[arg-type]
    if workload == FIND_MANY:
        return [plain_post(row) for row in result]  # type: ignore[attr-defined]
    return result


class PreparedPeer:
    """One connection, each statement prepared once (``conn.prepare``); records as asyncpg returns them."""

    subject = "asyncpg"
    operation = "prepared, one connection"

    def __init__(self, conn: asyncpg.Connection, statements: dict[str, Any]) -> None:
        self._conn = conn
        self._unique = statements[FIND_UNIQUE_SQL]
        self._many = statements[FIND_MANY_SQL]
        self._nested = statements[NESTED_SQL]

    @classmethod
    async def open(cls, url: str) -> PreparedPeer:
        conn = await asyncpg.connect(url)
        statements = {
            sql: await conn.prepare(sql) for sql in (FIND_UNIQUE_SQL, FIND_MANY_SQL, NESTED_SQL)
        }
        return cls(conn, statements)

    async def find_unique(self, post_id: int) -> object:
        return await self._unique.fetchrow(post_id)

    async def find_many_1000(self) -> object:
        return await self._many.fetch()

    async def nested(self) -> object:
        return orjson.loads(await self._nested.fetchval())

    def plain(self, workload: str, result: object) -> Any:
        return _plain(workload, result)

    async def close(self) -> None:
        await self._conn.close()


class PoolPeer:
    """``asyncpg.create_pool``: acquire, ``fetchrow``/``fetch`` (its statement cache), release."""

    subject = "asyncpg"
    operation = "pool"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PoolPeer:
        return cls(await asyncpg.create_pool(url, min_size=1, max_size=10))

    async def find_unique(self, post_id: int) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetchrow(FIND_UNIQUE_SQL, post_id)

    async def find_many_1000(self) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetch(FIND_MANY_SQL)

    async def nested(self) -> object:
        async with self._pool.acquire() as conn:
            return orjson.loads(await conn.fetchval(NESTED_SQL))

    def plain(self, workload: str, result: object) -> Any:
        return _plain(workload, result)

    async def close(self) -> None:
        await self._pool.close()
