"""Every valid conformance schema, on every provider Prisma generates DDL for: the database
datatier creates has the same catalog as an empty database after Prisma's own migration SQL.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._ddl import render_ddl
from datatier.migrate._sqlscript import apply_sql_script
from datatier.schema import Schema, load_schema
from tests.harness.golden import MANIFEST, prisma_sql, schema_path

_PROVIDER_LINE = re.compile(r'(provider\s*=\s*)"(postgresql|postgres|sqlite)"')


def _cases(provider: str) -> list[Any]:
    return [
        pytest.param(entry, id=f"{entry['group']}/{entry['name']}")
        for entry in MANIFEST["schemas"]
        if entry["expect_valid"] and provider in (entry.get("ddl") or [])
    ]


def _load(entry: dict[str, Any], provider: str, tmp_path: Path) -> Schema:
    """The entry's schema, with its datasource switched to ``provider`` when it was portable."""
    source = schema_path(entry)
    if not source.exists():
        pytest.fail(f"schema {source} is missing (set DATATIER_SHARED_DIR for shared schemas)")
    if entry["provider"] in (provider, "postgres" if provider == "postgresql" else provider):
        return load_schema(source)
    copy = tmp_path / "schema"
    if source.is_dir():
        shutil.copytree(source, copy)
        files = list(copy.rglob("*.prisma"))
    else:
        copy.mkdir()
        files = [copy / source.name]
        shutil.copy(source, files[0])
    for file in files:
        text = file.read_text()
        file.write_text(_PROVIDER_LINE.sub(rf'\1"{provider}"', text, count=1))
    return load_schema(copy if source.is_dir() else files[0])


def _sqlite_catalog(script: str) -> Catalog:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        apply_sql_script(conn, script, "sqlite")
        return read_sqlite_catalog(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("entry", _cases("sqlite"))
def test_sqlite_catalog_matches_prisma(entry: dict[str, Any], tmp_path: Path) -> None:
    schema = _load(entry, "sqlite", tmp_path)
    expected = _sqlite_catalog(prisma_sql(entry, "sqlite"))
    actual = _sqlite_catalog(";\n".join(render_ddl(schema, "sqlite")) + ";")
    assert diff_catalogs(expected, actual) == []


def _postgres_catalogs(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> dict[str, Catalog]:
    return {name: read_postgres_catalog(conn, name) for name in schemas}


def _reset(conn: psycopg.Connection[Any], schemas: tuple[str, ...]) -> None:
    for name in schemas:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    conn.execute('CREATE SCHEMA IF NOT EXISTS "public"')


@pytest.mark.parametrize("entry", _cases("postgresql"))
def test_postgres_catalog_matches_prisma(entry: dict[str, Any], tmp_path: Path, pg_url: str) -> None:
    schema = _load(entry, "postgresql", tmp_path)
    schemas: tuple[str, ...] = ("public",)
    if schema.datasource is not None and schema.datasource.schemas:
        schemas = tuple(dict.fromkeys(("public", *schema.datasource.schemas)))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        apply_sql_script(conn, prisma_sql(entry, "postgresql"), "postgresql")
        expected = _postgres_catalogs(conn, schemas)
        _reset(conn, schemas)
        apply_sql_script(conn, ";\n".join(render_ddl(schema, "postgresql")) + ";", "postgresql")
        actual = _postgres_catalogs(conn, schemas)
    for name in schemas:
        assert diff_catalogs(expected[name], actual[name]) == [], f"schema {name}"
