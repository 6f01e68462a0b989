"""Write-back (datatier.cache._writeback) on SQLite and PostgreSQL with a real Redis.

Each test uses its own database, its own Redis logical database and a unique namespace.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import redis.asyncio

from datatier import Client
from datatier.cache._writeback import WriteBack, WriteBackSpec
from datatier.drivers import StatementEvent
from datatier.errors import ConfigError, NotFound, ValidationError
from datatier.migrate._push import push
from tests.harness.backends import Backend
from tests.harness.golden import REPO

SCHEMA = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Post {
  id         Int       @id @default(autoincrement())
  title      String
  views      Int       @default(0)
  likes      BigInt    @default(0)
  score      Float     @default(0)
  lastSeenAt DateTime?
  tags       Tag[]
}

model Tag {
  id     Int    @id @default(autoincrement())
  name   String
  post   Post   @relation(fields: [postId], references: [id])
  postId Int
}
"""
FIELDS = ("views", "likes", "score", "lastSeenAt")


class Setup:
    """A client with two posts, a Redis connection and a namespace of this test's own."""

    def __init__(self, client: Client, redis_client: redis.asyncio.Redis, namespace: str) -> None:
        self.client = client
        self.redis = redis_client
        self.namespace = namespace
        self.made: list[WriteBack] = []

    async def writeback(self, **options: Any) -> WriteBack:
        """A started WriteBack for Post (flusher off unless asked: tests drain explicitly)."""
        options.setdefault("flusher", False)
        wb = WriteBack(
            engine=self.client.engine,
            driver=await self.client._get_driver(),
            redis=self.redis,
            namespace=self.namespace,
            models={"Post": WriteBackSpec(FIELDS)},
            **options,
        )
        await wb.start()
        self.made.append(wb)
        return wb

    async def db_row(self, post_id: int) -> dict[str, Any]:
        row = await self.client.post.find_unique(where={"id": post_id})
        assert row is not None
        return row


@pytest_asyncio.fixture
async def setup(sql_backend: Backend, redis_url: str, tmp_path: Path) -> AsyncIterator[Setup]:
    provider = "sqlite" if sql_backend.provider == "sqlite" else "postgresql"
    schema_file = tmp_path / "schema.prisma"
    schema_file.write_text(SCHEMA.replace('"postgresql"', f'"{provider}"'))
    client = Client(schema_file, sql_backend.url)
    push(client.schema, sql_backend.url)
    redis_client = redis.asyncio.from_url(redis_url)
    async with client:
        for title in ("first", "second"):
            await client.post.create(data={"title": title})
        made = Setup(client, redis_client, f"wbtest-{uuid.uuid4().hex[:8]}")
        try:
            yield made
        finally:
            for wb in made.made:
                await wb.close()
            await redis_client.aclose()


def _update(post_id: int, **data: Any) -> dict[str, Any]:
    return {"where": {"id": post_id}, "data": data}


async def test_acknowledged_increments_all_land(setup: Setup) -> None:
    wb = await setup.writeback(flusher=True, flush_interval=0.01, batch_size=50)
    seen = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)

    async def bump(worker: int) -> None:
        for _ in range(12):
            post = 1 + worker % 2
            await wb.write("Post", _update(post, views={"increment": 1}, likes={"increment": 2}))
            await wb.write("Post", _update(post, score={"increment": 0.5}))

    await asyncio.gather(*(bump(worker) for worker in range(10)))
    await wb.write("Post", _update(1, lastSeenAt=seen, views={"decrement": 10}))
    await wb.drain()
    first, second = await setup.db_row(1), await setup.db_row(2)
    assert (first["views"], first["likes"], first["score"]) == (50, 120, 30.0)
    assert (second["views"], second["likes"], second["score"]) == (60, 120, 30.0)
    assert first["lastSeenAt"] == seen.replace(microsecond=6000)
    assert await setup.redis.xlen(wb.keys.stream) == 0
    assert not await setup.redis.keys(f"{setup.namespace}:wb:Post:*")


