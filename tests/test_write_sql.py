"""The exact SQL of write statements the writer builds for updates, nested foreign-key and
many-to-many changes and deletes (PostgreSQL), each with its parameters in order; and the
relation writes it refuses before running anything. No database: a connection records what
it is given."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from datatier.errors import RequiredRelationViolation
from datatier.query._engine import Engine
from datatier.schema import load_schema
from tests.harness.golden import REPO

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"


class RecordingConnection:
    """Answers every query with one row ``(1,)`` and every statement with one changed row."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, list[Any]]] = []

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[int]]:
        self.statements.append((" ".join(sql.split()), list(args)))
        return [(1,)]

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        self.statements.append((" ".join(sql.split()), list(args)))
        return 1


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_schema(SCHEMA), "postgresql")


async def _update(engine: Engine, model: str, where: Any, data: Any) -> RecordingConnection:
    conn = RecordingConnection()
    await engine.writer.update_where(conn, model, where, data, keys_out=[])  # type: ignore[arg-type]
    return conn


async def test_update_with_a_number_operation_returns_the_keys(engine: Engine) -> None:
    conn = await _update(engine, "Post", {"id": 3}, {"views": {"increment": 2}})
    ((sql, args),) = conn.statements
    assert sql == (
        'UPDATE "Post" SET views=("Post".views + $1::INTEGER), '
        '"updatedAt"=$2::TIMESTAMP WITHOUT TIME ZONE WHERE "Post".id = $3::INTEGER '
        'RETURNING "Post".id'
    )
    assert (args[0], args[2]) == (2, 3)


async def test_set_unpoints_every_child_then_points_the_named_ones(engine: Engine) -> None:
    conn = await _update(engine, "Category", {"id": 1}, {"posts": {"set": [{"id": 5}]}})
    assert conn.statements == [
        ('SELECT "Category".id FROM "Category" WHERE "Category".id = $1::INTEGER', [1]),
        (
            'UPDATE "Post" SET "categoryId"=$1::INTEGER WHERE "Post"."categoryId" = $2::INTEGER',
            [None, 1],
        ),
        ('UPDATE "Post" SET "categoryId"=$1::INTEGER WHERE "Post".id = $2::INTEGER', [1, 5]),
    ]


async def test_disconnect_unpoints_only_the_parents_children_it_names(engine: Engine) -> None:
    conn = await _update(engine, "Comment", {"id": 1}, {"replies": {"disconnect": [{"id": 7}]}})
    assert conn.statements[1:] == [
        (
            'UPDATE "Comment" SET "parentId"=$1::INTEGER '
            'WHERE "Comment"."parentId" = $2::INTEGER AND "Comment".id = $3::INTEGER',
            [None, 1, 7],
        )
    ]


async def test_many_to_many_disconnect_deletes_join_rows(engine: Engine) -> None:
    conn = await _update(engine, "Post", {"id": 1}, {"tags": {"disconnect": [{"id": 7}]}})
    assert conn.statements[-1] == (
        'DELETE FROM "_PostToTag" WHERE "_PostToTag"."A" = $1::INTEGER AND "_PostToTag"."B" '
        'IN (SELECT "Tag".id FROM "Tag" WHERE "Tag".id = $2::INTEGER)',
        [1, 7],
    )


async def test_delete_returns_the_keys_then_the_asked_fields(engine: Engine) -> None:
    conn = RecordingConnection()
    rows: list[Sequence[Any]] = []
    count = await engine.writer.delete_where(
        conn,  # type: ignore[arg-type]
        "Tag",
        {"name": "x"},
        returning=("name",),
        rows_out=rows,
    )
    assert conn.statements == [
        ('DELETE FROM "Tag" WHERE "Tag".name = $1::VARCHAR RETURNING "Tag".id, "Tag".name', ["x"])
    ]
    assert count == 1


@pytest.mark.parametrize("op", ["set", "disconnect"])
async def test_children_with_a_required_parent_cannot_be_unlinked(engine: Engine, op: str) -> None:
    conn = RecordingConnection()
    with pytest.raises(RequiredRelationViolation):
        await engine.writer.update_where(
            conn,  # type: ignore[arg-type]
            "Post",
            {"id": 1},
            {"comments": {op: [{"id": 2}]}},
        )
    # Only the parent's own @updatedAt change ran before the refusal: no comment was touched.
    ((sql, _),) = conn.statements
    assert sql.startswith('UPDATE "Post" SET "updatedAt"=')
