"""SQLAlchemy 2 ORM, async (``postgresql+asyncpg``): mapped classes for the blog tables, a session per call.

A fresh ``AsyncSession`` per call, as a web request gets one (a shared session would
answer repeated ``get`` calls from its identity map without touching the database).
``nested`` is what most teams write: users with ``selectinload(User.posts)``, each
post's comment count as a deferred ``column_property`` subquery undeferred for the
read; ``selectinload`` cannot stop at 10 posts per user, so Python keeps the first 10.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from typing import Any

from bench.peers._site import INSTALL_HINT, activate
from bench.peers.blog import (
    FIND_MANY,
    FIND_UNIQUE,
    MANY,
    NESTED_POSTS,
    NESTED_USERS,
    POST_FIELDS,
    utc,
)

activate()  # SQLAlchemy's asyncio extension needs greenlet, which may live in bench/.peers

import sqlalchemy as sa  # noqa: E402
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

_STATUS = sa.Enum("DRAFT", "PUBLISHED", "ARCHIVED", name="PostStatus", create_type=False)
_ROLE = sa.Enum("USER", "EDITOR", "ADMIN", name="Role", create_type=False)


class Base(DeclarativeBase):
    pass


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
    comment_count: Mapped[int] = column_property(
        sa.select(sa.func.count(Comment.id))
        .where(Comment.postId == sa.literal_column('"Post"."id"'))
        .scalar_subquery(),
        deferred=True,
    )


FIND_MANY_STMT = sa.select(Post).order_by(Post.createdAt.desc()).limit(MANY)
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


class SqlalchemyPeer:
    """``AsyncSession.get(Post, id)``, ``select(Post)...limit(1000)``, ``selectinload`` for ``nested``."""

    subject = "sqlalchemy"
    operation = "ORM, AsyncSession"

    def __init__(self, engine: Any, sessions: Any) -> None:
        self._engine = engine
        self._sessions = sessions

    @classmethod
    async def open(cls, url: str) -> SqlalchemyPeer:
        try:
            # The asyncio extension imports without greenlet and fails only on first use:
            # ask for greenlet here so a missing one skips this peer instead of crashing the run.
            if importlib.util.find_spec("greenlet") is None:
                raise ImportError("No module named 'greenlet'")
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
        except ImportError as exc:
            raise ImportError(f"{exc} ({INSTALL_HINT})") from exc
        engine = create_async_engine(
            url.replace("postgresql://", "postgresql+asyncpg://", 1), pool_size=10
        )
        return cls(engine, async_sessionmaker(engine, expire_on_commit=False))

    async def find_unique(self, post_id: int) -> object:
        async with self._sessions() as session:
            return await session.get(Post, post_id)

    async def find_many_1000(self) -> object:
        async with self._sessions() as session:
            return (await session.scalars(FIND_MANY_STMT)).all()

    async def nested(self) -> object:
        async with self._sessions() as session:
            users = (await session.scalars(NESTED_STMT)).all()
            return [(user, user.posts[:NESTED_POSTS]) for user in users]

    def plain(self, workload: str, result: Any) -> Any:
        if workload == FIND_UNIQUE:
            return None if result is None else _post(result)
        if workload == FIND_MANY:
            return [_post(post) for post in result]
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

    async def close(self) -> None:
        await self._engine.dispose()


def _post(post: Post) -> dict[str, Any]:
    return {name: utc(getattr(post, name)) for name in POST_FIELDS}
