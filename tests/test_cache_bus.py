"""ChangeBus and the relay against real databases and a real Redis: stamping, write-through,
delivery across buses (pub/sub and polling), gaps, pending events of crashed writers,
retention, reconnects."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pytest
import redis.asyncio

from datatier.cache import _relay
from datatier.cache._bus import ChangeBus, Retention
from datatier.cache._versions import Versions
from datatier.drivers import Connection, Driver, open_driver
from datatier.query._changes import ChangeEvent, insert_changes_sql
from datatier.query._model_info import SchemaInfo
from datatier.schema import validate_schema_text

_INFO = SchemaInfo(
    validate_schema_text(
        'datasource db {\n  provider = "sqlite"\n  url = "file:x.db"\n}\n'
        "model Post {\n  id Int @id\n}\nmodel User {\n  id Int @id\n}\n"
    )
)


class _Versions(Versions):
    """The cache's Versions, also keeping what the bus applied and how often it suspended."""

    def __init__(self) -> None:
        super().__init__(_INFO)
        self.seen: list[ChangeEvent] = []
        self.suspends = 0
        self.resumes = 0
        self.started_at: int | None = None

    def apply(self, events: Iterable[ChangeEvent]) -> None:
        events = list(events)
        seqs = [e.seq for e in events]
        assert seqs == sorted(set(seqs)), "events must arrive in seq order, each once"
        assert not seqs or seqs[0] > self.applied, "nothing applied twice"
        super().apply(events)
        self.seen.extend(events)

    def suspend(self) -> None:
        self.suspends += 1
        super().suspend()

    def resume(self) -> None:
        self.resumes += 1
        super().resume()

    def start_at(self, seq: int) -> None:
        self.started_at = seq
        super().start_at(seq)


async def _write(driver: Driver, *events: tuple[str, str, str]) -> None:
    """What the write path does: the events in the writer's transaction (seq NULL)."""

    async def run(conn: Connection) -> None:
        async with conn.transaction():
            args = [value for event in events for value in event]
            await conn.execute(insert_changes_sql(driver.provider, len(events)), args)

    await driver.run(run)


async def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


@pytest.fixture
async def pg_driver(pg_url: str) -> AsyncIterator[Driver]:
    driver = await open_driver(pg_url, pool_size=4)
    yield driver
    await driver.close()


def _bus(
    driver: Driver, redis_client: redis.asyncio.Redis | None = None, **kwargs: Any
) -> tuple[ChangeBus, _Versions]:
    versions = _Versions()
    namespace = kwargs.pop("namespace", "t")
    bus = ChangeBus(
        provider=driver.provider,
        driver=driver,
        versions=versions,
        redis=redis_client,
        namespace=namespace,
        **kwargs,
    )
    return bus, versions


async def test_sqlite_after_commit_applies_own_writes_with_seq_equal_to_id(sqlite_url: str) -> None:
    driver = await open_driver(sqlite_url)
    bus, versions = _bus(driver)
    await bus.start()
    try:
        await _write(driver, ("Post", "create", "[1]"), ("User", "update", '["a"]'))
        await bus.after_commit()
        assert [(e.seq, e.model, e.op, e.key) for e in versions.seen] == [
            (1, "Post", "create", "[1]"),
            (2, "User", "update", '["a"]'),
        ]
        assert bus.applied == 2
        assert bus.lag.summary().count == 2
    finally:
        await bus.close()
        await driver.close()


async def test_sqlite_replays_the_outbox_at_start(sqlite_url: str) -> None:
    driver = await open_driver(sqlite_url)
    first, _ = _bus(driver)
    await first.start()
    await _write(driver, ("Post", "delete", "[7]"))
    await first.after_commit()
    await first.close()
    second, versions = _bus(driver)
    await second.start()
    try:
        assert [e.key for e in versions.seen] == ["[7]"]
        assert second.lag.summary().count == 0, "replay at start is not delivery lag"
    finally:
        await second.close()
        await driver.close()


