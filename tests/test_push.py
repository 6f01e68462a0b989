"""``db push`` against real databases: creates from nothing, confirms a match, refuses anything else.

The conformance tests compare catalogs, not SQL text: Prisma's own migration SQL
(the golden files under ``tests/conformance/golden/shared``) is applied to one
empty database and datatier's push runs on another; the two must be the same.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from datatier.errors import ConnectionFailed, DatabaseNotEmpty, DatatierError
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._push import DataLossError, push
from datatier.migrate._sqlscript import apply_sql_script
from datatier.schema import Schema, load_schema
from tests.harness.backends import Backend
from tests.harness.databases import fresh_postgres_database
from tests.harness.golden import SHARED_COPIES
from tests.harness.servers import Server

ROOT = Path(__file__).resolve().parent.parent
SHARED = SHARED_COPIES
GOLDEN = ROOT / "tests" / "conformance" / "golden" / "shared"


def shared_schema(stem: str, provider: str, tmp_path: Path) -> Schema:
    """A shared schema with its provider line set to ``provider`` (both are portable)."""
    text = (SHARED / f"{stem}.prisma").read_text()
    text = re.sub(
        r'provider\s*=\s*"(postgresql|sqlite)"', f'provider = "{provider}"', text, count=1
    )
    path = tmp_path / f"{stem}.{provider}.prisma"
    path.write_text(text)
    return load_schema(path)


@contextmanager
def raw(url: str) -> Iterator[psycopg.Connection[tuple[object, ...]] | sqlite3.Connection]:
    if url.startswith("file:"):
        conn: psycopg.Connection[tuple[object, ...]] | sqlite3.Connection = sqlite3.connect(
            url.removeprefix("file:"), isolation_level=None
        )
    else:
        conn = psycopg.connect(url, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def catalog(url: str) -> Catalog:
    with raw(url) as conn:
        if isinstance(conn, sqlite3.Connection):
            return read_sqlite_catalog(conn)
        return read_postgres_catalog(conn)


def test_push_creates_the_schema_in_an_empty_database(sql_backend: Backend, tmp_path: Path) -> None:
    report = push(shared_schema("blog", sql_backend.provider, tmp_path), sql_backend.url)

    assert report.created
    assert report.tables == (
        "users",
        "user_profiles",
        "user_sessions",
        "Category",
        "Tag",
        "Post",
        "Comment",
        "_PostToTag",
    )
    assert len(report.foreign_keys) == 10
    assert report.enums == (("Role", "PostStatus") if sql_backend.has("enums") else ())
    assert "created 8 tables" in report.summary()
    found = catalog(sql_backend.url)
    assert sorted(t.name for t in found.tables) == sorted(report.tables)
    assert found.table("_PostToTag").index("_PostToTag_B_index")


def test_push_twice_changes_nothing(sql_backend: Backend, tmp_path: Path) -> None:
    schema = shared_schema("shop", sql_backend.provider, tmp_path)
    push(schema, sql_backend.url)
    before = catalog(sql_backend.url)

    again = push(schema, sql_backend.url)

    assert not again.created
    assert again.summary().endswith("already in sync with the schema, nothing changed")
    assert catalog(sql_backend.url) == before


def test_push_updates_a_database_of_another_schema_but_not_over_its_rows(
    sql_backend: Backend, tmp_path: Path
) -> None:
    push(shared_schema("shop", sql_backend.provider, tmp_path), sql_backend.url)
    with sql_backend.connect() as conn:
        conn.execute("""INSERT INTO "Customer" ("email", "name") VALUES ('a@x', 'ann')""")
    before = catalog(sql_backend.url)

    with pytest.raises(DataLossError) as info:
        push(shared_schema("blog", sql_backend.provider, tmp_path), sql_backend.url)

    message = str(info.value)
    assert "drop the `Customer` table" in message and "(1 row)" in message
    assert "--accept-data-loss" in message and "datatier migrate dev" in message
    assert catalog(sql_backend.url) == before

    blog = shared_schema("blog", sql_backend.provider, tmp_path)
    report = push(blog, sql_backend.url, accept_data_loss=True)
    assert not report.created and report.changes
    assert report.summary().startswith(f"{report.url}: updated to match the schema")
    assert (
        push(blog, sql_backend.url)
        .summary()
        .endswith("already in sync with the schema, nothing changed")
    )


def test_push_ignores_datatier_and_prisma_bookkeeping_tables(
    sql_backend: Backend, tmp_path: Path
) -> None:
    with sql_backend.connect() as conn:
        conn.execute('CREATE TABLE "_prisma_migrations" (id TEXT PRIMARY KEY)')
        conn.execute('CREATE TABLE "_datatier_outbox" (id INTEGER PRIMARY KEY)')

    assert push(shared_schema("shop", sql_backend.provider, tmp_path), sql_backend.url).created


def test_a_failing_statement_leaves_the_database_empty(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.prisma"
    path.write_text(
        'datasource db {\n  provider = "postgresql"\n}\n'
        "model A {\n  id Int @id\n}\n"
        'model B {\n  id String @id @default(dbgenerated("no_such_function()"))\n}\n'
    )

    with pytest.raises(DatatierError, match="nothing was changed: function no_such_function"):
        push(load_schema(path), pg_url)

    assert catalog(pg_url).tables == ()


def test_unreachable_postgres_names_host_and_port(tmp_path: Path) -> None:
    schema = shared_schema("blog", "postgresql", tmp_path)
    with pytest.raises(ConnectionFailed) as info:
        push(schema, "postgresql://postgres@127.0.0.1:1/postgres")
    assert str(info.value) == "cannot connect to PostgreSQL at 127.0.0.1:1: connection refused"


def test_missing_postgres_database_is_named(pg_url: str, tmp_path: Path) -> None:
    url = pg_url.rsplit("/", 1)[0] + "/datatier_no_such_db"
    with pytest.raises(
        ConnectionFailed, match=r'database "datatier_no_such_db" does not exist on '
    ):
        push(shared_schema("blog", "postgresql", tmp_path), url)


def test_sqlite_in_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    schema = shared_schema("shop", "sqlite", tmp_path)
    with pytest.raises(ConnectionFailed, match=r"directory .*/nowhere does not exist"):
        push(schema, f"file:{tmp_path}/nowhere/dev.db")


# --- conformance: the same catalog as Prisma's migration SQL ---------------------------


def prisma_sql(stem: str, provider: str) -> str:
    sql = (GOLDEN / f"{stem}.{provider}.sql").read_text()
    if provider == "sqlite":
        # Prisma writes Json defaults unquoted on SQLite (`DEFAULT {}`), which SQLite
        # rejects (prisma/prisma#26571); datatier quotes them. Quote them here too.
        sql = re.sub(r"(JSONB(?: NOT NULL)? DEFAULT )(\{.*\}|\[.*\])(,?)$", _quote, sql, flags=re.M)
    return sql


def _quote(match: re.Match[str]) -> str:
    return match[1] + "'" + match[2].replace("'", "''") + "'" + match[3]


@pytest.mark.parametrize("stem", ["blog", "shop"])
def test_push_builds_the_catalog_prisma_builds(
    stem: str, sql_backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    provider = sql_backend.provider
    push(shared_schema(stem, provider, tmp_path), sql_backend.url)

    if provider == "sqlite":
        reference_url = f"file:{tmp_path}/prisma.db"
        with raw(reference_url) as conn:
            apply_sql_script(conn, prisma_sql(stem, provider), provider)
        expected = catalog(reference_url)
    else:
        server: Server = request.getfixturevalue("postgres_server")
        with fresh_postgres_database(server.require()) as reference_url:
            with raw(reference_url) as conn:
                apply_sql_script(conn, prisma_sql(stem, provider), provider)
            expected = catalog(reference_url)

    assert diff_catalogs(expected, catalog(sql_backend.url)) == []


def test_push_twice_with_an_extension_type(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.prisma"
    path.write_text(
        'generator client {\n  provider = "datatier"\n  previewFeatures = ["postgresqlExtensions"]\n}\n'
        'datasource db {\n  provider = "postgresql"\n  extensions = [citext]\n}\n'
        "model A {\n  id Int @id\n  name String @db.Citext\n}\n"
    )
    schema = load_schema(path)

    assert push(schema, pg_url).created
    assert not push(schema, pg_url).created


MULTI_SCHEMA = """
datasource db {
  provider = "postgresql"
  schemas  = ["base", "auth"]
}

