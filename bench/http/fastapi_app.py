"""What most Python teams write: FastAPI with pydantic response models over the SQLAlchemy 2 ORM (async).

One ``AsyncSession`` per request (a dependency), mapped classes for the blog tables,
relationships for tags and comments, ``selectinload`` for the nested read (every post
of the 20 users is loaded, Python keeps the 10 latest; the comment count is an
undeferred ``column_property``). Run as ``python -m bench.http.fastapi_app --port P --url URL``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Column, Enum, ForeignKey, Integer, Table, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    column_property,
    mapped_column,
    relationship,
    selectinload,
)
from sqlalchemy.types import DateTime

from bench.http.contract import MAX_TAKE, NESTED_POSTS, NESTED_USERS
from bench.http.serve import pool_size, serve


class Base(DeclarativeBase):
    pass


post_tags = Table(
    "_PostToTag",
    Base.metadata,
    Column("A", ForeignKey("Post.id"), primary_key=True),
    Column("B", ForeignKey("Tag.id"), primary_key=True),
)


class Comment(Base):
    __tablename__ = "Comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    postId: Mapped[int] = mapped_column(ForeignKey("Post.id"))
    authorId: Mapped[str] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str]


class Tag(Base):
    __tablename__ = "Tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    slug: Mapped[str]


class Category(Base):
    __tablename__ = "Category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    slug: Mapped[str]


class Post(Base):
    __tablename__ = "Post"

    id: Mapped[int] = mapped_column(primary_key=True)
    authorId: Mapped[str] = mapped_column(ForeignKey("users.id"))
    categoryId: Mapped[int | None]
    title: Mapped[str]
    content: Mapped[str]
    status: Mapped[str] = mapped_column(
        Enum("DRAFT", "PUBLISHED", "ARCHIVED", name="PostStatus"), server_default="DRAFT"
    )
    views: Mapped[int] = mapped_column(Integer, server_default="0")
    publishedAt: Mapped[dt.datetime | None] = mapped_column(DateTime)
    createdAt: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    updatedAt: Mapped[dt.datetime] = mapped_column(DateTime)
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags)
    comments: Mapped[list[Comment]] = relationship()
    comment_count: Mapped[int] = column_property(
        select(func.count(Comment.id)).where(Comment.postId == id).scalar_subquery(),
        deferred=True,
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(primary_key=True)
    email: Mapped[str]
    posts: Mapped[list[Post]] = relationship(order_by=Post.createdAt.desc())


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    authorId: str
    categoryId: int | None
    title: str
    content: str
    status: str
    views: int
    publishedAt: dt.datetime | None
    createdAt: dt.datetime
    updatedAt: dt.datetime


class CommentIn(BaseModel):
    authorId: str
    content: str


class PostIn(BaseModel):
    authorId: str
    title: str
    content: str
    tagIds: list[int]
    comments: list[CommentIn]


class TitleIn(BaseModel):
    title: str


class NameIn(BaseModel):
    name: str


class Created(BaseModel):
    id: int


class TitleOut(BaseModel):
    id: int
    title: str


class CategoryOut(BaseModel):
    id: int
    slug: str
    name: str


class ViewsOut(BaseModel):
    id: int
    views: int


class NestedUser(BaseModel):
    id: str
    email: str
    posts: list[dict[str, Any]]


async def session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session (a FastAPI dependency)."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as s:
        yield s


Session = Annotated[AsyncSession, Depends(session)]


def make_app(url: str, size: int) -> FastAPI:
    """The app and its engine (``size`` connections, no overflow)."""
    engine = create_async_engine(
        url.replace("postgresql://", "postgresql+asyncpg://", 1),
        pool_size=size,
        max_overflow=0,
    )
    app = FastAPI()
    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    @app.get("/posts/page", response_model=list[PostOut])
    async def page(
        s: Session,
        status: str,
        categoryId: int,
        take: Annotated[int, Query(le=MAX_TAKE)] = 20,
        cursor: int | None = None,
    ) -> Any:
        query = select(Post).where(Post.status == status, Post.categoryId == categoryId)
        if cursor is not None:
            start = select(Post.createdAt).where(Post.id == cursor).scalar_subquery()
            query = query.where(Post.createdAt < start)
        return (await s.scalars(query.order_by(Post.createdAt.desc()).limit(take))).all()

    @app.get("/posts/{post_id}", response_model=PostOut)
    async def post_by_id(s: Session, post_id: int) -> Any:
        post = await s.get(Post, post_id)
        if post is None:
            raise HTTPException(404, "not found")
        return post

    @app.get("/posts", response_model=list[PostOut])
    async def latest(s: Session, take: Annotated[int, Query(le=MAX_TAKE)] = 50) -> Any:
        return (await s.scalars(select(Post).order_by(Post.createdAt.desc()).limit(take))).all()

    @app.get("/users/nested", response_model=list[NestedUser])
    async def nested(s: Session) -> Any:
        users = await s.scalars(
            select(User)
            .order_by(User.email)
            .limit(NESTED_USERS)
            .options(selectinload(User.posts).undefer(Post.comment_count))
        )
        return [
            {
                "id": user.id,
                "email": user.email,
                "posts": [
                    {"id": p.id, "title": p.title, "_count": {"comments": p.comment_count}}
                    for p in user.posts[:NESTED_POSTS]
                ],
            }
            for user in users
        ]

    @app.post("/posts", response_model=Created, status_code=201)
    async def create_post(s: Session, body: PostIn) -> Any:
        async with s.begin():
            tags = (await s.scalars(select(Tag).where(Tag.id.in_(body.tagIds)))).all()
            post = Post(
                authorId=body.authorId,
                title=body.title,
                content=body.content,
                updatedAt=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                tags=list(tags),
                comments=[Comment(authorId=c.authorId, content=c.content) for c in body.comments],
            )
            s.add(post)
        return {"id": post.id}

    @app.patch("/posts/{post_id}", response_model=TitleOut)
    async def update_post(s: Session, post_id: int, body: TitleIn) -> Any:
        async with s.begin():
            post = await s.get(Post, post_id)
            if post is None:
                raise HTTPException(404, "not found")
            post.title = body.title
            post.updatedAt = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return post

    @app.put("/categories/{slug}", response_model=CategoryOut)
    async def upsert_category(s: Session, slug: str, body: NameIn) -> Any:
        statement = (
            insert(Category)
            .values(slug=slug, name=body.name)
            .on_conflict_do_update(index_elements=[Category.slug], set_={"name": body.name})
            .returning(Category.id, Category.slug, Category.name)
        )
        async with s.begin():
            row = (await s.execute(statement)).one()
        return row._asdict()

    @app.post("/posts/{post_id}/views", response_model=ViewsOut)
    async def increment_views(s: Session, post_id: int) -> Any:
        statement = (
            update(Post)
            .where(Post.id == post_id)
            .values(views=Post.views + 1)
            .returning(Post.id, Post.views)
        )
        async with s.begin():
            row = (await s.execute(statement)).one_or_none()
        if row is None:
            raise HTTPException(404, "not found")
        return row._asdict()

    return app


if __name__ == "__main__":
    serve(lambda url: make_app(url, pool_size()))
