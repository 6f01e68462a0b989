"""psycopg 3, async: ``psycopg_pool.AsyncConnectionPool`` and the floor's SQL, as psycopg's users write it.

Connections are psycopg's default (not autocommit): a block ``async with
pool.connection()`` is one transaction, committed when it ends. Statements are
prepared by psycopg itself after ``prepare_threshold`` (5) executions, so the timed
calls run prepared. Rows are tuples in column order; ``NESTED_SQL``'s JSON comes
back already decoded by psycopg.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from bench.datagen.blog_db import WRITER_ID
from bench.peers._site import INSTALL_HINT, activate
from bench.peers.asyncpg_raw import (
    CONCURRENT,
    FILTER_PAGE_SQL,
    FIND_MANY_50_SQL,
    FIND_MANY_SQL,
    FIND_UNIQUE_SQL,
    INCREMENT_SQL,
    INSERT_COMMENTS_SQL,
    INSERT_POST_SQL,
    LINK_TAGS_SQL,
    NESTED_SQL,
    UPDATE_POST_SQL,
    UPSERT_SQL,
    plain_result,
)
from bench.peers.blog import POST_FIELDS, category, new_post, now_utc, updated_post

_PLACEHOLDER = re.compile(r"\$\d+")
POOL_SIZE = 10


def to_psycopg(sql: str) -> str:
    """asyncpg's ``$1, $2 ...`` (each once, in order) as psycopg's ``%s``."""
    return _PLACEHOLDER.sub("%s", sql)


_UNIQUE, _FEW, _MANY = map(to_psycopg, (FIND_UNIQUE_SQL, FIND_MANY_50_SQL, FIND_MANY_SQL))
_PAGE, _NESTED, _POST = map(to_psycopg, (FILTER_PAGE_SQL, NESTED_SQL, INSERT_POST_SQL))
_TAGS, _COMMENTS, _UPDATE = map(to_psycopg, (LINK_TAGS_SQL, INSERT_COMMENTS_SQL, UPDATE_POST_SQL))
_UPSERT, _INCREMENT = map(to_psycopg, (UPSERT_SQL, INCREMENT_SQL))
_CATEGORY = ("id", "name", "slug", "parentId")


class PsycopgPeer:
    """``async with pool.connection() as conn: await conn.execute(sql, params)``."""

    subject = "psycopg"
    operation = "async pool"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str) -> PsycopgPeer:
        activate()
        try:
            pool_module = importlib.import_module("psycopg_pool")
        except ImportError as exc:
            raise ImportError(f"{exc} ({INSTALL_HINT})") from exc
        pool = pool_module.AsyncConnectionPool(
            url, min_size=CONCURRENT, max_size=POOL_SIZE, open=False
        )
        await pool.open(wait=True)
        return cls(pool)

    async def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            rows: list[tuple[Any, ...]] = await cursor.fetchall()
            return rows

    async def _one(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
        async with self._pool.connection() as conn:
            cursor = await conn.execute(sql, params)
            row: tuple[Any, ...] | None = await cursor.fetchone()
            return row

    async def find_unique(self, post_id: int) -> object:
        return await self._one(_UNIQUE, (post_id,))

    async def find_many_50(self, _arg: int) -> object:
        return await self._all(_FEW)

    async def find_many_1000(self, _arg: int) -> object:
        return await self._all(_MANY)

    async def filter_page(self, cursor: int) -> object:
        return await self._all(_PAGE, (cursor,))

    async def nested(self, _arg: int) -> object:
        row = await self._one(_NESTED)
        return None if row is None else row[0]

    async def create_post(self, n: int) -> object:
        post, now = new_post(n), now_utc()
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(_POST, (WRITER_ID, post.title, post.content, now, now))
            row = await cursor.fetchone()
            await conn.execute(_TAGS, (row[0], list(post.tags)))
            await conn.execute(_COMMENTS, (row[0], WRITER_ID, list(post.comments), now))
        return row

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        return await self._one(_UPDATE, (title, views, now_utc(), post_id))

    async def upsert_category(self, k: int) -> object:
        return await self._one(_UPSERT, category(k))

    async def increment_views(self, post_id: int) -> object:
        row = await self._one(_INCREMENT, (now_utc(), post_id))
        return None if row is None else row[0]

    def plain(self, workload: str, result: Any) -> Any:
        if isinstance(result, tuple):
            names = _CATEGORY if len(result) == len(_CATEGORY) else POST_FIELDS
            result = dict(zip(names, result, strict=True))
        elif isinstance(result, list) and result and isinstance(result[0], tuple):
            result = [dict(zip(POST_FIELDS, row, strict=True)) for row in result]
        return plain_result(workload, result)

    async def close(self) -> None:
        await self._pool.close()
