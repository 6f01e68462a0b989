"""What every subject of the client workloads offers: the blog operations and their results as plain data.

A subject (datatier or a peer) answers, in its own natural way, the reads
``find_unique`` (one post by id), ``find_many_50`` / ``find_many_1000`` (the latest
posts), ``filter_page`` (published posts with at least 100 views, newest published
first, the page of 20 after a cursor), ``nested`` (20 users by email, each with their
10 latest posts and each post's comment count), and the writes ``create_post`` (a
post with 3 tags and 2 comments, one transaction), ``update_post``, ``upsert_category``
and ``increment_views`` (under contention). ``plain`` turns what it returned into
datatier's shape so results can be compared outside the timed calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bench.datagen.blog_gen import POST_COLUMNS

# The blog schema maps no Post field to another column name: fields and columns are one list.
POST_FIELDS = POST_COLUMNS
NESTED_USERS = 20
NESTED_POSTS = 10
MANY = 1000
FEW = 50
PAGE = 20  # filter_page: rows per page
MIN_VIEWS = 100  # filter_page: views >= MIN_VIEWS

# The operations, each a method ``(arg: int) -> result`` of a subject; a subject without the
# method cannot express the operation and is recorded as skipped.
FIND_UNIQUE = "find_unique"  # arg: a post id
FIND_MANY_50 = "find_many_50"  # arg unused
FIND_MANY = "find_many_1000"  # arg unused
FILTER_PAGE = "filter_page"  # arg: the cursor, a post id that passes the filter
NESTED = "nested"  # arg unused
CREATE_POST = "create_post"  # arg: n, picks the texts and tags (see new_post)
UPDATE_POST = "update_post"  # arg: the id of one of the writer's posts
UPSERT = "upsert_category"  # arg: k, the category slug is f"bench-{k}"
INCREMENT = "increment_views"  # arg: the id of the hot post
READS = (FIND_UNIQUE, FIND_MANY_50, FIND_MANY, FILTER_PAGE, NESTED)
WRITES = (CREATE_POST, UPDATE_POST, UPSERT, INCREMENT)


class BlogPeer(Protocol):
    """One subject connected to one database; its operations are methods named as above.

    ``plain`` turns what an operation returned into datatier's shape (dicts keyed by
    field name, DateTime aware UTC) so results compare outside the timed calls;
    ``close`` releases its connections.
    """

    subject: str
    operation: str

    def plain(self, workload: str, result: object) -> Any:
        """``result`` of operation ``workload`` in datatier's shape."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class NewPost:
    """What ``create_post(n)`` writes: a post by the writer with 3 tags and 2 comments."""

    title: str
    content: str
    tags: tuple[int, int, int]
    comments: tuple[str, str]


def new_post(n: int, tags: int = 50) -> NewPost:
    """The post that ``create_post(n)`` creates (tag ids among the first ``tags``)."""
    first = n % (tags - 2) + 1
    return NewPost(
        f"bench post {n}",
        f"written by the benchmark, number {n}",
        (first, first + 1, first + 2),
        (f"first comment on {n}", f"second comment on {n}"),
    )


def updated_post(post_id: int) -> tuple[str, int]:
    """The (title, views) that ``update_post(post_id)`` sets."""
    return f"updated {post_id}", post_id % 1000


def category(k: int) -> tuple[str, str]:
    """The (name, slug) that ``upsert_category(k)`` creates, or sets the name of."""
    return f"Bench category {k}", f"bench-{k}"


def now_utc() -> dt.datetime:
    """Now as a naive UTC datetime, as ``timestamp(3)`` columns hold it (for @updatedAt)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def utc(value: Any) -> Any:
    """A naive UTC datetime made aware (``timestamp(3)`` columns hold UTC); anything else as is."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def plain_post(row: Mapping[str, Any]) -> dict[str, Any]:
    """A post's scalar fields from a mapping keyed by field name, DateTimes aware."""
    return {name: utc(row[name]) for name in POST_FIELDS}
