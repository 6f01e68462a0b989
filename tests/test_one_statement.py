"""Every read, however deeply nested, is ONE statement: counted by the database itself
(``pg_stat_statements`` on PostgreSQL, SQLite's trace hook), not by datatier's listeners.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from datatier import Client
from datatier.migrate._push import push
from tests.harness.golden import REPO
from tests.harness.statements import StatementCounter

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"

READS: list[tuple[str, str, dict[str, Any]]] = [
    ("user", "find_unique", {"where": {"email": "ann@example.com"}}),
    (
        "user",
        "find_many",
        {
            "take": 20,
            "order_by": {"email": "asc"},
            "select": {
                "id": True,
                "email": True,
                "profile": {"select": {"bio": True}},
                "posts": {
                    "take": 10,
                    "orderBy": {"createdAt": "desc"},
                    "where": {"comments": {"some": {}}},
                    "select": {
                        "title": True,
                        "tags": {"select": {"slug": True}},
                        "comments": {"select": {"content": True, "author": {"select": {"email": True}}}},
                        "_count": {"select": {"comments": True}},
                    },
                },
                "_count": True,
            },
        },
    ),
    (
        "post",
        "find_many",
        {
            "where": {"author": {"posts": {"some": {"tags": {"some": {"slug": "t0"}}}}}},
            "order_by": [{"author": {"email": "desc"}}, {"comments": {"_count": "desc"}}],
            "cursor": {"id": 1},
            "distinct": ["authorId"],
        },
    ),
    ("post", "count", {"where": {"OR": [{"views": {"gt": 1}}, {"tags": {"none": {}}}]}}),
]


async def _seed(db: Client) -> None:
    ann = await db.user.create(data={"email": "ann@example.com", "profile": {"create": {"bio": "hi"}}})
    for i in range(3):
        await db.post.create(
            data={
                "title": f"p{i}",
                "content": "c",
                "views": i,
                "author": {"connect": {"id": ann["id"]}},
                "tags": {"create": [{"name": f"t{i}", "slug": f"t{i}"}]},
                "comments": {"create": [{"content": "nice", "author": {"connect": {"id": ann["id"]}}}]},
            }
        )


async def _reads_are_one_statement_each(url: str, counter: StatementCounter) -> None:
    async with Client(SCHEMA, url) as db:
        await _seed(db)
        for model, method, args in READS:
            call = getattr(getattr(db, model), method)
            await call(**args)  # warm up: compile the shape, let the driver learn the types
            counter.reset()
            await call(**args)
            executed = counter.statements()
            assert len(executed) == 1, (model, method, executed)


async def test_postgres_reads_are_one_statement(
    counted_pg_url: str, server_statements: Callable[[str], StatementCounter]
) -> None:
    push(Client(SCHEMA, counted_pg_url).schema, counted_pg_url)
    await _reads_are_one_statement_each(counted_pg_url, server_statements(counted_pg_url))


async def test_sqlite_reads_are_one_statement(
    tmp_path: Path, server_statements: Callable[[str], StatementCounter]
) -> None:
    url = f"file:{tmp_path / 'one.db'}"
    push(Client(SCHEMA, url).schema, url)
    counter = server_statements(url)
    await _reads_are_one_statement_each(url, counter)


@pytest.mark.parametrize("provider", ["sqlite"])
async def test_counter_sees_a_write_as_several_statements(
    provider: str, tmp_path: Path, server_statements: Callable[[str], StatementCounter]
) -> None:
    """The counter is not blind: a nested create is more than one statement."""
    url = f"file:{tmp_path / 'w.db'}"
    push(Client(SCHEMA, url).schema, url)
    counter = server_statements(url)
    async with Client(SCHEMA, url) as db:
        counter.reset()
        await db.user.create(data={"email": "x@example.com", "posts": {"create": [{"title": "a", "content": "b"}]}})
        assert len(counter.statements()) > 1
