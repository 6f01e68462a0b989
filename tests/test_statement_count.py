"""The statement counters count what the database executed: per execution, per database, once per nested query."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy

from tests.harness.databases import fresh_postgres_database
from tests.harness.servers import Server
from tests.harness.statements import UTILITY, StatementCounter, leading_keyword

Counters = Callable[[str], StatementCounter]

# Authors with their books' titles, and per book the number of later books by the same author:
# a correlated subquery inside a correlated subquery, as a nested read compiles to.
NESTED_READ = """
SELECT a.name,
       (SELECT count(*) FROM book b
         WHERE b.author_id = a.id
           AND (SELECT count(*) FROM book later WHERE later.author_id = a.id AND later.id > b.id) >= 0)
  FROM author a ORDER BY a.id
"""
TABLES = [
    "CREATE TABLE author (id integer PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE book (id integer PRIMARY KEY, author_id integer NOT NULL REFERENCES author(id))",
    "INSERT INTO author VALUES (1, 'Le Guin'), (2, 'Lem')",
    "INSERT INTO book VALUES (1, 1), (2, 1), (3, 2)",
]


@pytest.mark.parametrize(
    ("statement", "keyword"),
    [
        ("select 1", "SELECT"),
        ("  -- note\n/* a\nblock */ begin", "BEGIN"),
        ("/* only a comment */", ""),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("", ""),
    ],
)
def test_leading_keyword_skips_blanks_and_comments(statement: str, keyword: str) -> None:
    assert leading_keyword(statement) == keyword


# --- PostgreSQL: pg_stat_statements in the counted cluster ---------------------------------------


def test_postgres_counts_every_execution(counted_pg_url: str, server_statements: Counters) -> None:
    counter = server_statements(counted_pg_url)
    with psycopg.connect(counted_pg_url, autocommit=True) as conn:
        for n in range(3):
            conn.execute("SELECT %s::int", (n,))
        conn.execute("SELECT 'other'")
    assert counter.count() == 4
    assert sorted(counter.statements()) == [
        "SELECT $1",
        "SELECT $1::int",
        "SELECT $1::int",
        "SELECT $1::int",
    ]


def test_postgres_counts_a_nested_correlated_query_once(
    counted_pg_url: str, server_statements: Counters
) -> None:
    with psycopg.connect(counted_pg_url, autocommit=True) as conn:
        for statement in TABLES:
            conn.execute(statement)
        counter = server_statements(counted_pg_url)
        assert conn.execute(NESTED_READ).fetchall() == [("Le Guin", 2), ("Lem", 1)]
    assert counter.count() == 1


def test_postgres_reset_forgets_and_reading_counts_nothing(
    counted_pg_url: str, server_statements: Counters
) -> None:
    counter = server_statements(counted_pg_url)
    with psycopg.connect(counted_pg_url, autocommit=True) as conn:
        conn.execute("SELECT 1")
        assert counter.count() == 1
        assert counter.count() == 1, "the counter's own queries are not counted"
        counter.reset()
        assert counter.count() == 0
        conn.execute("SELECT 2")
    assert counter.count() == 1


def test_postgres_counts_only_its_database(
    counted_pg_url: str, counted_postgres_server: Server, server_statements: Counters
) -> None:
    counter = server_statements(counted_pg_url)
    with fresh_postgres_database(counted_postgres_server.require()) as other_url:
        other = server_statements(other_url)
        with psycopg.connect(other_url, autocommit=True) as conn:
            conn.execute("SELECT 1")
            conn.execute("SELECT 2")
        assert (counter.count(), other.count()) == (0, 2)


def test_postgres_utility_statements_are_excluded_unless_asked(
    counted_pg_url: str, server_statements: Counters
) -> None:
    counter = server_statements(counted_pg_url)
    with psycopg.connect(counted_pg_url) as conn:  # not autocommit: psycopg sends BEGIN first
        conn.execute("SET statement_timeout = '5s'")
        conn.execute("SELECT 1").fetchall()
        conn.commit()
    assert counter.count() == 1
    assert sorted(map(leading_keyword, counter.statements(exclude=()))) == [
        "BEGIN",
        "COMMIT",
        "SELECT",
        "SET",
    ]
    assert counter.count(exclude=UTILITY - {"SET"}) == 2


def test_postgres_counts_a_query_in_an_open_transaction_once_its_portal_closes(
    counted_pg_url: str, server_statements: Counters
) -> None:
    # pg_stat_statements records a query when its executor ends; for the extended protocol inside a
    # transaction that is when the portal closes. Hence: count after the transaction has ended.
    counter = server_statements(counted_pg_url)
    with psycopg.connect(counted_pg_url) as conn:
        conn.execute("SELECT %s::int", (1,)).fetchall()
        assert counter.count() == 0
        conn.commit()
    assert counter.count() == 1


def test_postgres_does_not_count_statements_inside_functions_or_failed_ones(
    counted_pg_url: str, server_statements: Counters
) -> None:
    with psycopg.connect(counted_pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION two() RETURNS int LANGUAGE plpgsql AS $$"
            " BEGIN PERFORM 1; RETURN (SELECT 2); END $$"
        )
        counter = server_statements(counted_pg_url)
        conn.execute("SELECT two()")
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
    assert counter.statements() == ["SELECT two()"]


def test_postgres_counts_prepared_statements_per_execution(
    counted_pg_url: str, server_statements: Counters
) -> None:
    counter = server_statements(counted_pg_url)
    with psycopg.connect(counted_pg_url, autocommit=True) as conn:
        for n in range(4):
            conn.execute("SELECT %s::int + 1", (n,), prepare=True)
    assert counter.count() == 4


def test_postgres_counts_asyncpg_prepared_statements_per_execution(
    counted_pg_url: str, server_statements: Counters
) -> None:
    asyncpg = pytest.importorskip("asyncpg")
    counter = server_statements(counted_pg_url)

    async def run() -> list[int]:
        conn = await asyncpg.connect(counted_pg_url)
        try:
            statement = await conn.prepare("SELECT $1::int * 2")
            values = [await statement.fetchval(n) for n in range(3)]
            values += [
                await conn.fetchval("SELECT $1::int * 2", n) for n in (3, 4)
            ]  # statement cache
            return values
        finally:
            await conn.close()

    assert asyncio.run(run()) == [0, 2, 4, 6, 8]
    assert (
        counter.statements() == ["SELECT $1::int * $2"] * 5
    )  # pg_stat_statements normalizes the constant


def test_postgres_counter_refuses_a_database_of_another_server(
    pg_url: str, counted_postgres_server: Server, server_statements: Counters
) -> None:
    counted_postgres_server.require()
    with pytest.raises(LookupError, match="counted_pg_url"):
        server_statements(pg_url)


# --- SQLite: SQLite's trace hook on connections opened in this process ---------------------------


def _path(sqlite_url: str) -> str:
    return sqlite_url.removeprefix("file:")


def test_sqlite_counts_every_execution(sqlite_url: str, server_statements: Counters) -> None:
    counter = server_statements(sqlite_url)
    conn = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    try:
        conn.execute("CREATE TABLE t (x integer)")
        conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
        conn.execute("SELECT x FROM t").fetchall()
    finally:
        conn.close()
    assert counter.statements() == [
        "CREATE TABLE t (x integer)",
        "INSERT INTO t VALUES (1)",
        "INSERT INTO t VALUES (2)",
        "SELECT x FROM t",
    ]


def test_sqlite_counts_a_nested_correlated_query_once(
    sqlite_url: str, server_statements: Counters
) -> None:
    counter = server_statements(sqlite_url)
    conn = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    try:
        for statement in TABLES:
            conn.execute(statement)
        counter.reset()
        assert conn.execute(NESTED_READ).fetchall() == [("Le Guin", 2), ("Lem", 1)]
    finally:
        conn.close()
    assert counter.count() == 1


def test_sqlite_reset_forgets(sqlite_url: str, server_statements: Counters) -> None:
    counter = server_statements(sqlite_url)
    conn = sqlite3.connect(_path(sqlite_url), isolation_level=None)
    try:
        conn.execute("SELECT 1")
        counter.reset()
        assert counter.count() == 0
        conn.execute("SELECT 2")
    finally:
        conn.close()
    assert counter.statements() == ["SELECT 2"]


def test_sqlite_utility_statements_are_excluded_unless_asked(
    sqlite_url: str, server_statements: Counters
) -> None:
    counter = server_statements(sqlite_url)
    conn = sqlite3.connect(
        _path(sqlite_url)
    )  # legacy transaction control: sqlite3 sends BEGIN itself
    try:
        conn.execute("CREATE TABLE t (x integer)")
        with conn:
            conn.execute("INSERT INTO t VALUES (1)")
    finally:
        conn.close()
    assert counter.count() == 2
    assert list(map(leading_keyword, counter.statements(exclude=()))) == [
        "CREATE",
        "BEGIN",
        "INSERT",
        "COMMIT",
    ]


def test_sqlite_counts_every_connection_to_the_file_and_only_those(
    sqlite_url: str, tmp_path: Path, server_statements: Counters
) -> None:
    before = sqlite3.connect(
        _path(sqlite_url), isolation_level=None
    )  # opened before counting began
    counter = server_statements(sqlite_url)
    elsewhere = server_statements(str(tmp_path / "other.db"))
    connections = [
        sqlite3.connect(_path(sqlite_url), isolation_level=None),
        sqlite3.dbapi2.connect(Path(_path(sqlite_url)), isolation_level=None),
        sqlite3.connect(f"{sqlite_url}?mode=rw", uri=True, isolation_level=None),
        sqlite3.connect(tmp_path / "other.db", isolation_level=None),
        sqlite3.connect(":memory:"),
    ]
    try:
        for conn in [before, *connections]:
            conn.execute("SELECT 1")
        connections[0].close()
        connections[0] = sqlite3.connect(
            _path(sqlite_url), isolation_level=None, check_same_thread=False
        )
        worker = threading.Thread(target=lambda: connections[0].execute("SELECT 2"))
        worker.start()
        worker.join()
    finally:
        for conn in [before, *connections]:
            conn.close()
    assert counter.statements() == ["SELECT 1"] * 3 + ["SELECT 2"]
    assert elsewhere.count() == 1


def test_sqlite_counts_sqlalchemy_connections(sqlite_url: str, server_statements: Counters) -> None:
    counter = server_statements(sqlite_url)
    engine = sqlalchemy.create_engine(f"sqlite:///{_path(sqlite_url)}")
    try:
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT 41 + 1")).scalar() == 42
    finally:
        engine.dispose()
    # SQLAlchemy's first connection asks a PRAGMA; the default exclusion (UTILITY) leaves it out.
    assert counter.statements() == ["SELECT 41 + 1"]
    assert "PRAGMA" in map(leading_keyword, counter.statements(exclude=()))
