"""``db pull``: a pushed schema pulled back creates the same database and the same IR.

Round trip per provider, for the shared example schemas and every valid conformance
schema ``db push`` can create there: push S, pull it, validate the text, push the pulled
schema into a second empty database, and require equal catalogs and an IR equivalent to
S's (same tables, columns, types, keys and relations; relation field names may differ).
A database made by hand with raw SQL is pulled and checked against an expected text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from datatier.dialects import get_dialect
from datatier.errors import ConnectionFailed
from datatier.migrate import EmptyDatabase, introspect, pull_schema_text
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._push import push
from datatier.schema import Schema, validate_schema_text
from tests.harness.databases import fresh_postgres_database
from tests.harness.servers import Server
from tests.test_ddl_conformance import _cases, _load

# Pull reads one database schema (the URL's ?schema=): a schema spread over several
# database schemas with @@schema is not pulled back as one.
_NOT_PULLED = {"valid/32_multi_schema": "models in several database schemas (@@schema)"}


def _params(provider: str) -> list[Any]:
    return [
        pytest.param(*p.values, id=p.id, marks=[pytest.mark.skip(reason=_NOT_PULLED[p.id])])
        if p.id in _NOT_PULLED
        else p
        for p in _cases(provider)
    ]


# -- IR equivalence ------------------------------------------------------------------


def _shape(schema: Schema, provider: str) -> dict[str, Any]:
    """What a schema says about its database, with relation field names left out."""
    dialect = get_dialect(provider)
    tables: dict[str, Any] = {}
    columns_of: dict[str, dict[str, str]] = {}
    for model in schema.models:
        if model.is_view:
            continue
        columns_of[model.name] = {f.name: f.db_name for f in model.scalar_fields}
        key = tuple(f.column for f in model.primary_key.fields) if model.primary_key else None
        tables[model.db_name] = {
            # A key column is NOT NULL on PostgreSQL whatever an ignored model says.
            "columns": [
                (
                    f.db_name,
                    dialect.render_type(dialect.column_type(f, schema)),
                    f.is_required or f.is_list or f.db_name in (key or ()),
                    f.is_list,
                )
                for f in model.scalar_fields
            ],
            "primary_key": key,
        }
    relations: set[tuple[Any, ...]] = set()
    with_fks = schema.datasource is None or schema.datasource.relation_mode == "foreignKeys"
    for relation in schema.relations if with_fks else ():
        referencing = schema.model(relation.referencing_model)
        referenced = schema.model(relation.referenced_model)
        if relation.join_table is not None:
            join = relation.join_table
            relations.add(
                (
                    "many_to_many",
                    join.table,
                    schema.model(join.model_a).db_name,
                    schema.model(join.model_b).db_name,
                )
            )
            continue
        assert relation.referenced_field is not None, f"{relation.name} has one side only"
        relations.add(
            (
                relation.kind,
                referencing.db_name,
                tuple(columns_of[referencing.name][f] for f in relation.fields),
                referenced.db_name,
                tuple(columns_of[referenced.name][f] for f in relation.references),
                relation.on_delete,
                relation.on_update,
            )
        )
    enums = (
        sorted((e.db_name, tuple(v.db_name for v in e.values)) for e in schema.enums)
        if dialect.supports_enums
        else []
    )
    return {"tables": tables, "relations": relations, "enums": enums}


def _check_round_trip(original: Schema, pulled_text: str, provider: str) -> Schema:
    pulled = validate_schema_text(pulled_text, "pulled.prisma")
    expected, actual = _shape(original, provider), _shape(pulled, provider)
    assert actual["tables"] == expected["tables"]
    assert actual["relations"] == expected["relations"]
    assert actual["enums"] == expected["enums"]
    return pulled


# -- SQLite --------------------------------------------------------------------------


def _sqlite_catalog(url: str) -> Catalog:
    conn = sqlite3.connect(url.removeprefix("file:"))
    try:
        return read_sqlite_catalog(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("entry", _params("sqlite"))
def test_sqlite_round_trip(entry: dict[str, Any], tmp_path: Path) -> None:
    schema = _load(entry, "sqlite", tmp_path)
    first, second = f"file:{tmp_path}/first.db", f"file:{tmp_path}/second.db"
    push(schema, first, "sqlite")
    text = pull_schema_text(first)
    pulled = _check_round_trip(schema, text, "sqlite")
    push(pulled, second, "sqlite")
    assert diff_catalogs(_sqlite_catalog(first), _sqlite_catalog(second)) == []
    # Pulling is stable: the second database reads back as the same text.
    assert pull_schema_text(second) == text


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pull_pg_urls(postgres_server: Server) -> Iterator[tuple[str, str]]:
    """Two databases for the module, emptied before each case.

    Each case works in their ``public`` schemas, where the extension types of the
    server's template database (such as citext) are on the search path.
    """
    server = postgres_server.require()
    with fresh_postgres_database(server) as first, fresh_postgres_database(server) as second:
        yield first, second


_CLEAR_PUBLIC = """
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', r.tablename);
  END LOOP;
  FOR r IN SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'public' AND t.typtype = 'e' LOOP
    EXECUTE format('DROP TYPE IF EXISTS public.%I CASCADE', r.typname);
  END LOOP;
  FOR r IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
    EXECUTE format('DROP EXTENSION IF EXISTS %I CASCADE', r.extname);
  END LOOP;
END $$
"""


def _postgres_catalog(url: str, *, clear: bool = False) -> Catalog:
    with psycopg.connect(url, autocommit=True) as conn:
        catalog = read_postgres_catalog(conn)
        if clear:
            conn.execute(_CLEAR_PUBLIC)
        return catalog


@pytest.mark.postgres
@pytest.mark.parametrize("entry", _params("postgresql"))
def test_postgres_round_trip(
    entry: dict[str, Any], tmp_path: Path, pull_pg_urls: tuple[str, str]
) -> None:
    schema = _load(entry, "postgresql", tmp_path)
    first, second = pull_pg_urls
    try:
        push(schema, first, "postgresql")
        text = pull_schema_text(first)
        pulled = _check_round_trip(schema, text, "postgresql")
        push(pulled, second, "postgresql")
        assert pull_schema_text(second) == text
    finally:
        expected = _postgres_catalog(first, clear=True)
        actual = _postgres_catalog(second, clear=True)
    assert diff_catalogs(expected, actual) == []


# -- bad input -----------------------------------------------------------------------


def test_unreachable_postgres_is_one_clear_error() -> None:
    with pytest.raises(ConnectionFailed, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1"):
        pull_schema_text("postgresql://postgres@127.0.0.1:1/postgres")


def test_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailed, match="the file does not exist"):
        pull_schema_text(f"file:{tmp_path}/nothing.db")
    assert not (tmp_path / "nothing.db").exists()


def test_empty_sqlite_database_says_so(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(EmptyDatabase, match="has no tables to pull"):
        introspect(f"file:{tmp_path}/empty.db")
