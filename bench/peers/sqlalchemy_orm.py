"""SQLAlchemy 2 ORM, async (``postgresql+asyncpg``): mapped classes for the blog tables, a session per call.

A fresh ``AsyncSession`` per call, as a web request gets one (a shared session would
answer repeated ``get`` calls from its identity map without touching the database).
``nested`` is what most teams write: users with ``selectinload(User.posts)``, each
post's comment count as a deferred ``column_property`` subquery undeferred for the
read; ``selectinload`` cannot stop at 10 posts per user, so Python keeps the first 10.
Writes as the ORM's users write them: ``session.add`` of a post with its tags (loaded
by id) and comments; ``get`` then change attributes for the update; an ORM-enabled
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` for the upsert; an ORM-enabled
``UPDATE ... SET views = views + 1 RETURNING`` for the increment.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
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
    POST_FIELDS,
    UPDATE_POST,
    UPSERT,
    category,
    new_post,
    now_utc,
    updated_post,
    utc,
)

activate()  # SQLAlchemy's asyncio extension needs greenlet, which may live in bench/.peers

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.dialects.postgresql import insert as pg_insert  # noqa: E402
from sqlalchemy.orm import (  # noqa: E402
    DeclarativeBase,
    Mapped,
    column_property,
    load_only,
    mapped_column,
    relationship,
    selectinload,
    undefer,
)

POOL_SIZE = 10
_STATUS = sa.Enum("DRAFT", "PUBLISHED", "ARCHIVED", name="PostStatus", create_type=False)
_ROLE = sa.Enum("USER", "EDITOR", "ADMIN", name="Role", create_type=False)


class Base(DeclarativeBase):
    pass


post_tags = sa.Table(
    "_PostToTag",
    Base.metadata,
    sa.Column("A", sa.ForeignKey("Post.id"), primary_key=True),
    sa.Column("B", sa.ForeignKey("Tag.id"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(primary_key=True)
    email: Mapped[str]
    name: Mapped[str | None]
    role: Mapped[str] = mapped_column(_ROLE)
    createdAt: Mapped[dt.datetime]
    updatedAt: Mapped[dt.datetime]
    posts: Mapped[list[Post]] = relationship(
        back_populates="author", order_by="desc(Post.createdAt)"
    )


class Tag(Base):
    __tablename__ = "Tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    slug: Mapped[str]


class Category(Base):
    __tablename__ = "Category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    slug: Mapped[str] = mapped_column(unique=True)
    parentId: Mapped[int | None]


class Comment(Base):
    __tablename__ = "Comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    postId: Mapped[int] = mapped_column(sa.ForeignKey("Post.id"))
    authorId: Mapped[str] = mapped_column(sa.ForeignKey("users.id"))
    parentId: Mapped[int | None] = mapped_column(sa.ForeignKey("Comment.id"))
    content: Mapped[str]
    createdAt: Mapped[dt.datetime]


class Post(Base):
    __tablename__ = "Post"

    id: Mapped[int] = mapped_column(primary_key=True)
    authorId: Mapped[str] = mapped_column(sa.ForeignKey("users.id"))
    categoryId: Mapped[int | None]
    title: Mapped[str]
    content: Mapped[str]
    status: Mapped[str] = mapped_column(_STATUS)
    views: Mapped[int]
    publishedAt: Mapped[dt.datetime | None]
    createdAt: Mapped[dt.datetime]
    updatedAt: Mapped[dt.datetime]
    author: Mapped[User] = relationship(back_populates="posts")
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags)
    comments: Mapped[list[Comment]] = relationship()
    comment_count: Mapped[int] = column_property(
        sa.select(sa.func.count(Comment.id))
        .where(Comment.postId == sa.literal_column('"Post"."id"'))
        .scalar_subquery(),
        deferred=True,
    )


FIND_MANY_50_STMT = sa.select(Post).order_by(Post.createdAt.desc()).limit(FEW)
FIND_MANY_STMT = sa.select(Post).order_by(Post.createdAt.desc()).limit(MANY)
_CURSOR = sa.select(Post.publishedAt).where(Post.id == sa.bindparam("cursor")).scalar_subquery()
FILTER_PAGE_STMT = (
    sa.select(Post)
    .where(Post.status == "PUBLISHED", Post.views >= MIN_VIEWS, Post.publishedAt < _CURSOR)
    .order_by(Post.publishedAt.desc())
    .limit(PAGE)
)
NESTED_STMT = (
    sa.select(User)
    .order_by(User.email)
    .limit(NESTED_USERS)
    .options(
        load_only(User.id, User.email),
        selectinload(User.posts).options(
            load_only(Post.id, Post.title, Post.createdAt), undefer(Post.comment_count)
        ),
    )
)


def _increment(post_id: int, now: dt.datetime) -> Any:
    return (
        sa.update(Post)
        .where(Post.id == post_id)
        .values(views=Post.views + 1, updatedAt=now)
        .returning(Post.views)
    )


class SqlalchemyPeer:
    """``AsyncSession.get(Post, id)``, ``select(Post)...``, ``selectinload`` for ``nested``, unit-of-work writes."""

    subject = "sqlalchemy"
    operation = "ORM, AsyncSession"

    def __init__(self, engine: Any, sessions: Any) -> None:
        self._engine = engine
        self._sessions = sessions

    @classmethod
    async def open(cls, url: str) -> SqlalchemyPeer:
        engine = create_engine(url)
        from sqlalchemy.ext.asyncio import async_sessionmaker

        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    async def find_unique(self, post_id: int) -> object:
        async with self._sessions() as session:
            return await session.get(Post, post_id)

    async def find_many_50(self, _arg: int) -> object:
        async with self._sessions() as session:
            return (await session.scalars(FIND_MANY_50_STMT)).all()

    async def find_many_1000(self, _arg: int) -> object:
        async with self._sessions() as session:
            return (await session.scalars(FIND_MANY_STMT)).all()

    async def filter_page(self, cursor: int) -> object:
        async with self._sessions() as session:
            return (await session.scalars(FILTER_PAGE_STMT, {"cursor": cursor})).all()

    async def nested(self, _arg: int) -> object:
        async with self._sessions() as session:
            users = (await session.scalars(NESTED_STMT)).all()
            return [(user, user.posts[:NESTED_POSTS]) for user in users]

    async def create_post(self, n: int) -> object:
        new, now = new_post(n), now_utc()
        async with self._sessions() as session, session.begin():
            tags = (await session.scalars(sa.select(Tag).where(Tag.id.in_(new.tags)))).all()
            post = Post(
                authorId=WRITER_ID, title=new.title, content=new.content, status="PUBLISHED",
                views=0, createdAt=now, updatedAt=now, tags=list(tags),
                comments=[Comment(authorId=WRITER_ID, content=text, createdAt=now)
                          for text in new.comments],
            )  # fmt: skip
            session.add(post)
        return post

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        async with self._sessions() as session, session.begin():
            post = await session.get(Post, post_id)
            if post is not None:
                post.title, post.views, post.updatedAt = title, views, now_utc()
        return post

    async def upsert_category(self, k: int) -> object:
        name, slug = category(k)
        statement = (
            pg_insert(Category)
            .values(name=name, slug=slug)
            .on_conflict_do_update(index_elements=[Category.slug], set_={"name": name})
            .returning(Category)
        )
        async with self._sessions() as session, session.begin():
            return await session.scalar(statement)

    async def increment_views(self, post_id: int) -> object:
        async with self._sessions() as session, session.begin():
            return await session.scalar(_increment(post_id, now_utc()))

    def plain(self, workload: str, result: Any) -> Any:
        if workload in (FIND_UNIQUE, CREATE_POST, UPDATE_POST):
            return None if result is None else _post(result)
        if workload in (FIND_MANY_50, FIND_MANY, FILTER_PAGE):
            return [_post(post) for post in result]
        if workload == UPSERT:
            return {name: getattr(result, name) for name in ("id", "name", "slug", "parentId")}
        if workload == NESTED:
            return [
                {
                    "id": user.id,
                    "email": user.email,
                    "posts": [
                        {"id": p.id, "title": p.title, "_count": {"comments": p.comment_count}}
                        for p in posts
                    ],
                }
                for user, posts in result
            ]
        return result

    async def close(self) -> None:
        await self._engine.dispose()


def create_engine(url: str) -> Any:
    """An ``AsyncEngine`` on ``postgresql+asyncpg`` with a pool of ``POOL_SIZE``."""
    try:
        # The asyncio extension imports without greenlet and fails only on first use:
        # ask for greenlet here so a missing one skips this peer instead of crashing the run.
        if importlib.util.find_spec("greenlet") is None:
            raise ImportError("No module named 'greenlet'")
        from sqlalchemy.ext.asyncio import create_async_engine
    except ImportError as exc:
        raise ImportError(f"{exc} ({INSTALL_HINT})") from exc
    return create_async_engine(
        url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=POOL_SIZE
    )


def _post(post: Post) -> dict[str, Any]:
    return {name: utc(getattr(post, name)) for name in POST_FIELDS}
