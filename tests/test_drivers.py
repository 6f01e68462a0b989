"""The async drivers against real databases: statements, values, transactions, pool, listeners, errors.

Bodies taking ``sql_backend`` run on SQLite and PostgreSQL alike; SQL is written with
``?`` placeholders and ``sql()`` turns them into ``$n`` for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from datatier.drivers import Driver, StatementEvent, open_driver
from datatier.drivers import _sqlite as sqlite_driver
from datatier.errors import (
    ConnectionFailed,
    ConnectionLost,
    ForeignKeyViolation,
    NullViolation,
    PoolTimeout,
    QueryError,
    QueryTimeout,
    TransactionConflict,
    UniqueViolation,
)
from tests.harness.backends import Backend

T = TypeVar("T")


def run(body: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(body())


def sql(backend: Backend | str, text: str) -> str:
    """``text`` with its ``?`` placeholders as the backend writes them."""
    provider = backend if isinstance(backend, str) else backend.provider
    if provider == "sqlite":
        return text
    numbers = iter(range(1, text.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(numbers)}", text)


ITEM_DDL = (
    "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "CONSTRAINT item_name_key UNIQUE (name))"
)
TAG_DDL = (
    "CREATE TABLE tag (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, label TEXT, "
    "CONSTRAINT tag_item_fkey FOREIGN KEY (item_id) REFERENCES item (id))"
)


async def with_items(url: str, **options: Any) -> Driver:
    """A driver on ``url`` whose database has the tables ``item`` and ``tag``."""
    driver = await open_driver(url, **options)
    async with driver.connection() as conn:
        await conn.execute(ITEM_DDL)
        await conn.execute(TAG_DDL)
    return driver


async def count_items(driver: Driver) -> int:
    async with driver.connection() as conn:
        row = await conn.fetch_one("SELECT count(*) FROM item")
        assert row is not None
        return int(row[0])


# -- statements -----------------------------------------------------------------------------


def test_fetch_fetch_one_execute_execute_many(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await with_items(sql_backend.url)
        async with driver.connection() as conn:
            insert = sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)")
            assert await conn.execute(insert, (1, "one")) == 1
            await conn.execute_many(insert, [(2, "two"), (3, "three")])
            rows = await conn.fetch("SELECT id, name FROM item ORDER BY id")
            assert [tuple(r) for r in rows] == [(1, "one"), (2, "two"), (3, "three")]
            row = await conn.fetch_one(sql(sql_backend, "SELECT name FROM item WHERE id = ?"), (2,))
            assert row is not None and row[0] == "two"
            assert (
                await conn.fetch_one(sql(sql_backend, "SELECT name FROM item WHERE id = ?"), (9,))
                is None
            )
            assert (
                await conn.fetch(sql(sql_backend, "SELECT id FROM item WHERE id > ?"), (5,)) == []
            )
            assert (
                await conn.execute(
                    sql(sql_backend, "UPDATE item SET name = name || ? WHERE id >= ?"), ("!", 2)
                )
                == 2
            )
            assert await conn.execute("DELETE FROM item") == 3
        await driver.close()

    run(body)


def test_parameters_round_trip(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await open_driver(sql_backend.url)
        async with driver.connection() as conn:
            if sql_backend.provider == "postgresql":
                stamp = datetime(2024, 5, 17, 12, 30, 1, 250000, tzinfo=UTC)
                values: tuple[Any, ...] = (
                    42,
                    2**40,
                    "täxt",
                    None,
                    b"\x00\xff",
                    stamp,
                    Decimal("12345.678901"),
                    True,
                    [1, 2, 3],
                )
                query = "SELECT $1::int, $2::bigint, $3::text, $4::text, $5::bytea, $6::timestamptz, $7::numeric, $8::bool, $9::int[]"
            else:
                values = (42, 2**40, "täxt", None, b"\x00\xff", "2024-05-17T12:30:01.250Z", 1.5, 1)
                query = "SELECT ?, ?, ?, ?, ?, ?, ?, ?"
            row = await conn.fetch_one(query, values)
            assert row is not None
            assert tuple(row) == values
        await driver.close()

    run(body)


def test_postgres_timestamps_are_aware_utc_both_ways(pg_url: str) -> None:
    """timestamp and timestamptz travel as text and read as aware datetimes in UTC; a
    parameter is written in UTC whatever its offset (naive: taken as UTC), also in arrays."""
    plus_two = timezone(timedelta(hours=2))

    async def body() -> None:
        driver = await open_driver(pg_url)
        async with driver.connection() as conn:
            await conn.execute("SET TIME ZONE 'America/New_York'")  # not UTC on purpose
            row = await conn.fetch_one(
                "SELECT $1::timestamp, $2::timestamp, $3::timestamp, $4::timestamptz, "
                "$5::timestamptz, $6::timestamp::text, $7::timestamp[], "
                "'2024-05-17 12:30:01'::timestamp, '2024-05-17 12:30:01.5+05:30'::timestamptz, "
                "'0001-01-01 00:00:00'::timestamp, '9999-12-31 23:59:59.999999'::timestamp",
                (
                    datetime(2024, 5, 17, 14, 30, 1, 250000, tzinfo=plus_two),
                    datetime(2024, 5, 17, 12, 30, 1, 1),
                    date(2024, 5, 17),
                    datetime(2024, 5, 17, 14, 30, 1, tzinfo=plus_two),
                    datetime(2024, 5, 17, 12, 30, 1),
                    datetime(2024, 5, 17, 14, 30, tzinfo=plus_two),
                    [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None],
                ),
            )
            assert row is not None
            assert tuple(row) == (
                datetime(2024, 5, 17, 12, 30, 1, 250000, tzinfo=UTC),
                datetime(2024, 5, 17, 12, 30, 1, 1, tzinfo=UTC),
                datetime(2024, 5, 17, tzinfo=UTC),
                datetime(2024, 5, 17, 12, 30, 1, tzinfo=UTC),
                datetime(2024, 5, 17, 12, 30, 1, tzinfo=UTC),
                "2024-05-17 12:30:00",
                [datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), None],
                datetime(2024, 5, 17, 12, 30, 1, tzinfo=UTC),
                datetime(2024, 5, 17, 7, 0, 1, 500000, tzinfo=UTC),
                datetime(1, 1, 1, tzinfo=UTC),
                datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            )
            assert all(value.tzinfo is UTC for value in row if isinstance(value, datetime))
            # timestamps are read as ISO text: a session whose DateStyle was changed says so
            await conn.execute("SET DateStyle TO 'SQL, DMY'")
            with pytest.raises(QueryError, match="DateStyle"):
                await conn.fetch_one("SELECT '2024-05-17 12:30:01'::timestamp")
            await conn.execute("RESET DateStyle")
            again = await conn.fetch_one("SELECT '2024-05-17 12:30:01'::timestamp")
            assert again is not None and again[0] == datetime(2024, 5, 17, 12, 30, 1, tzinfo=UTC)
        await driver.close()

    run(body)


def test_postgres_timestamps_python_cannot_hold_are_a_clear_error(pg_url: str) -> None:
    async def body() -> None:
        driver = await open_driver(pg_url)
        for value in ("infinity", "2024-05-17 12:30:01 BC", "10000-01-01 00:00:00"):
            async with driver.connection() as conn:
                with pytest.raises(QueryError, match="Python's datetime cannot hold") as caught:
                    await conn.fetch("SELECT $1::text::timestamp", (value,))
                assert "::text" in str(caught.value)  # how to read it anyway
            async with driver.connection() as conn:  # the connection is still good
                assert await conn.fetch("SELECT $1::text::timestamp::text", (value,))
        async with driver.connection() as conn:
            with pytest.raises(QueryError, match="datetime"):
                await conn.fetch("SELECT $1::timestamp", ("2024-05-17",))
        await driver.close()

    run(body)


def test_postgres_json_comes_back_as_text(pg_url: str) -> None:
    async def body() -> None:
        driver = await open_driver(pg_url)
        async with driver.connection() as conn:
            row = await conn.fetch_one(
                """SELECT '{"a": [1, 2]}'::jsonb, '{"b":  true}'::json, $1::jsonb""",
                ('{"c": null}',),
            )
            assert row is not None
            assert tuple(row) == ('{"a": [1, 2]}', '{"b":  true}', '{"c": null}')
        await driver.close()

    run(body)


def test_postgres_prepared_statement_survives_a_column_type_change(pg_url: str) -> None:
    # Reads run through statements prepared once per connection; a migration that changes
    # the type of a selected column under them must not break the next read.
    async def body() -> None:
        driver = await open_driver(pg_url, pool_size=1)
        select = "SELECT b FROM prep_t WHERE a = $1"
        async with driver.connection() as conn:
            await conn.execute("DROP TABLE IF EXISTS prep_t")
            await conn.execute("CREATE TABLE prep_t (a integer, b integer)")
            await conn.execute("INSERT INTO prep_t VALUES (7, 8)")
            assert [tuple(r) for r in await conn.fetch(select, (7,))] == [(8,)]
            await conn.execute("ALTER TABLE prep_t ALTER COLUMN b TYPE text")
            assert [tuple(r) for r in await conn.fetch(select, (7,))] == [("8",)]
            assert [tuple(r) for r in await conn.fetch(select, (7,))] == [("8",)]
            await conn.execute("DROP TABLE prep_t")
        await driver.close()

    run(body)


# -- transactions ---------------------------------------------------------------------------


def test_transaction_commits_and_rolls_back(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await with_items(sql_backend.url)
        insert = sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)")
        async with driver.connection() as conn:
            async with conn.transaction():
                assert conn.in_transaction
                await conn.execute(insert, (1, "kept"))
            assert not conn.in_transaction
            with pytest.raises(RuntimeError):
                async with conn.transaction():
                    await conn.execute(insert, (2, "dropped"))
                    raise RuntimeError("boom")
            assert not conn.in_transaction
        assert await count_items(driver) == 1
        await driver.close()

    run(body)


def test_nested_transactions_are_savepoints(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await with_items(sql_backend.url)
        insert = sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)")
        async with driver.connection() as conn, conn.transaction():
            await conn.execute(insert, (1, "outer"))
            with pytest.raises(UniqueViolation):
                async with conn.transaction():
                    await conn.execute(insert, (2, "inner"))
                    await conn.execute(insert, (3, "outer"))  # duplicate name
            async with conn.transaction(), conn.transaction():
                await conn.execute(insert, (4, "deep"))
        async with driver.connection() as conn:
            rows = await conn.fetch("SELECT id FROM item ORDER BY id")
            assert [r[0] for r in rows] == [1, 4]
            with pytest.raises(QueryError, match="outermost"):
                async with conn.transaction(), conn.transaction(isolation_level="serializable"):
                    pass
        await driver.close()

    run(body)


def test_postgres_isolation_level(pg_url: str) -> None:
    async def body() -> None:
        driver = await open_driver(pg_url)
        async with driver.connection() as conn:
            for level, shown in [
                ("serializable", "serializable"),
                ("repeatable_read", "repeatable read"),
                ("read_committed", "read committed"),
            ]:
                async with conn.transaction(isolation_level=level):  # type: ignore[arg-type]
                    row = await conn.fetch_one("SHOW transaction_isolation")
                    assert row is not None and row[0] == shown
        await driver.close()

    run(body)


# -- pool -----------------------------------------------------------------------------------


def test_pool_times_out_when_every_connection_is_taken(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await open_driver(sql_backend.url, pool_size=1, acquire_timeout=0.3)
        async with driver.connection():
            start = time.monotonic()
            with pytest.raises(PoolTimeout, match=r"within 0\.3 s \(pool size 1, 1 in use\)"):
                async with driver.connection():
                    pass
            assert 0.25 < time.monotonic() - start < 1.5
        async with driver.connection() as conn:  # the slot came back
            assert await conn.fetch_one("SELECT 1") is not None
        await driver.close()

    run(body)


def test_waiter_gets_the_released_connection(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await open_driver(sql_backend.url, pool_size=1, acquire_timeout=5)
        order: list[str] = []

        async def hold() -> None:
            async with driver.connection():
                order.append("first")
                await asyncio.sleep(0.05)

        async def wait() -> None:
            async with driver.connection() as conn:
                order.append("second")
                await conn.fetch("SELECT 1")

        await asyncio.gather(hold(), wait())
        assert order == ["first", "second"]
        await driver.close()

    run(body)


def test_reusing_a_connection_costs_no_statement(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await open_driver(sql_backend.url, pool_size=3)
        events: list[StatementEvent] = []
        driver.add_listener(events.append)
        pid_sql = "SELECT pg_backend_pid()" if sql_backend.provider == "postgresql" else "SELECT 1"
        seen = set()
        for _ in range(5):
            async with driver.connection() as conn:
                seen.add(id(conn))
                row = await conn.fetch_one(pid_sql)
                assert row is not None
        assert [e.sql for e in events] == [pid_sql] * 5
        assert len(seen) == 1  # LIFO: the warm connection every time
        await driver.close()

    run(body)


def test_closed_driver_refuses_connections(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await open_driver(sql_backend.url)
        await driver.close()
        with pytest.raises(QueryError, match="closed"):
            async with driver.connection():
                pass

    run(body)


# -- listeners ------------------------------------------------------------------------------


def test_listeners_see_every_statement(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await with_items(sql_backend.url)
        events: list[StatementEvent] = []
        driver.add_listener(events.append)
        insert = sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)")
        async with driver.connection() as conn:
            async with conn.transaction():
                await conn.execute(insert, (1, "a"))
                await conn.execute_many(insert, [(2, "b"), (3, "c")])
            assert len(await conn.fetch("SELECT * FROM item")) == 3
            await conn.fetch_one("SELECT name FROM item ORDER BY id")
            with pytest.raises(UniqueViolation):
                await conn.execute(insert, (4, "a"))
        kinds = [e.sql.split()[0] for e in events]
        assert kinds == ["BEGIN", "INSERT", "INSERT", "COMMIT", "SELECT", "SELECT", "INSERT"]
        assert [e.rows for e in events[1:2] + events[4:6]] == [1, 3, 1]
        assert all(e.duration_s > 0 for e in events)
        assert [type(e.error) for e in events] == [type(None)] * 6 + [UniqueViolation]
        await driver.close()

    run(body)


# -- errors ---------------------------------------------------------------------------------


def test_constraint_violations(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await with_items(sql_backend.url)
        async with driver.connection() as conn:
            await conn.execute(
                sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)"), (1, "a")
            )
            with pytest.raises(UniqueViolation) as unique:
                await conn.execute(
                    sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)"), (2, "a")
                )
            assert unique.value.table == "item"
            assert unique.value.columns == ("name",)
            if sql_backend.provider == "postgresql":
                assert unique.value.constraint == "item_name_key"
                assert "item_name_key" in unique.value.message and "item" in unique.value.message
            with pytest.raises(UniqueViolation) as primary:
                await conn.execute(
                    sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)"), (1, "b")
                )
            assert primary.value.columns == ("id",)
            with pytest.raises(ForeignKeyViolation) as foreign:
                await conn.execute(
                    sql(sql_backend, "INSERT INTO tag (id, item_id) VALUES (?, ?)"), (1, 99)
                )
            if sql_backend.provider == "postgresql":
                assert foreign.value.constraint == "tag_item_fkey"
                assert foreign.value.table == "tag"
                assert foreign.value.columns == ("item_id",)
            with pytest.raises(NullViolation) as null:
                await conn.execute(
                    sql(sql_backend, "INSERT INTO item (id, name) VALUES (?, ?)"), (3, None)
                )
            assert (null.value.table, null.value.column) == ("item", "name")
            with pytest.raises(QueryError, match=r"(?i)no such table|does not exist"):
                await conn.fetch("SELECT * FROM missing")
            assert await conn.fetch_one("SELECT 1") is not None  # still usable
        await driver.close()

    run(body)


def test_postgres_serialization_failure_is_a_conflict(pg_url: str) -> None:
    async def body() -> None:
        driver = await with_items(pg_url, pool_size=2)
        async with driver.connection() as setup:
            await setup.execute("INSERT INTO item (id, name) VALUES (1, 'a')")
        async with driver.connection() as first, driver.connection() as second:
            with pytest.raises(TransactionConflict, match="retrying"):
                async with first.transaction(isolation_level="repeatable_read"):
                    await first.fetch("SELECT name FROM item WHERE id = 1")
                    await second.execute("UPDATE item SET name = 'b' WHERE id = 1")
                    await first.execute("UPDATE item SET name = 'c' WHERE id = 1")
        await driver.close()

    run(body)


def test_sqlite_lock_waits_without_blocking_the_loop(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "BUSY_TIMEOUT", 0.3)

    async def body() -> None:
        driver = await with_items(sqlite_url, pool_size=2)
        async with driver.connection() as first, driver.connection() as second:
            # A writer waits for another connection's transaction, which finishes meanwhile.
            async def write_later() -> None:
                async with first.transaction():
                    await first.execute("INSERT INTO item (id, name) VALUES (1, 'a')")
                    await asyncio.sleep(0.1)

            async def write_now() -> None:
                await asyncio.sleep(0.02)
                await second.execute("INSERT INTO item (id, name) VALUES (2, 'b')")

            await asyncio.gather(write_later(), write_now())
            # A writer that waits past the busy timeout gets a conflict.
            async with first.transaction():
                with pytest.raises(TransactionConflict, match="locked"):
                    await second.execute("INSERT INTO item (id, name) VALUES (3, 'c')")
        assert await count_items(driver) == 2
        await driver.close()

    run(body)


def test_postgres_statement_timeout(pg_url: str) -> None:
    async def body() -> None:
        driver = await open_driver(pg_url, statement_timeout=0.1)
        async with driver.connection() as conn:
            start = time.monotonic()
            with pytest.raises(QueryTimeout, match=r"statement timeout of 0\.1 s"):
                await conn.fetch("SELECT pg_sleep(1)")
            assert time.monotonic() - start < 0.9
            assert await conn.fetch_one("SELECT 1") is not None
        await driver.close()

    run(body)


def test_sqlite_statement_timeout(sqlite_url: str) -> None:
    async def body() -> None:
        driver = await open_driver(sqlite_url, statement_timeout=0.1)
        async with driver.connection() as conn:
            start = time.monotonic()
            with pytest.raises(QueryTimeout, match=r"statement timeout of 0\.1 s"):
                await conn.fetch(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                    "SELECT count(*) FROM n"
                )
            assert time.monotonic() - start < 0.9
            assert await conn.fetch_one("SELECT 1") is not None
        await driver.close()

    run(body)


def test_killed_connection_mid_transaction(pg_url: str) -> None:
    async def body() -> None:
        driver = await with_items(pg_url, pool_size=2)
        with pytest.raises(ConnectionLost, match="rolled the transaction back") as lost:
            async with driver.connection() as victim, victim.transaction():
                await victim.execute("INSERT INTO item (id, name) VALUES (1, 'lost')")
                row = await victim.fetch_one("SELECT pg_backend_pid()")
                assert row is not None
                async with driver.connection() as killer:
                    await killer.fetch("SELECT pg_terminate_backend($1)", (row[0],))
                await victim.execute("INSERT INTO item (id, name) VALUES (2, 'also lost')")
        assert "127.0.0.1:" in lost.value.message or "localhost:" in lost.value.message
        assert await count_items(driver) == 0  # and the pool replaced the dead connection
        await driver.close()

    run(body)


def test_unreachable_postgres_fails_in_one_line() -> None:
    async def body() -> None:
        with pytest.raises(ConnectionFailed) as failed:
            await open_driver("postgresql://postgres@127.0.0.1:1/postgres", connect_timeout=2)
        assert (
            failed.value.message
            == "cannot connect to PostgreSQL at 127.0.0.1:1: connection refused"
        )
        assert failed.value.__cause__ is None

    run(body)


def test_missing_postgres_database(pg_url: str) -> None:
    url = pg_url.rsplit("/", 1)[0] + "/datatier_no_such_db"

    async def body() -> None:
        with pytest.raises(
            ConnectionFailed, match=r'database "datatier_no_such_db" does not exist on \S+:\d+$'
        ):
            await open_driver(url)

    run(body)


# -- URLs -----------------------------------------------------------------------------------


def test_postgres_url_schema_and_connection_limit(pg_url: str) -> None:
    async def body() -> None:
        driver = await open_driver(pg_url)
        async with driver.connection() as conn:
            await conn.execute('CREATE SCHEMA "my app"')
        await driver.close()
        scoped = await open_driver(
            f"{pg_url}?schema=my%20app&connection_limit=2&pool_timeout=0.2", pool_size=10
        )
        async with scoped.connection() as a, scoped.connection() as b:
            await a.execute("CREATE TABLE thing (id int)")
            row = await b.fetch_one(
                "SELECT current_schema(), to_regclass('\"my app\".thing') IS NOT NULL"
            )
            assert row is not None and tuple(row) == ("my app", True)
            with pytest.raises(PoolTimeout, match="pool size 2"):
                async with scoped.connection():
                    pass
        await scoped.close()

    run(body)


def test_sqlite_memory_is_one_database_across_the_pool() -> None:
    async def body() -> None:
        driver = await open_driver("file::memory:", pool_size=4, acquire_timeout=0.2)
        async with driver.connection() as conn:
            await conn.execute(ITEM_DDL)
            await conn.execute("INSERT INTO item (id, name) VALUES (1, 'a')")
        async with driver.connection() as conn:
            assert await conn.fetch("SELECT name FROM item") == [("a",)]
            with pytest.raises(PoolTimeout, match="pool size 1"):
                async with driver.connection():
                    pass
        # A failed transaction does not cost the database.
        with pytest.raises(UniqueViolation):
            async with driver.connection() as conn, conn.transaction():
                await conn.execute("INSERT INTO item (id, name) VALUES (2, 'a')")
        assert await count_items(driver) == 1
        await driver.close()

    run(body)


def test_cancelled_statement_does_not_leak_the_connection(sql_backend: Backend) -> None:
    async def body() -> None:
        driver = await open_driver(sql_backend.url, pool_size=1, acquire_timeout=2)
        slow = "SELECT pg_sleep(5)" if sql_backend.provider == "postgresql" else "SELECT 1"

        async def use() -> None:
            async with driver.connection() as conn:
                await asyncio.sleep(0.01)
                await conn.fetch(slow)
                await asyncio.sleep(5)

        task = asyncio.create_task(use())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with driver.connection() as conn:
            assert await conn.fetch_one("SELECT 1") is not None
        await driver.close()

    run(body)