async def test_reads_see_pending_values(setup: Setup) -> None:
    wb = await setup.writeback()
    record = await wb.write("Post", _update(1, views={"increment": 5}))
    assert record["views"] == 5 and record["title"] == "first"
    record = await wb.write(
        "Post", {**_update(1, views={"increment": 2}), "select": {"views": True}}
    )
    assert record == {"views": 7}
    assert (await setup.db_row(1))["views"] == 0  # not flushed yet
    rows = await setup.client.post.find_many(order_by={"id": "asc"})
    shown = await wb.overlay("Post", rows)
    assert [r["views"] for r in shown] == [7, 0]
    assert rows[0]["views"] == 0  # overlay returns new dicts
    # rows without their key (a select leaving it out) cannot be matched: shown as they are
    assert await wb.overlay("Post", [{"views": 0}]) == [{"views": 0}]
    await wb.drain()
    assert (await setup.db_row(1))["views"] == 7
    assert [r["views"] for r in await wb.overlay("Post", [await setup.db_row(1)])] == [7]


async def test_coalescing_makes_few_updates(setup: Setup) -> None:
    wb = await setup.writeback(batch_size=500)
    updates: list[str] = []

    def listen(event: StatementEvent) -> None:
        if event.sql.lstrip().upper().startswith("UPDATE") and '"Post"' in event.sql:
            updates.append(event.sql)

    setup.client.on_statement(listen)
    # select only written fields: acknowledged from Redis alone once the row has a hash
    document = {**_update(1, views={"increment": 1}), "select": {"views": True}}

    async def bump() -> None:
        for _ in range(100):
            await wb.write("Post", document)

    await asyncio.gather(*(bump() for _ in range(10)))
    assert updates == []
    await wb.drain()
    assert (await setup.db_row(1))["views"] == 1000
    assert len(updates) == 2  # 1,000 increments: two batches of 500, one UPDATE each


async def test_set_then_increments_coalesce_to_the_final_value(setup: Setup) -> None:
    wb = await setup.writeback()
    await wb.write("Post", _update(2, views={"increment": 3}))
    await wb.write("Post", _update(2, views=100))
    await wb.write("Post", _update(2, views={"increment": 1}))
    await wb.write("Post", _update(2, lastSeenAt=None))
    await wb.drain()
    row = await setup.db_row(2)
    assert row["views"] == 101 and row["lastSeenAt"] is None


async def test_exactly_once_when_the_flusher_dies_between_commit_and_ack(setup: Setup) -> None:
    wb = await setup.writeback()
    for _ in range(10):
        await wb.write("Post", _update(1, views={"increment": 1}))

    async def crash(stage: str) -> None:
        raise RuntimeError(f"crash at {stage}")

    wb.flusher.hook = crash
    with pytest.raises(RuntimeError, match="committed"):
        await wb.flusher.flush_once()
    assert (await setup.db_row(1))["views"] == 10
    assert await setup.redis.xlen(wb.keys.stream) == 10  # committed, never acknowledged
    # a new process: it reads the applied id from the database and acks it before resuming
    restarted = await setup.writeback()
    assert await setup.redis.xlen(wb.keys.stream) == 0
    await restarted.write("Post", _update(1, views={"increment": 1}))
    await restarted.drain()
    assert (await setup.db_row(1))["views"] == 11
    # the dead flusher's stale position is refused by the database's compare-and-set
    wb.flusher.hook = None
    wb.flusher.applied = "0-0"
    await restarted.write("Post", _update(1, views={"increment": 1}))
    assert await wb.flusher.flush_once() == 0
    await wb.drain()
    assert (await setup.db_row(1))["views"] == 12


async def test_two_flushers_apply_each_entry_once(setup: Setup) -> None:
    one = await setup.writeback(batch_size=7)
    two = await setup.writeback(batch_size=5)
    for i in range(100):
        await one.write("Post", _update(1 + i % 2, views={"increment": 1}))
    await asyncio.gather(one.drain(), two.drain(), one.drain())
    assert [(await setup.db_row(i))["views"] for i in (1, 2)] == [50, 50]


async def test_a_base_read_racing_a_flush_is_retried(setup: Setup) -> None:
    wb = await setup.writeback()
    other = await setup.writeback()
    reads: list[int] = []

    async def race(stage: str) -> None:
        # After this write read its base (views 0) but before its script runs, another
        # write lands and is flushed and acknowledged: the base is stale.
        reads.append(1)
        if len(reads) == 1:
            await other.write("Post", _update(1, views={"increment": 1}))
            await other.drain()

    wb.hook = race
    record = await wb.write("Post", _update(1, views={"increment": 1}))
    assert len(reads) == 2  # the generation changed: the base was read again
    assert record["views"] == 2
    assert (await wb.overlay("Post", [await setup.db_row(1)]))[0]["views"] == 2
    await wb.drain()
    assert (await setup.db_row(1))["views"] == 2


