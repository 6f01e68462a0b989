"""Tortoise ORM (asyncpg backend, its own pool): ``Post.get_or_none``, ``Post.all()...limit(1000)``, ``prefetch_related``.

``nested`` is the idiomatic Tortoise query: users with a ``Prefetch`` of their posts
newest first, each annotated with ``Count("comments")``; like ``selectinload``, a
prefetch cannot stop at 10 per user, so Python keeps the first 10. Writes as its
users write them: ``Post.create`` + ``post.tags.add`` + ``Comment.bulk_create`` in
``in_transaction()``; ``get`` then ``save`` for the update; ``update_or_create`` for
the upsert (a SELECT ... FOR UPDATE, then an UPDATE or INSERT); ``filter().update``
with ``F("views") + 1`` then a read of the new value for the increment.
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
    POST_FIELDS,
    UPDATE_POST,
    UPSERT,
    category,
    new_post,
    now_utc,
    updated_post,
    utc,
)

MODELS_MODULE = "bench.peers._tortoise_models"


class TortoisePeer:
    """Tortoise ORM initialised for this database; ``close`` closes its connections."""

    subject = "tortoise"
    operation = "ORM"

    def __init__(self, tortoise: Any, models: Any) -> None:
        self._tortoise = tortoise
        self._m = models
        self._post = models.Post
        self._user = models.User
        count = importlib.import_module("tortoise.functions").Count
        prefetch = importlib.import_module("tortoise.query_utils").Prefetch
        self._f = importlib.import_module("tortoise.expressions").F
        self._transaction = importlib.import_module("tortoise.transactions").in_transaction
        posts = self._post.all().order_by("-createdAt").annotate(comment_count=count("comments"))
        self._nested_prefetch = prefetch("posts", queryset=posts)

    @classmethod
    async def open(cls, url: str) -> TortoisePeer:
        activate()
        try:
            tortoise = importlib.import_module("tortoise").Tortoise
        except ImportError as exc:
            raise ImportError(f"{exc} ({INSTALL_HINT})") from exc
        await tortoise.init(
            config={
                "connections": {
                    "default": {
                        "engine": "tortoise.backends.asyncpg",
                        "credentials": _credentials(url),
                    }
                },
                "apps": {"models": {"models": [MODELS_MODULE], "default_connection": "default"}},
                "use_tz": False,
                "timezone": "UTC",
            }
        )
        return cls(tortoise, importlib.import_module(MODELS_MODULE))

    async def find_unique(self, post_id: int) -> object:
        return await self._post.get_or_none(id=post_id)

    async def find_many_50(self, _arg: int) -> object:
        return await self._post.all().order_by("-createdAt").limit(FEW)

    async def find_many_1000(self, _arg: int) -> object:
        return await self._post.all().order_by("-createdAt").limit(MANY)

    async def filter_page(self, cursor: int) -> object:
        at = await self._post.filter(id=cursor).values_list("publishedAt", flat=True)
        return (
            await self._post.filter(status="PUBLISHED", views__gte=MIN_VIEWS, publishedAt__lt=at[0])
            .order_by("-publishedAt")
            .limit(PAGE)
        )

    async def nested(self, _arg: int) -> object:
        users = (
            await self._user.all()
            .order_by("email")
            .limit(NESTED_USERS)
            .prefetch_related(self._nested_prefetch)
        )
        return [(user, list(user.posts)[:NESTED_POSTS]) for user in users]

    async def create_post(self, n: int) -> object:
        new, now = new_post(n), now_utc()
        async with self._transaction():
            post = await self._post.create(
                author_id=WRITER_ID, title=new.title, content=new.content, status="PUBLISHED",
                views=0, createdAt=now, updatedAt=now,
            )  # fmt: skip
            await post.tags.add(*await self._m.Tag.filter(id__in=new.tags))
            await self._m.Comment.bulk_create(
                [self._m.Comment(post=post, authorId=WRITER_ID, content=text, createdAt=now)
                 for text in new.comments]
            )  # fmt: skip
        return post

    async def update_post(self, post_id: int) -> object:
        title, views = updated_post(post_id)
        post = await self._post.get(id=post_id)
        post.title, post.views, post.updatedAt = title, views, now_utc()
        await post.save(update_fields=["title", "views", "updatedAt"])
        return post

    async def upsert_category(self, k: int) -> object:
        name, slug = category(k)
        row, _created = await self._m.Category.update_or_create(defaults={"name": name}, slug=slug)
        return row

    async def increment_views(self, post_id: int) -> object:
        await self._post.filter(id=post_id).update(views=self._f("views") + 1, updatedAt=now_utc())
        views = await self._post.filter(id=post_id).values_list("views", flat=True)
        return views[0]

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
        await self._tortoise.close_connections()


def _credentials(url: str) -> dict[str, Any]:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
        "database": unquote(parts.path.lstrip("/")),
        "minsize": 1,
        "maxsize": 10,
    }


def _post(post: Any) -> dict[str, Any]:
    values = {name: getattr(post, name) for name in POST_FIELDS if name != "authorId"}
    values["authorId"] = post.author_id
    return {name: utc(values[name]) for name in POST_FIELDS}
