"""The HTTP contract every REST peer serves on the blog database, and the requests each workload sends.

Endpoints (JSON in and out; DateTime as ISO-8601, UTC):

| method | path | answers |
|---|---|---|
| GET | ``/healthz`` | ``ok`` once the server can take requests |
| GET | ``/posts/{id}`` | the post's scalar fields, or 404 |
| GET | ``/posts?take=N`` | the N latest posts (``createdAt`` desc), N at most 1,000 |
| GET | ``/posts/page?status=S&categoryId=C&take=N&cursor=ID`` | posts with that status and category, latest first, the N after post ID |
| GET | ``/users/nested`` | 20 users by email, each ``{id, email, posts}`` with their 10 latest posts ``{id, title, _count: {comments}}`` |
| POST | ``/posts`` | creates ``{authorId, title, content, tagIds: [3], comments: [{authorId, content}] * 2}`` in one transaction; 201 ``{id}`` |
| PATCH | ``/posts/{id}`` | sets ``{title}`` (and ``updatedAt``); ``{id, title}``, or 404 |
| PUT | ``/categories/{slug}`` | upserts the category by its unique slug with ``{name}``; ``{id, slug, name}`` |
| POST | ``/posts/{id}/views`` | adds 1 to ``views`` atomically; ``{id, views}``, or 404 |

PostGraphile serves GraphQL instead; ``bench.http.graphql`` turns these requests into
its queries and its answers back into these shapes.

Writes touch only what ``bench.datagen.blog_db.reset_writes`` puts back: posts and
comments of the writer user, the writer's posts, categories whose slug starts with
``bench-``; the bench resets them before and after each write workload.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import orjson

NESTED_USERS = 20
NESTED_POSTS = 10
PAGE_TAKE = 20
MAX_TAKE = 1000
POST_FIELDS = (
    "id", "authorId", "categoryId", "title", "content", "status", "views",
    "publishedAt", "createdAt", "updatedAt",
)  # fmt: skip
PAGE_STATUS = "PUBLISHED"


@dataclass(frozen=True)
class Request:
    """One HTTP request: method, path with query string, a JSON body (None for none) and
    extra headers (``Authorization``, ``Accept-Encoding``: the feature-cost workloads)."""

    method: str
    path: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    def body_bytes(self) -> bytes | None:
        """The body as JSON bytes, None without a body."""
        return None if self.body is None else orjson.dumps(self.body)


@dataclass(frozen=True)
class PageCursor:
    """A page request of the filter + sort + cursor workload: the filter and the post to start after."""

    category_id: int
    cursor: int


@dataclass(frozen=True)
class Inputs:
    """What the request generators need to know about the loaded data."""

    posts: int  # posts 1..posts exist
    tags: int  # tags 1..tags exist
    pages: tuple[PageCursor, ...]
    writer: str  # the user whose rows writes may touch
    write_posts: tuple[int, ...]  # the writer's posts, for updates and increments


def by_id(post_id: int) -> Request:
    return Request("GET", f"/posts/{post_id}")


def latest(take: int) -> Request:
    return Request("GET", f"/posts?take={take}")


def page(cursor: PageCursor) -> Request:
    return Request(
        "GET",
        f"/posts/page?status={PAGE_STATUS}&categoryId={cursor.category_id}"
        f"&take={PAGE_TAKE}&cursor={cursor.cursor}",
    )


def nested() -> Request:
    return Request("GET", "/users/nested")


def create(rng: random.Random, inputs: Inputs, number: int) -> Request:
    """A new post by the writer with 3 distinct random tags and 2 comments."""
    return Request(
        "POST",
        "/posts",
        {
            "authorId": inputs.writer,
            "title": f"Bench post {number}",
            "content": f"Written by the HTTP benchmark, request {number}.",
            "tagIds": sorted(rng.sample(range(1, inputs.tags + 1), 3)),
            "comments": [
                {"authorId": inputs.writer, "content": f"Comment {i} on {number}"} for i in (1, 2)
            ],
        },
    )


def update(post_id: int, number: int) -> Request:
    return Request("PATCH", f"/posts/{post_id}", {"title": f"Updated title {number}"})


def upsert(slug: str, name: str | None = None) -> Request:
    return Request("PUT", f"/categories/{slug}", {"name": name or f"Category {slug}"})


def increment(post_id: int) -> Request:
    # An empty JSON body: some clients label a POST without one application/octet-stream,
    # which fastify refuses (415).
    return Request("POST", f"/posts/{post_id}/views", {})


def upsert_slugs(count: int) -> list[str]:
    """``count`` slugs the writes own (``bench-``): new on the first pass, existing after."""
    return [f"bench-{i}" for i in range(count)]
