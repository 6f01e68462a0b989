"""Raw asyncpg: the floor. Hand-written SQL, prepared once on one connection; and the same via a pool.

The SQL here is the best we know for each operation, and the psycopg peer and
pgbench run the same texts. ``NESTED_SQL`` is one statement: the 20 users, a
LATERAL per user for its 10 latest posts (the ``(authorId, createdAt DESC)``
index), a correlated count per post, all folded by ``json_agg`` into ONE JSON
document that ``orjson`` decodes into datatier's dict shape. ``create_post`` is one
transaction of three prepared inserts (post, tag links, comments). Parameters
appear in the order of their numbers, once each (so ``$n`` -> ``%s`` gives psycopg's).

The floor keeps one connection for sequential calls; under contention it takes one of
``CONCURRENT`` connections per call, each with its own prepared statements.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import orjson

from bench.datagen.blog_db import WRITER_ID
from bench.peers.blog import (
    CREATE_POST,
    FEW,
    FILTER_PAGE,
    FIND_MANY,
    FIND_MANY_50,
    FIND_UNIQUE,
    MANY,
    MIN_VIEWS,
    NESTED,
    NESTED_POSTS,
    NESTED_USERS,
    PAGE,
    POST_FIELDS,
    UPDATE_POST,
    UPSERT,
    category,
    new_post,
    now_utc,
    plain_post,
    updated_post,
    utc,
)

CONCURRENT = 8
_COLUMNS = ", ".join(f'"{name}"' for name in POST_FIELDS)
FIND_UNIQUE_SQL = f'SELECT {_COLUMNS} FROM "Post" WHERE "id" = $1'
FIND_MANY_50_SQL = f'SELECT {_COLUMNS} FROM "Post" ORDER BY "createdAt" DESC LIMIT {FEW}'
FIND_MANY_SQL = f'SELECT {_COLUMNS} FROM "Post" ORDER BY "createdAt" DESC LIMIT {MANY}'
FILTER_PAGE_SQL = (
    f'SELECT {_COLUMNS} FROM "Post" WHERE "status" = \'PUBLISHED\' AND "views" >= {MIN_VIEWS} '
    'AND "publishedAt" < (SELECT "publishedAt" FROM "Post" WHERE "id" = $1) '
    f'ORDER BY "publishedAt" DESC LIMIT {PAGE}'
)
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
INSERT_POST_SQL = (
    'INSERT INTO "Post" ("authorId", "title", "content", "status", "views", "createdAt", '
    f"\"updatedAt\") VALUES ($1, $2, $3, 'PUBLISHED', 0, $4, $5) RETURNING {_COLUMNS}"
)
LINK_TAGS_SQL = 'INSERT INTO "_PostToTag" ("A", "B") SELECT $1, unnest($2::int[])'
INSERT_COMMENTS_SQL = (
    'INSERT INTO "Comment" ("postId", "authorId", "content", "createdAt") '
    "SELECT $1, $2, unnest($3::text[]), $4"
)
UPDATE_POST_SQL = (
    'UPDATE "Post" SET "title" = $1, "views" = $2, "updatedAt" = $3 WHERE "id" = $4 '
    f"RETURNING {_COLUMNS}"
)
UPSERT_SQL = (
    'INSERT INTO "Category" ("name", "slug") VALUES ($1, $2) ON CONFLICT ("slug") '
    'DO UPDATE SET "name" = EXCLUDED."name" RETURNING "id", "name", "slug", "parentId"'
)
INCREMENT_SQL = (
    'UPDATE "Post" SET "views" = "views" + 1, "updatedAt" = $1 WHERE "id" = $2 RETURNING "views"'
)
READ_SQL = {
    FIND_UNIQUE: FIND_UNIQUE_SQL,
    FIND_MANY_50: FIND_MANY_50_SQL,
    FIND_MANY: FIND_MANY_SQL,
    FILTER_PAGE: FILTER_PAGE_SQL,
    NESTED: NESTED_SQL,
}
WRITE_SQL = (INSERT_POST_SQL, LINK_TAGS_SQL, INSERT_COMMENTS_SQL, UPDATE_POST_SQL, UPSERT_SQL)


def plain_result(workload: str, result: Any) -> Any:
    """A result of these peers (asyncpg ``Record``s, decoded JSON) in datatier's shape."""
    if workload in (FIND_UNIQUE, CREATE_POST, UPDATE_POST):
        return None if result is None else plain_post(result)
    if workload in (FIND_MANY_50, FIND_MANY, FILTER_PAGE):
        return [plain_post(row) for row in result]
    if workload == UPSERT:
        return {key: utc(value) for key, value in dict(result).items()}
    return result


