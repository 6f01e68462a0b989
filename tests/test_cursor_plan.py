"""A cursor page reads a few index entries past the cursor, not every row before it.

Judged by PostgreSQL's own plan (``EXPLAIN ANALYZE``): the rows the executor looked at and
threw away stay small however deep into the table the cursor sits, for an order on a
required field and on a nullable one.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
import pytest

from datatier import Client
from datatier.migrate._push import push
from tests.harness.golden import REPO

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"
POSTS = 4_000


def _rows_removed(plan: Any) -> int:
    """Rows that every node of ``plan`` read and dropped (filters, joins)."""
    if isinstance(plan, list):
        return sum(_rows_removed(item) for item in plan)
    if not isinstance(plan, dict):
        return 0
    removed = int(plan.get("Rows Removed by Filter", 0)) * int(plan.get("Actual Loops", 1))
    return removed + sum(_rows_removed(value) for value in plan.values())


@pytest.mark.parametrize(
    "order",
    [{"publishedAt": "desc"}, {"publishedAt": "asc"}, {"id": "asc"}, {"id": "desc"}],
    ids=["nullable-desc", "nullable-asc", "required-asc", "required-desc"],
)
async def test_a_deep_cursor_page_reads_only_its_rows(pg_url: str, order: dict[str, str]) -> None:
    db = Client(SCHEMA, pg_url)
    push(db.schema, pg_url)
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(
            "INSERT INTO users (id, email, \"updatedAt\") VALUES ('u1', 'u1@example.com', now())"
        )
        # Every fifth post unpublished (publishedAt NULL), so both NULL branches have rows.
        await conn.execute(
            'INSERT INTO "Post" ("authorId", title, content, status, views, "publishedAt", '
            '"updatedAt") SELECT \'u1\', \'t\' || g, \'c\', \'PUBLISHED\', g % 500, '
            "CASE WHEN g % 5 = 0 THEN NULL ELSE now() - g * interval '1 minute' END, now() "
            f"FROM generate_series(1, {POSTS}) AS g"
        )
        await conn.execute('ANALYZE "Post"')
        args = {
            "where": {"status": "PUBLISHED", "views": {"gte": 10}},
            "orderBy": order,
            "cursor": {"id": POSTS // 2 + 11},  # published, views 11: passes the filter
            "skip": 1,
            "take": 20,
        }
        expected = await db.post.find_many(**{**args, "order_by": args.pop("orderBy")})
        assert len(expected) == 20
        engine = db.engine
        shape, params = engine.planner.read("Post", {**args, "orderBy": order})
        compiled = engine.compiler.compile_read(shape)
        raw = await conn.fetchval(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled.sql}", *compiled.arguments(params)
        )
        removed = _rows_removed(orjson.loads(raw))
        # Before the cursor lie about POSTS / 2 rows; a page may skip a few that fail the filter.
        assert removed < 200, f"the page read and dropped {removed} rows"
    finally:
        await conn.close()
        await db.close()
