"""A deterministic generator of rows for the demo blog schema (``datatier/demo/schema.prisma``).

``generate_blog(size)`` returns the same rows on every run (fixed seed): users,
categories, tags, posts, their tag links and comments, as tuples in column order,
ready for PostgreSQL's COPY. DateTime values are naive UTC with millisecond
precision (the columns are ``timestamp(3)``); every post has its own ``createdAt``,
so "latest first" has exactly one right answer for datatier and its peers alike.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SEED = 20_250_301

Row = tuple[Any, ...]


@dataclass(frozen=True)
class BlogSize:
    """How many rows of each kind to make."""

    users: int
    posts: int
    comments: int
    tags: int = 50
    categories: int = 20

    @classmethod
    def for_mode(cls, quick: bool) -> BlogSize:
        """10,000 users, 100,000 posts, 500,000 comments; ``quick``: 200, 2,000, 10,000."""
        return cls(200, 2_000, 10_000) if quick else cls(10_000, 100_000, 500_000)


@dataclass(frozen=True)
class Table:
    """Rows for one table: its name as the database spells it, its columns, the rows."""

    name: str
    columns: tuple[str, ...]
    rows: list[Row]


@dataclass(frozen=True)
class BlogData:
    """Every table's rows in an order that satisfies the foreign keys."""

    size: BlogSize
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        """The table called ``name``."""
        return next(t for t in self.tables if t.name == name)


_EPOCH = dt.datetime(2023, 1, 1)
# fmt: off
_WORDS = (
    "data", "schema", "query", "index", "table", "column", "record", "field", "model",
    "relation", "client", "cache", "async", "python", "postgres", "latency", "throughput",
    "shape", "compile", "prepare", "statement", "row", "json", "aggregate", "lateral", "join",
    "order", "limit", "cursor", "page", "filter", "select", "include", "count", "migrate",
    "push", "generate", "type", "check", "value", "codec", "driver", "pool", "connection",
    "server",
)
# fmt: on
_FIRST = ("ann", "bob", "cy", "dana", "eli", "fay", "gus", "hana", "ivo", "jo", "kai", "lea")
_LAST = ("smith", "ng", "garcia", "kim", "novak", "okafor", "rossi", "sato", "weber", "ylva")
POST_COLUMNS = (
    "id", "authorId", "categoryId", "title", "content", "status", "views",
    "publishedAt", "createdAt", "updatedAt",
)  # fmt: skip
_ROLES = ("USER",) * 8 + ("EDITOR", "ADMIN")
_STATUSES = ("PUBLISHED",) * 6 + ("DRAFT",) * 3 + ("ARCHIVED",)


def generate_blog(size: BlogSize, seed: int = SEED) -> BlogData:
    """All rows for ``size``, the same for the same ``size`` and ``seed``."""
    rng = random.Random(seed)
    users = list(_users(rng, size))
    user_ids = [row[0] for row in users]
    categories = [
        (i, f"Category {i}", f"category-{i}", None) for i in range(1, size.categories + 1)
    ]
    tags = [(i, f"tag {i}", f"tag-{i}") for i in range(1, size.tags + 1)]
    posts = list(_posts(rng, size, user_ids))
    links = sorted(
        {
            (post_id, rng.randint(1, size.tags))
            for post_id in range(1, size.posts + 1)
            for _ in range(rng.randint(0, 3))
        }
    )
    comments = list(_comments(rng, size, user_ids, posts))
    return BlogData(
        size,
        (
            Table("users", ("id", "email", "name", "role", "createdAt", "updatedAt"), users),
            Table("Category", ("id", "name", "slug", "parentId"), categories),
            Table("Tag", ("id", "name", "slug"), tags),
            Table("Post", POST_COLUMNS, posts),
            Table("_PostToTag", ("A", "B"), links),
            Table(
                "Comment",
                ("id", "postId", "authorId", "parentId", "content", "createdAt"),
                comments,
            ),
        ),
    )


def _ms(rng: random.Random, start: dt.datetime, span_s: int) -> dt.datetime:
    return start + dt.timedelta(milliseconds=rng.randrange(span_s * 1000))


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words))


def _users(rng: random.Random, size: BlogSize) -> Iterator[Row]:
    for i in range(size.users):
        uid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        name = None if rng.random() < 0.1 else f"{first.title()} {last.title()}"
        created = _ms(rng, _EPOCH, 30 * 86_400)
        updated = created + dt.timedelta(milliseconds=rng.randrange(86_400_000))
        yield uid, f"{first}.{last}.{i}@example.com", name, rng.choice(_ROLES), created, updated


def _posts(rng: random.Random, size: BlogSize, user_ids: list[str]) -> Iterator[Row]:
    # Post i gets second slot[i] after the start, plus some milliseconds: all distinct.
    slots = list(range(size.posts))
    rng.shuffle(slots)
    start = _EPOCH + dt.timedelta(days=31)
    for post_id, slot in enumerate(slots, start=1):
        created = start + dt.timedelta(seconds=slot * 60, milliseconds=rng.randrange(60_000))
        status = rng.choice(_STATUSES)
        published = created + dt.timedelta(hours=1) if status == "PUBLISHED" else None
        category = None if rng.random() < 0.3 else rng.randint(1, size.categories)
        yield (
            post_id,
            rng.choice(user_ids),
            category,
            _text(rng, 6).capitalize(),
            _text(rng, 60),
            status,
            rng.randrange(10_000),
            published,
            created,
            created + dt.timedelta(minutes=rng.randrange(10_000)),
        )


def _comments(
    rng: random.Random, size: BlogSize, user_ids: list[str], posts: list[Row]
) -> Iterator[Row]:
    last_on_post: dict[int, int] = {}
    for comment_id in range(1, size.comments + 1):
        post_id = rng.randint(1, size.posts)
        previous = last_on_post.get(post_id)
        parent = previous if previous is not None and rng.random() < 0.3 else None
        last_on_post[post_id] = comment_id
        created = posts[post_id - 1][8] + dt.timedelta(milliseconds=rng.randrange(10**9))
        yield comment_id, post_id, rng.choice(user_ids), parent, _text(rng, 12), created