async def test_postgres_stamps_in_id_order_under_the_lock(pg_driver: Driver) -> None:
    bus, versions = _bus(pg_driver)
    await bus.start()
    try:
        await _write(pg_driver, *[("Post", "update", f"[{i}]") for i in range(50)])
        await bus.after_commit()
        assert [e.key for e in versions.seen] == [f"[{i}]" for i in range(50)]
        assert [e.seq for e in versions.seen] == list(range(1, 51))

        # Concurrent writers: every event applied once, in seq order.
        async def one(i: int) -> None:
            await _write(pg_driver, ("User", "create", f"[{i}]"))
            await bus.after_commit()

        await asyncio.gather(*(one(i) for i in range(40)))
        assert sorted(e.key for e in versions.seen[50:]) == sorted(f"[{i}]" for i in range(40))
        assert bus.applied == 90
    finally:
        await bus.close()


async def test_postgres_without_redis_polls_the_outbox(pg_driver: Driver) -> None:
    writer, _ = _bus(pg_driver, poll_interval=0.05)
    reader, seen = _bus(pg_driver, poll_interval=0.05)
    await writer.start()
    await reader.start()
    try:
        await _write(pg_driver, ("Post", "update", "[1]"))
        await writer.after_commit()
        await _until(lambda: seen.applied == 1)
        assert reader.lag.summary().max < 5
    finally:
        await writer.close()
        await reader.close()


async def test_relay_stamps_what_a_crashed_writer_left_pending(pg_driver: Driver) -> None:
    bus, versions = _bus(pg_driver, poll_interval=0.05)
    await bus.start()
    try:
        await _write(pg_driver, ("Post", "create", "[3]"))  # no after_commit: the writer died
        await _until(lambda: versions.applied == 1)
    finally:
        await bus.close()


async def test_stamp_nowait_skips_while_another_process_stamps(pg_url: str) -> None:
    driver = await open_driver(pg_url, pool_size=2)
    try:
        await driver.run(lambda c: _ensure(c, driver.provider))
        await _write(driver, ("Post", "create", "[1]"))

        async def holder(conn: Connection) -> list[_relay.Stamped] | None:
            async with conn.transaction():
                await conn.fetch_one(f"SELECT pg_advisory_xact_lock({_relay.RELAY_LOCK})")
                skipped = await driver.run(lambda c: _relay.stamp(c, "postgresql", wait=False))
                assert skipped is None
            return await _relay.stamp(conn, "postgresql", wait=False)

        stamped = await driver.run(holder)
        assert stamped is not None and [s.event.seq for s in stamped] == [1]
    finally:
        await driver.close()


async def _ensure(conn: Connection, provider: str) -> None:
    from datatier.query._changes import outbox_ddl

    for statement in outbox_ddl(provider):
        await conn.execute(statement)


async def test_redis_delivers_batches_to_other_processes(pg_driver: Driver, redis_url: str) -> None:
    namespace = f"t{secrets.token_hex(4)}"
    client = redis.asyncio.Redis.from_url(redis_url)
    # A slow poll: delivery within it can only have come over pub/sub.
    writer, _ = _bus(pg_driver, client, namespace=namespace, poll_interval=30)
    reader, seen = _bus(pg_driver, client, namespace=namespace, poll_interval=30)
    await writer.start()
    await reader.start()
    try:
        await _write(pg_driver, ("Post", "update", "[1]"), ("Post", "update", "[2]"))
        await writer.after_commit()
        await _until(lambda: seen.applied == 2)
        assert reader.catchups == 1, "only the catch-up at subscription"
        # A batch stamped by a publisher that died before publishing: the next batch's prev
        # is ahead, so the reader catches up from the outbox first.
        await _write(pg_driver, ("Post", "update", "[3]"))
        await pg_driver.run(_relay.stamp, "postgresql")
        await _write(pg_driver, ("Post", "update", "[4]"))
        await writer.after_commit()
        await _until(lambda: seen.applied == 4)
        assert [e.key for e in seen.seen] == ["[1]", "[2]", "[3]", "[4]"]
        assert reader.catchups == 2
        assert reader.lag.summary().count == 4
    finally:
        await writer.close()
        await reader.close()
        await client.aclose()