class _Prepared:
    """One connection with every statement prepared."""

    def __init__(self, conn: asyncpg.Connection, statements: dict[str, Any]) -> None:
        self.conn = conn
        self.s = statements

    @classmethod
    async def open(cls, url: str) -> _Prepared:
        conn = await asyncpg.connect(url)
        texts = (*READ_SQL.values(), *WRITE_SQL, INCREMENT_SQL)
        return cls(conn, {sql: await conn.prepare(sql) for sql in texts})


class PreparedPeer:
    """One connection, each statement prepared once (``conn.prepare``); records as asyncpg returns them."""

    subject = "asyncpg"
    operation = "prepared, one connection"

    def __init__(self, connections: list[_Prepared]) -> None:
        self._one = connections[0]
        self._s = connections[0].s
        self._all = connections
        self._idle: asyncio.LifoQueue[_Prepared] = asyncio.LifoQueue()
        for connection in connections:
            self._idle.put_nowait(connection)

    @classmethod
    async def open(cls, url: str) -> PreparedPeer:
        return cls([await _Prepared.open(url) for _ in range(CONCURRENT)])

    async def find_unique(self, post_id: int) -> object:
        return await self._s[FIND_UNIQUE_SQL].fetchrow(post_id)

    async def find_many_50(self, _arg: int) -> object:
        return await self._s[FIND_MANY_50_SQL].fetch()

    async def find_many_1000(self, _arg: int) -> object:
        return await self._s[FIND_MANY_SQL].fetch()

    async def filter_page(self, cursor: int) -> object:
        return await self._s[FILTER_PAGE_SQL].fetch(cursor)

    async def nested(self, _arg: int) -> object:
        return orjson.loads(await self._s[NESTED_SQL].fetchval())

    async def create_post(self, n: int) -> object:
        post, now = new_post(n), now_utc()
        async with self._one.conn.transaction():
            row = await self._s[INSERT_POST_SQL].fetchrow(
                WRITER_ID, post.title, post.content, now, now
            )
            await self._s[LINK_TAGS_SQL].fetch(row["id"], list(post.tags))
            await self._s[INSERT_COMMENTS_SQL].fetch(row["id"], WRITER_ID, list(post.comments), now)
        return row

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        return await self._s[UPDATE_POST_SQL].fetchrow(title, views, now_utc(), post_id)

    async def upsert_category(self, k: int) -> object:
        return await self._s[UPSERT_SQL].fetchrow(*category(k))

    async def increment_views(self, post_id: int) -> object:
        connection = await self._idle.get()
        try:
            return await connection.s[INCREMENT_SQL].fetchval(now_utc(), post_id)
        finally:
            self._idle.put_nowait(connection)

    def plain(self, workload: str, result: object) -> Any:
        return plain_result(workload, result)

    async def close(self) -> None:
        for connection in self._all:
            await connection.conn.close()


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

    async def find_many_50(self, _arg: int) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetch(FIND_MANY_50_SQL)

    async def find_many_1000(self, _arg: int) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetch(FIND_MANY_SQL)

    async def filter_page(self, cursor: int) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetch(FILTER_PAGE_SQL, cursor)

    async def nested(self, _arg: int) -> object:
        async with self._pool.acquire() as conn:
            return orjson.loads(await conn.fetchval(NESTED_SQL))

    async def create_post(self, n: int) -> object:
        post, now = new_post(n), now_utc()
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                INSERT_POST_SQL, WRITER_ID, post.title, post.content, now, now
            )
            assert row is not None  # INSERT ... RETURNING gives the row
            await conn.execute(LINK_TAGS_SQL, row["id"], list(post.tags))
            await conn.execute(INSERT_COMMENTS_SQL, row["id"], WRITER_ID, list(post.comments), now)
        return row

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        async with self._pool.acquire() as conn:
            return await conn.fetchrow(UPDATE_POST_SQL, title, views, now_utc(), post_id)

    async def upsert_category(self, k: int) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetchrow(UPSERT_SQL, *category(k))

    async def increment_views(self, post_id: int) -> object:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(INCREMENT_SQL, now_utc(), post_id)

    def plain(self, workload: str, result: object) -> Any:
        return plain_result(workload, result)

    async def close(self) -> None:
        await self._pool.close()
