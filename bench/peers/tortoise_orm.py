"""Tortoise ORM (asyncpg backend, its own pool): ``Post.get_or_none``, ``Post.all()...limit(1000)``, ``prefetch_related``.

``nested`` is the idiomatic Tortoise query: users with a ``Prefetch`` of their posts
newest first, each annotated with ``Count("comments")``; like ``selectinload``, a
prefetch cannot stop at 10 per user, so Python keeps the first 10.
"""

from __future__ import annotations

import importlib
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

MODELS_MODULE = "bench.peers._tortoise_models"


class TortoisePeer:
    """Tortoise ORM initialised for this database; ``close`` closes its connections."""

    subject = "tortoise"
    operation = "ORM"

    def __init__(self, tortoise: Any, models: Any) -> None:
        self._tortoise = tortoise
        self._post = models.Post
        self._user = models.User
        count = importlib.import_module("tortoise.functions").Count
        prefetch = importlib.import_module("tortoise.query_utils").Prefetch
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
                "connections": {"default": url.replace("postgresql://", "asyncpg://", 1)},
                "apps": {"models": {"models": [MODELS_MODULE], "default_connection": "default"}},
                "use_tz": False,
                "timezone": "UTC",
            }
        )
        return cls(tortoise, importlib.import_module(MODELS_MODULE))

    async def find_unique(self, post_id: int) -> object:
        return await self._post.get_or_none(id=post_id)

    async def find_many_1000(self) -> object:
        return await self._post.all().order_by("-createdAt").limit(MANY)

    async def nested(self) -> object:
        users = (
            await self._user.all()
            .order_by("email")
            .limit(NESTED_USERS)
            .prefetch_related(self._nested_prefetch)
        )
        return [(user, list(user.posts)[:NESTED_POSTS]) for user in users]

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
        await self._tortoise.close_connections()


def _post(post: Any) -> dict[str, Any]:
    values = {name: getattr(post, name) for name in POST_FIELDS if name != "authorId"}
    values["authorId"] = post.author_id
    return {name: utc(values[name]) for name in POST_FIELDS}