async def test_accepts_only_plain_key_updates_of_opted_in_fields(setup: Setup) -> None:
    wb = await setup.writeback()
    accepted = [
        _update(1, views={"increment": 1}),
        _update(1, views={"decrement": 1}, lastSeenAt="2026-01-01T00:00:00Z"),
        _update(1, score={"set": 1.5}),
        {**_update(1, views=3), "select": {"id": True, "views": True}},
    ]
    refused = [
        _update(1, title="x"),  # not opted in
        _update(1, views={"multiply": 2}),
        _update(1, lastSeenAt={"increment": 1}),
        {"where": {"id": {"equals": 1}}, "data": {"views": 1}},
        {"where": {"id": 1, "title": "first"}, "data": {"views": 1}},
        {**_update(1, views=1), "include": {"tags": True}},
        {**_update(1, views=1), "select": {"tags": True}},
        {"where": {"id": 1}, "data": {}},
    ]
    assert all(wb.accepts("Post", "update", doc) for doc in accepted)
    assert not any(wb.accepts("Post", "update", doc) for doc in refused)
    assert not wb.accepts("Post", "update_many", accepted[0])
    assert not wb.accepts("Tag", "update", accepted[0])


async def test_bad_input_writes_nothing(setup: Setup) -> None:
    wb = await setup.writeback()
    with pytest.raises(ValidationError) as error:
        await wb.write("Post", _update(1, views={"increment": "many"}))
    assert error.value.path == ("data", "views")
    with pytest.raises(ValidationError) as error:
        await wb.write("Post", _update("one", views={"increment": 1}))  # type: ignore[arg-type]
    assert error.value.path == ("where", "id")
    with pytest.raises(NotFound):
        await wb.write("Post", _update(99, views={"increment": 1}))
    await wb.write("Post", _update(1, views=2**31 - 2))
    with pytest.raises(ValidationError, match="range"):
        await wb.write("Post", _update(1, views={"increment": 5}))
    assert await setup.redis.xlen(wb.keys.stream) == 1
    with pytest.raises(ConfigError, match="no scalar field `nope`"):
        WriteBack(
            engine=setup.client.engine,
            driver=await setup.client._get_driver(),
            redis=setup.redis,
            namespace=setup.namespace,
            models={"Post": WriteBackSpec(("nope",))},
        )


async def test_a_normal_write_first_drains_the_row(setup: Setup) -> None:
    wb = await setup.writeback()
    await wb.write("Post", _update(1, views={"increment": 4}))
    document = _update(1, views=0)
    await wb.before_write("Post", "update", document)
    assert (await setup.db_row(1))["views"] == 4
    await setup.client.post.update(**document)
    await wb.write("Post", _update(1, views={"increment": 1}))
    await wb.drain()
    assert (await setup.db_row(1))["views"] == 1


async def test_weak_redis_persistence_is_reported(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="datatier.cache.writeback"):
        wb = await setup.writeback()
    config: dict[Any, Any] = await setup.redis.config_get("append*")
    if config.get(b"appendonly") == b"yes" and config.get(b"appendfsync") == b"always":
        assert wb.durable
    else:
        assert wb.durable is False
        assert "appendfsync always" in caplog.text


def test_the_docs_example_runs(redis_url: str, tmp_path: Path) -> None:
    text = (REPO / "docs" / "cache-write-back.md").read_text()
    schema = re.search(r"```prisma\n(.*?)```", text, re.S)
    program = re.search(r"```python\n(.*?)```", text, re.S)
    assert schema is not None and program is not None
    (tmp_path / "schema.prisma").write_text(schema.group(1))
    code = program.group(1).replace("redis://127.0.0.1:6379/14", redis_url)
    (tmp_path / "example.py").write_text(code)
    datatier = str(Path(sys.executable).parent / "datatier")
    pushed = subprocess.run(
        [datatier, "db", "push"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert pushed.returncode == 0, pushed.stderr
    ran = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["read:", "100", "database:", "100"]


async def test_a_resent_write_script_applies_once(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # redis-py resends a command after a connection error; if the first send ran but its
    # reply was lost, the resend must not increment again (same call -> same done marker).
    wb = await setup.writeback()
    monkeypatch.setattr("datatier.cache._writeback.secrets.token_hex", lambda n: "same-call")
    first = await wb.write("Post", _update(1, views={"increment": 1}))
    again = await wb.write("Post", _update(1, views={"increment": 1}))
    assert first["views"] == again["views"] == 1
    assert await setup.redis.xlen(wb.keys.stream) == 1
    await wb.drain()
    assert (await setup.db_row(1))["views"] == 1
