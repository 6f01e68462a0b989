"""What every subject of the client workloads offers: the three blog reads and their results as plain data.

A subject (datatier or a peer) answers ``find_unique`` (one post by id),
``find_many_1000`` (the 1,000 latest posts) and ``nested`` (20 users by email, each
with their 10 latest posts and each post's comment count) in its own natural way;
``plain`` turns what it returned into datatier's shape (dicts keyed by field name,
DateTime as aware UTC) so results can be compared outside the timed calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from bench.datagen.blog_gen import POST_COLUMNS

# The blog schema maps no Post field to another column name: fields and columns are one list.
POST_FIELDS = POST_COLUMNS
NESTED_USERS = 20
NESTED_POSTS = 10
MANY = 1000

FIND_UNIQUE = "find_unique"
FIND_MANY = "find_many_1000"
NESTED = "nested"


class BlogPeer(Protocol):
    """One subject, connected to one database; ``close`` releases its connections."""

    subject: str
    operation: str

    async def find_unique(self, post_id: int) -> object: ...

    async def find_many_1000(self) -> object: ...

    async def nested(self) -> object: ...

    def plain(self, workload: str, result: object) -> Any:
        """``result`` of ``workload`` in datatier's shape."""
        ...

    async def close(self) -> None: ...


def utc(value: Any) -> Any:
    """A naive UTC datetime made aware (``timestamp(3)`` columns hold UTC); anything else as is."""
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def plain_post(row: Mapping[str, Any]) -> dict[str, Any]:
    """A post's scalar fields from a mapping keyed by field name, DateTimes aware."""
    return {name: utc(row[name]) for name in POST_FIELDS}
