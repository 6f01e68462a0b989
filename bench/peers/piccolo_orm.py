"""Piccolo ORM (its asyncpg pool): the query builder as Piccolo's documentation writes it, rows as dicts.

Reads are ``Post.select()...``; ``filter_page`` reads the cursor's ``publishedAt``
first (two queries); ``nested`` is three queries (users, their posts newest first,
comment counts grouped by post), Python keeping 10 posts per user. Writes: an insert
returning the post, the tag links and the comments in one ``engine.transaction()``;
``update(...).returning``; ``insert(...).on_conflict(DO UPDATE)``; ``update`` with
``Post.views + 1`` returning the new value.
"""

from __future__ import annotations

import importlib
from typing import Any

from bench.datagen.blog_db import WRITER_ID
from bench.peers._site import INSTALL_HINT, activate
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
    UPDATE_POST,
    UPSERT,
    category,
    new_post,
    now_utc,
    plain_post,
    updated_post,
)

POOL_SIZE = 10


class PiccoloPeer:
    """Piccolo's ``PostgresEngine`` with a connection pool of ``POOL_SIZE``."""

    subject = "piccolo"
    operation = "ORM"

    def __init__(self, engine: Any, tables: Any, count: Any) -> None:
        self._engine = engine
        self._t = tables
        self._count = count
        post = tables.Post
        self._latest = post.createdAt

    @classmethod
    async def open(cls, url: str) -> PiccoloPeer:
        activate()
        try:
            engine_class = importlib.import_module("piccolo.engine.postgres").PostgresEngine
            count = importlib.import_module("piccolo.query.functions.aggregate").Count
            tables = importlib.import_module("bench.peers._piccolo_tables")
        except ImportError as exc:
            raise ImportError(f"{exc} ({INSTALL_HINT})") from exc
        engine = engine_class(config={"dsn": url})
        await engine.start_connection_pool(min_size=1, max_size=POOL_SIZE)
        return cls(engine, tables.make_tables(engine), count)

    async def find_unique(self, post_id: int) -> object:
        post = self._t.Post
        return await post.select().where(post.id == post_id).first()

    async def find_many_50(self, _arg: int) -> object:
        post = self._t.Post
        return await post.select().order_by(post.createdAt, ascending=False).limit(FEW)

    async def find_many_1000(self, _arg: int) -> object:
        post = self._t.Post
        return await post.select().order_by(post.createdAt, ascending=False).limit(MANY)

    async def filter_page(self, cursor: int) -> object:
        post = self._t.Post
        at = await post.select(post.publishedAt).where(post.id == cursor).first()
        return (
            await post.select()
            .where(
                (post.status == "PUBLISHED")
                & (post.views >= MIN_VIEWS)
                & (post.publishedAt < at["publishedAt"])
            )
            .order_by(post.publishedAt, ascending=False)
            .limit(PAGE)
        )

    async def nested(self, _arg: int) -> object:
        user, post, comment = self._t.User, self._t.Post, self._t.Comment
        users = await user.select(user.id, user.email).order_by(user.email).limit(NESTED_USERS)
        posts = (
            await post.select(post.id, post.title, post.authorId)
            .where(post.authorId.is_in([u["id"] for u in users]))
            .order_by(post.createdAt, ascending=False)
        )
        by_author: dict[str, list[dict[str, Any]]] = {u["id"]: [] for u in users}
        for row in posts:
            if len(kept := by_author[row["authorId"]]) < NESTED_POSTS:
                kept.append(row)
        ids = [row["id"] for rows in by_author.values() for row in rows]
        counts = (
            await comment.select(comment.postId, self._count(alias="count"))
            .where(comment.postId.is_in(ids))
            .group_by(comment.postId)
        ) if ids else []  # fmt: skip
        return users, by_author, {row["postId"]: row["count"] for row in counts}

    async def create_post(self, n: int) -> object:
        post, links, comment = self._t.Post, self._t.PostToTag, self._t.Comment
        new, now = new_post(n), now_utc()
        async with self._engine.transaction():
            rows = await post.insert(
                post(authorId=WRITER_ID, title=new.title, content=new.content,
                     status="PUBLISHED", views=0, createdAt=now, updatedAt=now)
            ).returning(*post.all_columns())  # fmt: skip
            post_id = rows[0]["id"]
            await links.insert(*(links(A=post_id, B=tag) for tag in new.tags))
            await comment.insert(
                *(comment(postId=post_id, authorId=WRITER_ID, content=text, createdAt=now)
                  for text in new.comments)
            )  # fmt: skip
        return rows[0]

    async def update_post(self, post_id: int) -> object:
        post = self._t.Post
        title, views = updated_post(post_id)
        rows = (
            await post.update({post.title: title, post.views: views, post.updatedAt: now_utc()})
            .where(post.id == post_id)
            .returning(*post.all_columns())
        )
        return rows[0] if rows else None

    async def upsert_category(self, k: int) -> object:
        table = self._t.Category
        name, slug = category(k)
        rows = (
            await table.insert(table(name=name, slug=slug))
            .on_conflict(target=table.slug, action="DO UPDATE", values=[table.name])
            .returning(*table.all_columns())
        )
        return rows[0]

    async def increment_views(self, post_id: int) -> object:
        post = self._t.Post
        rows = (
            await post.update({post.views: post.views + 1, post.updatedAt: now_utc()})
            .where(post.id == post_id)
            .returning(post.views)
        )
        return rows[0]["views"]

    def plain(self, workload: str, result: Any) -> Any:
        if workload in (FIND_UNIQUE, CREATE_POST, UPDATE_POST):
            return None if result is None else plain_post(result)
        if workload in (FIND_MANY_50, FIND_MANY, FILTER_PAGE):
            return [plain_post(row) for row in result]
        if workload == UPSERT:
            return dict(result)
        if workload == NESTED:
            users, by_author, counts = result
            return [
                {
                    "id": u["id"],
                    "email": u["email"],
                    "posts": [
                        {"id": p["id"], "title": p["title"],
                         "_count": {"comments": counts.get(p["id"], 0)}}
                        for p in by_author[u["id"]]
                    ],
                }
                for u in users
            ]  # fmt: skip
        return result

    async def close(self) -> None:
        await self._engine.close_connection_pool()