async def test_reconnect_suspends_catches_up_and_resumes(pg_driver: Driver, redis_url: str) -> None:
    namespace = f"t{secrets.token_hex(4)}"
    name = f"bus-{namespace}"
    client = redis.asyncio.Redis.from_url(redis_url, client_name=name)
    admin = redis.asyncio.Redis.from_url(redis_url)
    reader, seen = _bus(pg_driver, client, namespace=namespace, poll_interval=30)
    await reader.start()
    try:
        assert seen.vouched and reader.reconnects == 0
        # Cut the reader's pub/sub connection (only that one: the server is shared).
        clients = await admin.client_list()
        ids = [c["id"] for c in clients if c.get("name") == name and "subscribe" in c["cmd"]]
        assert ids
        await _write(pg_driver, ("Post", "delete", "[9]"))
        await pg_driver.run(_relay.stamp, "postgresql")  # stamped, never published
        for client_id in ids:
            await admin.client_kill_filter(_id=client_id)
        await _until(lambda: reader.reconnects == 1, timeout=10)
        await _until(lambda: seen.vouched)
        assert seen.suspends >= 2 and seen.resumes >= 2  # start, then the reconnect
        assert [e.key for e in seen.seen] == ["[9]"]
    finally:
        await reader.close()
        await client.aclose()
        await admin.aclose()


async def test_trim_keeps_recent_and_pending_events(sql_backend: Any) -> None:
    driver = await open_driver(sql_backend.url)
    bus, _ = _bus(driver, retention=Retention(max_age=3600, keep=3, batch=2, every=3600))
    await bus.start()
    try:
        await _write(driver, *[("Post", "update", f"[{i}]") for i in range(10)])
        await bus.after_commit()
        await _write(driver, ("Post", "update", "[pending]"))
        assert await bus.trim() == 7
        rows = await driver.run(
            lambda c: c.fetch('SELECT "seq", "key" FROM "_datatier_changes" ORDER BY "id"')
        )
        assert [(r[0], r[1]) for r in rows] == [
            (8, "[7]"),
            (9, "[8]"),
            (10, "[9]"),
            (None, "[pending]"),
        ]
        # A process starting now cannot replay from the beginning: versions start at the top.
        fresh, versions = _bus(driver)
        await fresh.start()
        assert versions.started_at == 10 and fresh.applied == 10
        await fresh.after_commit()
        assert [e.key for e in versions.seen] == ["[pending]"]
        await fresh.close()
        # Age: everything stamped is older than 0 s.
        bus.retention = Retention(max_age=0, keep=1000, every=3600)
        await asyncio.sleep(0.01)
        assert await bus.trim() == 4
    finally:
        await bus.close()
        await driver.close()


async def test_collect_exposes_lag_and_applied_seq(sqlite_url: str) -> None:
    driver = await open_driver(sqlite_url)
    bus, _ = _bus(driver)
    await bus.start()
    try:
        await _write(driver, ("Post", "create", "[1]"))
        await bus.after_commit()
        metrics = {m.name: m for m in bus.collect()}
        assert metrics["datatier_cache_change_applied_seq"].samples[0].value == 1
        lag = metrics["datatier_cache_change_lag_seconds"]
        assert {s.labels["quantile"] for s in lag.samples} == {"0.5", "0.99", "1"}
    finally:
        await bus.close()
        await driver.close()


async def test_the_relay_loop_trims_when_due(sqlite_url: str) -> None:
    driver = await open_driver(sqlite_url)
    bus, versions = _bus(driver, poll_interval=0.05, retention=Retention(max_age=0, every=0.1))
    await bus.start()
    try:
        await _write(driver, ("Post", "create", "[1]"))
        await bus.after_commit()

        async def left(conn: Connection) -> int:
            row = await conn.fetch_one('SELECT COUNT(*) FROM "_datatier_changes"')
            return int(row[0]) if row else -1

        for _ in range(100):
            if await driver.run(left) == 0:
                break
            await asyncio.sleep(0.02)
        assert await driver.run(left) == 0
        assert versions.applied == 1
    finally:
        await bus.close()
        await driver.close()
