"""Raw stdlib ``sqlite3``: the floor of the embedded workloads. One connection, hand-written SQL, called on the loop.

The same reads as the PostgreSQL floor, in SQLite's dialect: ``nested`` is one
statement folding users, their 10 latest posts and each post's comment count into
one JSON document with ``json_group_array``/``json_object`` (``json(...)`` keeps a
subquery's JSON from being quoted as a string). DateTime columns hold ISO text
(as datatier and Prisma 7 write them) and are parsed to aware datetimes, so the
floor returns the same values datatier does.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from bench.peers.blog import FEW, NESTED, NESTED_POSTS, NESTED_USERS, POST_FIELDS

_COLUMNS = ", ".join(f'"{name}"' for name in POST_FIELDS)
_DATETIMES = tuple(i for i, name in enumerate(POST_FIELDS) if name.endswith("At"))
FIND_UNIQUE_SQL = f'SELECT {_COLUMNS} FROM "Post" WHERE "id" = ?'
FIND_MANY_50_SQL = f'SELECT {_COLUMNS} FROM "Post" ORDER BY "createdAt" DESC LIMIT {FEW}'
NESTED_SQL = f"""
SELECT json_group_array(json_object('id', u."id", 'email', u."email", 'posts', json((
    SELECT json_group_array(json_object('id', p."id", 'title', p."title", '_count',
        json_object('comments', (SELECT count(*) FROM "Comment" AS c WHERE c."postId" = p."id"))))
    FROM (SELECT "id", "title" FROM "Post" WHERE "authorId" = u."id"
          ORDER BY "createdAt" DESC LIMIT {NESTED_POSTS}) AS p
))))
FROM (SELECT "id", "email" FROM "users" ORDER BY "email" LIMIT {NESTED_USERS}) AS u
"""


def _post(row: tuple[Any, ...]) -> dict[str, Any]:
    values = list(row)
    for index in _DATETIMES:
        if values[index] is not None:
            values[index] = dt.datetime.fromisoformat(values[index])
    return dict(zip(POST_FIELDS, values, strict=True))


class SqlitePeer:
    """``conn.execute(sql, params).fetchone()`` on one connection (WAL, autocommit)."""

    subject = "sqlite3"
    operation = "one connection"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    async def open(cls, path: Path) -> SqlitePeer:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        return cls(conn)

    async def find_unique(self, post_id: int) -> object:
        row = self._conn.execute(FIND_UNIQUE_SQL, (post_id,)).fetchone()
        return None if row is None else _post(row)

    async def find_many_50(self, _arg: int) -> object:
        return [_post(row) for row in self._conn.execute(FIND_MANY_50_SQL)]

    async def nested(self, _arg: int) -> object:
        return orjson.loads(self._conn.execute(NESTED_SQL).fetchone()[0])

    def plain(self, workload: str, result: object) -> Any:
        return result

    async def close(self) -> None:
        self._conn.close()


__all__ = ["NESTED", "SqlitePeer"]