enum Role {
  USER
  ADMIN

  @@schema("auth")
}

model Account {
  id    Int    @id @default(autoincrement())
  email String @unique
  role  Role   @default(USER)
  notes Note[]

  @@schema("auth")
}

model Note {
  id        Int     @id @default(autoincrement())
  accountId Int
  account   Account @relation(fields: [accountId], references: [id])

  @@schema("base")
}
"""


def test_push_with_named_database_schemas(pg_url: str, tmp_path: Path) -> None:
    path = tmp_path / "schema.prisma"
    path.write_text(MULTI_SCHEMA)
    schema = load_schema(path)

    report = push(schema, pg_url)
    assert report.created
    with raw(pg_url) as conn:
        assert isinstance(conn, psycopg.Connection)
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('auth', 'base') ORDER BY 1, 2"
        ).fetchall()
    assert rows == [("auth", "Account"), ("base", "Note")]

    assert not push(schema, pg_url).created  # the same schemas again: nothing to do

    path.write_text(MULTI_SCHEMA.replace("  email String @unique\n", "  email String\n"))
    with pytest.raises(
        DatabaseNotEmpty,
        match=r'schema "auth": table "Account": unexpected index "Account_email_key"',
    ):
        push(load_schema(path), pg_url)
    with raw(pg_url) as conn:  # the refusal left the database as it was
        assert isinstance(conn, psycopg.Connection)
        assert conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'auth' AND indexname = 'Account_email_key'"
        ).fetchone() == (1,)
        assert not conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname LIKE '_datatier_push_%'"
        ).fetchall()
