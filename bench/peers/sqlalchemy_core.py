"""SQLAlchemy 2 Core, async (``postgresql+asyncpg``): statements built from the tables, no ORM.

The tables are the ORM peer's (``Post.__table__`` ...); every statement is built once
with bind parameters and executed on ``engine.connect()`` (reads) or
``engine.begin()`` (writes). ``nested`` is two statements, as Core users write it:
the 20 users, then their posts ranked per author by ``row_number()`` (kept up to 10)
with a correlated comment count.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

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
    UPDATE_POST,
    UPSERT,
    category,
    new_post,
    now_utc,
    plain_post,
    updated_post,
    utc,
)
from bench.peers.sqlalchemy_orm import Category, Comment, Post, User, create_engine, post_tags

post, user, comment, cat = (
    cast(sa.Table, model.__table__) for model in (Post, User, Comment, Category)
)
FIND_UNIQUE_STMT = sa.select(post).where(post.c.id == sa.bindparam("id"))
FIND_MANY_50_STMT = sa.select(post).order_by(post.c.createdAt.desc()).limit(FEW)
FIND_MANY_STMT = sa.select(post).order_by(post.c.createdAt.desc()).limit(MANY)
_CURSOR = sa.select(post.c.publishedAt).where(post.c.id == sa.bindparam("cursor")).scalar_subquery()
FILTER_PAGE_STMT = (
    sa.select(post)
    .where(post.c.status == "PUBLISHED", post.c.views >= MIN_VIEWS, post.c.publishedAt < _CURSOR)
    .order_by(post.c.publishedAt.desc())
    .limit(PAGE)
)
USERS_STMT = sa.select(user.c.id, user.c.email).order_by(user.c.email).limit(NESTED_USERS)
_COUNT = (
    sa.select(sa.func.count())
    .select_from(comment)
    .where(comment.c.postId == post.c.id)
    .scalar_subquery()
)
_RANKED = (
    sa.select(
        post.c.id, post.c.title, post.c.authorId, _COUNT.label("comments"),
        sa.func.row_number().over(partition_by=post.c.authorId,
                                  order_by=post.c.createdAt.desc()).label("rank"),
    )
    .where(post.c.authorId.in_(sa.bindparam("authors", expanding=True)))
    .subquery()
)  # fmt: skip
POSTS_STMT = (
    sa.select(_RANKED.c.id, _RANKED.c.title, _RANKED.c.authorId, _RANKED.c.comments)
    .where(_RANKED.c.rank <= NESTED_POSTS)
    .order_by(_RANKED.c.authorId, _RANKED.c.rank)
)
INSERT_POST_STMT = sa.insert(post).returning(*post.c)
LINK_TAGS_STMT = sa.insert(post_tags)
INSERT_COMMENTS_STMT = sa.insert(comment)
UPDATE_POST_STMT = (
    sa.update(post)
    .where(post.c.id == sa.bindparam("post_id"))
    .values(title=sa.bindparam("title"), views=sa.bindparam("views"),
            updatedAt=sa.bindparam("now"))
    .returning(*post.c)
)  # fmt: skip
_UPSERT = pg_insert(cat).values(name=sa.bindparam("name"), slug=sa.bindparam("slug"))
UPSERT_STMT = _UPSERT.on_conflict_do_update(
    index_elements=[cat.c.slug], set_={"name": _UPSERT.excluded.name}
).returning(*cat.c)
INCREMENT_STMT = (
    sa.update(post)
    .where(post.c.id == sa.bindparam("post_id"))
    .values(views=post.c.views + 1, updatedAt=sa.bindparam("now"))
    .returning(post.c.views)
)


class SqlalchemyCorePeer:
    """``async with engine.connect() as conn: (await conn.execute(stmt, params)).first()``."""

    subject = "sqlalchemy"
    operation = "Core, async"

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    @classmethod
    async def open(cls, url: str) -> SqlalchemyCorePeer:
        return cls(create_engine(url))

    async def _all(self, statement: Any, params: dict[str, Any] | None = None) -> Any:
        async with self._engine.connect() as conn:
            return (await conn.execute(statement, params)).all()

    async def find_unique(self, post_id: int) -> object:
        async with self._engine.connect() as conn:
            return (await conn.execute(FIND_UNIQUE_STMT, {"id": post_id})).first()

    async def find_many_50(self, _arg: int) -> object:
        return await self._all(FIND_MANY_50_STMT)

    async def find_many_1000(self, _arg: int) -> object:
        return await self._all(FIND_MANY_STMT)

    async def filter_page(self, cursor: int) -> object:
        return await self._all(FILTER_PAGE_STMT, {"cursor": cursor})

    async def nested(self, _arg: int) -> object:
        async with self._engine.connect() as conn:
            users = (await conn.execute(USERS_STMT)).all()
            posts = (await conn.execute(POSTS_STMT, {"authors": [u.id for u in users]})).all()
        return users, posts

    async def create_post(self, n: int) -> object:
        new, now = new_post(n), now_utc()
        values = {"authorId": WRITER_ID, "title": new.title, "content": new.content,
                  "status": "PUBLISHED", "views": 0, "createdAt": now, "updatedAt": now}  # fmt: skip
        async with self._engine.begin() as conn:
            row = (await conn.execute(INSERT_POST_STMT, values)).one()
            await conn.execute(LINK_TAGS_STMT, [{"A": row.id, "B": tag} for tag in new.tags])
            await conn.execute(
                INSERT_COMMENTS_STMT,
                [{"postId": row.id, "authorId": WRITER_ID, "content": text, "createdAt": now}
                 for text in new.comments],
            )  # fmt: skip
        return row

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        params = {"post_id": post_id, "title": title, "views": views, "now": now_utc()}
        async with self._engine.begin() as conn:
            return (await conn.execute(UPDATE_POST_STMT, params)).first()

    async def upsert_category(self, k: int) -> object:
        name, slug = category(k)
        async with self._engine.begin() as conn:
            return (await conn.execute(UPSERT_STMT, {"name": name, "slug": slug})).first()

    async def increment_views(self, post_id: int) -> object:
        async with self._engine.begin() as conn:
            return (
                await conn.execute(INCREMENT_STMT, {"post_id": post_id, "now": now_utc()})
            ).scalar()

    def plain(self, workload: str, result: Any) -> Any:
        if workload in (FIND_UNIQUE, CREATE_POST, UPDATE_POST):
            return None if result is None else plain_post(result._mapping)
        if workload in (FIND_MANY_50, FIND_MANY, FILTER_PAGE):
            return [plain_post(row._mapping) for row in result]
        if workload == UPSERT:
            return {key: utc(value) for key, value in result._mapping.items()}
        if workload == NESTED:
            users, posts = result
            by_author: dict[str, list[dict[str, Any]]] = {u.id: [] for u in users}
            for p in posts:
                by_author[p.authorId].append(
                    {"id": p.id, "title": p.title, "_count": {"comments": p.comments}}
                )
            return [{"id": u.id, "email": u.email, "posts": by_author[u.id]} for u in users]
        return result

    async def close(self) -> None:
        await self._engine.dispose()
