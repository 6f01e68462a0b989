"""A fixed dataset on the demo (blog) schema, written through Prisma Client so both SQLite and
PostgreSQL hold exactly what Prisma itself stores.

The values are chosen to find differences: ties in ``views`` and ``createdAt`` (so orderings
need their tiebreaker), nulls in every optional column, names differing only in case, ``%``,
``_`` and ``'`` inside strings (LIKE escaping), non-ASCII text, a category tree, comment
threads, users without posts and a tag on no post.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["DATASET", "UNIQUE", "calls_to_load", "column_values"]

_BASE = datetime(2024, 1, 1, tzinfo=UTC)


def _at(hours: float) -> str:
    return (
        (_BASE + timedelta(hours=hours)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


_NAMES = ["Ann", "bob", None, "Dee O'Neil", "Évé", "ann", None, "Hal_9000"]
_EMAILS = [
    "ann@example.com",
    "Bob@Example.com",
    "cy@example.org",
    "dee_1@test.io",
    "eve%x@test.io",
    "fay@example.com",
    "gus@EXAMPLE.com",
    "hal@example.net",
]
_ROLES = ["ADMIN", "USER", "USER", "EDITOR", "USER", "ADMIN", "USER", "EDITOR"]

USERS: list[dict[str, Any]] = [
    {
        "id": f"u{i + 1:02d}",
        "email": email,
        "name": _NAMES[i],
        "role": _ROLES[i],
        "createdAt": _at(24 * (i // 2)),  # pairs share a createdAt
        "updatedAt": _at(24 * 40 - i),
    }
    for i, email in enumerate(_EMAILS)
]

PROFILES: list[dict[str, Any]] = [
    {
        "userId": "u01",
        "bio": "Writes about SQL",
        "avatarUrl": "https://a/1.png",
        "preferences": {"theme": "dark", "n": 3},
    },
    {
        "userId": "u02",
        "bio": None,
        "avatarUrl": None,
        "preferences": {"theme": "light", "tags": ["a", "b"]},
    },
    {"userId": "u04", "bio": "100% remote", "avatarUrl": None, "preferences": {}},
    {
        "userId": "u05",
        "bio": "snake_case fan",
        "avatarUrl": "https://a/5.png",
        "preferences": {"theme": "dark", "n": 10, "nested": {"k": "v"}},
    },
    {"userId": "u06", "bio": "", "avatarUrl": "https://a/6.png", "preferences": [1, 2, 3]},
]

SESSIONS: list[dict[str, Any]] = [
    {
        "id": f"s{i}",
        "userId": user,
        "token": f"tok-{chr(97 + i)}",
        "expiresAt": _at(24 * 30 + 12 * i),
        "createdAt": _at(i),
    }
    for i, user in enumerate(["u01", "u01", "u02", "u03", "u05", "u05"])
]

CATEGORIES: list[dict[str, Any]] = [
    {"id": 1, "name": "News", "slug": "news", "parentId": None},
    {"id": 2, "name": "Tech", "slug": "tech", "parentId": None},
    {"id": 3, "name": "Python", "slug": "python", "parentId": 2},
    {"id": 4, "name": "Databases", "slug": "databases", "parentId": 2},
    {"id": 5, "name": "SQLite", "slug": "sqlite", "parentId": 4},
    {"id": 6, "name": "empty", "slug": "empty", "parentId": None},
]

TAGS: list[dict[str, Any]] = [
    {"id": 1, "name": "sql", "slug": "sql"},
    {"id": 2, "name": "Python", "slug": "python"},
    {"id": 3, "name": "rust lang", "slug": "rust"},
    {"id": 4, "name": "100%", "slug": "pct"},
    {"id": 5, "name": "snake_case", "slug": "snake"},
    {"id": 6, "name": "unused", "slug": "unused"},
]

_TITLES = [
    "Hello SQL",
    "hello sql again",
    "Second post",
    "Bob writes",
    "Another sql note",
    "100% coverage",
    "snake_case tips",
    "Ünïcode titles",
    "It's quoted",
    "Python 3.12",
    "PostgreSQL vs SQLite",
    "draft",
    "Draft",
    "a",
    "Zebra",
    "zebra",
    "Indexes",
    "JSON in SQL",
    "Window functions",
    "CTEs",
    "Hello again",
    "percent % sign",
    "under_score",
    "last one",
]
_VIEWS = [10, 25, 3, 40, 10, 0, 100, 7, 25, 25, 3, 0, 0, 55, 10, 1, 99, 40, 12, 3, 0, 8, 10, 1000]
_STATUS = ["PUBLISHED", "PUBLISHED", "DRAFT", "ARCHIVED", "PUBLISHED", "DRAFT"]
_AUTHORS = ["u01", "u01", "u02", "u02", "u03", "u04", "u05", "u06"]
_CATEGORY_OF = [1, None, 3, 4, 5, 2, None, 3]

POSTS: list[dict[str, Any]] = [
    {
        "id": i + 1,
        "authorId": _AUTHORS[i % len(_AUTHORS)],
        "categoryId": _CATEGORY_OF[(i * 5) % len(_CATEGORY_OF)],
        "title": title,
        "content": f"Content of {title.lower()} #{i % 4}",
        "status": _STATUS[i % len(_STATUS)],
        "views": _VIEWS[i],
        "publishedAt": None
        if _STATUS[i % len(_STATUS)] == "DRAFT"
        else _at(24 * 10 + 6 * (i // 3)),
        "createdAt": _at(24 * 5 + 12 * (i // 2)),  # pairs share a createdAt
        "updatedAt": _at(24 * 50 + i),
    }
    for i, title in enumerate(_TITLES)
]

# Post id -> its tag ids (tag 6 is on no post; posts divisible by 5 have none).
POST_TAGS: dict[int, list[int]] = {
    i: [t for t in (1, 2, 3, 4, 5) if (i + t) % 3 == 0] if i % 5 else []
    for i in range(1, len(POSTS) + 1)
}

# The post of each comment, by comment id (posts 5, 15 and 20 have none).
_COMMENT_POSTS = [1, 1, 1, 1, 2, 2, 3, 4, 4, 4, 6, 7, 7, 8, 9, 9, 10, 11, 12, 12]  # fmt: skip
_COMMENT_POSTS += [13, 14, 16, 16, 17, 18, 18, 18, 19, 21, 21, 22, 23, 24, 24, 24, 24, 3, 6, 9]  # fmt: skip
_CONTENTS = [
    "nice",
    "Nice!",
    "thanks",
    "I disagree",
    "+1",
    "see %docs%",
    "what_about",
    "Great post",
]
COMMENTS: list[dict[str, Any]] = []
for _i, _post in enumerate(_COMMENT_POSTS):
    _earlier = [c["id"] for c in COMMENTS if c["postId"] == _post]
    COMMENTS.append(
        {
            "id": _i + 1,
            "postId": _post,
            "authorId": _AUTHORS[(_i * 3) % len(_AUTHORS)] if _i % 7 else "u08",
            "parentId": _earlier[(_i // 2) % len(_earlier)] if _earlier and _i % 3 else None,
            "content": _CONTENTS[_i % len(_CONTENTS)],
            "createdAt": _at(24 * 12 + 3 * (_i // 3)),
        }
    )

DATASET: dict[str, list[dict[str, Any]]] = {
    "User": USERS,
    "UserProfile": PROFILES,
    "UserSession": SESSIONS,
    "Category": CATEGORIES,
    "Tag": TAGS,
    "Post": POSTS,
    "Comment": COMMENTS,
}

# The fields that identify a row alone: an orderBy holding one of them is a total order.
UNIQUE: dict[str, tuple[str, ...]] = {
    "User": ("id", "email"),
    "UserProfile": ("userId",),
    "UserSession": ("id", "token"),
    "Category": ("id", "slug"),
    "Tag": ("id", "name", "slug"),
    "Post": ("id",),
    "Comment": ("id",),
}


def _accessor(model: str) -> str:
    return model[0].lower() + model[1:]


def calls_to_load() -> list[dict[str, Any]]:
    """Prisma Client calls (ops.mjs lines) that write the dataset, parents before children."""
    calls: list[dict[str, Any]] = []
    for model, rows in DATASET.items():
        for row in rows:
            data = dict(row)
            if model == "Post" and POST_TAGS[row["id"]]:
                data["tags"] = {"connect": [{"id": t} for t in POST_TAGS[row["id"]]]}
            calls.append({"model": _accessor(model), "op": "create", "args": {"data": data}})
    return calls


def column_values(model: str, field: str) -> list[Any]:
    """The distinct values the dataset holds in ``model.field`` (nulls included), in first-seen order."""
    seen: list[Any] = []
    for row in DATASET[model]:
        value = row.get(field)
        if value not in seen:
            seen.append(value)
    return seen
