"""``plan_migration`` against Prisma's migration engine and real databases.

Each folder under ``tests/golden/migrations/`` is one schema change (``old.prisma``
-> ``new.prisma``, rows in ``seed.sql``) with Prisma's SQL for it
(``prisma.<provider>.sql``, written by ``scripts/regen_migration_golden.py``). For
every case and database: datatier's ``up_sql`` reads as Prisma's script; applied
to old's database it gives the catalog Prisma's script gives; ``down_sql`` then
gives old's catalog back; the rows in untouched columns survive both ways.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from datatier.dialects import get_dialect
from datatier.migrate import (
    MigrationPlan,
    plan_migration,
)
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._ddl import render_ddl
from datatier.migrate._diff_state import database_state
from datatier.migrate._plan import EMPTY_MIGRATION
from datatier.schema import Schema, validate_schema_text

CASES = Path(__file__).parent / "golden" / "migrations"
_PROVIDER_LINE = re.compile(r'(provider\s*=\s*)"(postgresql|postgres|sqlite)"')
_SQLITE_JSON_DEFAULT = re.compile(r"(JSONB(?: NOT NULL)? DEFAULT )(\{.*\}|\[.*\])(,?)$", re.M)


def _case_dirs() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "old.prisma").is_file())


def _params(*, require_seed: bool = False) -> list[Any]:
    out = []
    for case in _case_dirs():
        for provider in ("postgresql", "sqlite"):
            if (case / f"prisma.{provider}.sql").is_file():
                marks = [pytest.mark.postgres] if provider == "postgresql" else []
                out.append(pytest.param(case, provider, id=f"{case.name}-{provider}", marks=marks))
    return out


def _schema(text: str, provider: str) -> Schema:
    return validate_schema_text(_PROVIDER_LINE.sub(rf'\1"{provider}"', text, count=1))


def _load(case: Path, provider: str) -> tuple[Schema, Schema]:
    old = _schema((case / "old.prisma").read_text(), provider)
    new = _schema((case / "new.prisma").read_text(), provider)
    return old, new


def _plan(case: Path, provider: str, **kw: Any) -> MigrationPlan:
    old, new = _load(case, provider)
    return plan_migration(old, new, provider, **kw)


def _ddl(schema: Schema, provider: str) -> str:
    return ";\n".join(render_ddl(schema, provider)) + ";"


def _steps_only(script: str) -> str:
    """A migration script without its warnings block and foreign key check (Prisma 7 writes neither)."""
    if script.startswith("/*"):
        script = script.split("*/\n\n", 1)[1]
    return script.replace("PRAGMA foreign_key_check;\n", "").strip()


# -- databases -----------------------------------------------------------------------


class _Db:
    """One test database: apply scripts, read the catalog, read rows, start over."""

    def __init__(self, provider: str, url: str) -> None:
        self.provider = provider
        self.url = url
        self.conn: Any = None

    def __enter__(self) -> _Db:
        if self.provider == "sqlite":
            self.conn = sqlite3.connect(self.url, isolation_level=None)
            # As an application has it: foreign keys on (the rebuild must switch them off).
            self.conn.execute("PRAGMA foreign_keys=ON")
        else:
            self.conn = psycopg.connect(self.url, autocommit=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.conn.close()

    def run(self, script: str) -> None:
        """The script as a migration applier runs it (outside a transaction wrapper)."""
        if self.provider == "sqlite":
            self.conn.executescript(script)
        else:
            self.conn.execute(script.encode())

    def count(self, sql: str) -> int:
        row = self.conn.execute(sql).fetchone()
        return int(row[0])

    def rows(self, table: str, columns: list[str]) -> list[tuple[str, ...]]:
        listed = ", ".join(f'"{c}"' for c in columns)
        fetched = self.conn.execute(f'SELECT {listed} FROM "{table}"').fetchall()
        return sorted(tuple(str(v) for v in row) for row in fetched)

    def catalog(self) -> Catalog:
        if self.provider == "sqlite":
            return read_sqlite_catalog(self.conn)
        return read_postgres_catalog(self.conn, "public")

    def reset(self) -> None:
        if self.provider == "sqlite":
            self.conn.execute("PRAGMA foreign_keys=OFF")
            names = self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
            for (name,) in names:
                self.conn.execute(f'DROP TABLE "{name}"')
            self.conn.execute("PRAGMA foreign_keys=ON")
        else:
            self.conn.execute('DROP SCHEMA IF EXISTS "public" CASCADE')
            self.conn.execute('CREATE SCHEMA "public"')


@contextmanager
def _database(provider: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[_Db]:
    url = request.getfixturevalue("pg_url") if provider == "postgresql" else str(tmp_path / "t.db")
    with _Db(provider, url) as db:
        yield db


def _prisma_sql(case: Path, provider: str) -> str:
    sql = (case / f"prisma.{provider}.sql").read_text()
    if provider == "sqlite":  # Prisma leaves JSON object defaults unquoted on SQLite
        sql = _SQLITE_JSON_DEFAULT.sub(lambda m: f"{m[1]}'{m[2]}'{m[3]}", sql)
    return sql


def _untouched(old: Schema, new: Schema, provider: str) -> dict[str, list[str]]:
    """Per table in both schemas: the columns whose definition the change leaves alone."""
    dialect = get_dialect(provider)
    before, after = database_state(old, dialect), database_state(new, dialect)
    out: dict[str, list[str]] = {}
    for key, table in before.tables.items():
        target = after.tables.get(key)
        if target is None:
            continue
        kept = [
            name
            for name, column in table.columns.items()
            if name in target.columns and column.same_definition(target.columns[name])
        ]
        if kept:
            out[key[1]] = kept
    return out


def _without_column_order(catalog: Catalog) -> Catalog:
    tables = tuple(
        replace(t, columns=tuple(sorted(t.columns, key=lambda c: c.name))) for t in catalog.tables
    )
    return replace(catalog, tables=tables)


def _predicts_failure(message: str) -> bool:
    return any(w in message for w in ("will fail", "not possible", "existing NULL", "do not fit"))


# -- the conformance cases ---------------------------------------------------------------


def test_there_are_enough_cases() -> None:
    params = _params()
    assert len(_case_dirs()) >= 20
    assert sum(1 for p in params if p.values[1] == "sqlite") >= 20
    assert sum(1 for p in params if p.values[1] == "postgresql") >= 20


@pytest.mark.parametrize(("case", "provider"), _params())
def test_up_sql_reads_as_prismas(case: Path, provider: str) -> None:
    plan = _plan(case, provider)
    assert _steps_only(plan.up_sql) == _prisma_sql(case, provider).strip()


@pytest.mark.parametrize(("case", "provider"), _params())
def test_migration_matches_prisma_and_rolls_back(
    case: Path, provider: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    old, new = _load(case, provider)
    plan = plan_migration(old, new, provider)
    assert plan.is_empty == (_prisma_sql(case, provider).strip() == EMPTY_MIGRATION.strip())
    seed = (case / "seed.sql").read_text() if (case / "seed.sql").is_file() else ""
    kept = _untouched(old, new, provider)
    with _database(provider, request, tmp_path) as db:
        db.run(_ddl(old, provider))
        catalog_old = db.catalog()
        db.run(_prisma_sql(case, provider))
        catalog_prisma = db.catalog()
        db.reset()

        db.run(_ddl(old, provider))
        db.run(seed)
        rows = {t: db.rows(t, cols) for t, cols in kept.items()}
        assert any(rows.values()) or not seed, "the seed must put rows in untouched columns"
        counts = {check: db.count(check.sql) for check in plan.data_loss}
        db.run(plan.up_sql)
        # It applied, so no check that predicts a failure may have fired (no false alarms).
        assert [c.message for c, n in counts.items() if n and _predicts_failure(c.message)] == []
        assert diff_catalogs(catalog_prisma, db.catalog()) == []
        assert {t: db.rows(t, cols) for t, cols in kept.items()} == rows

        db.run(plan.down_sql)
        after_down = db.catalog()
        if provider == "postgresql":
            # Columns dropped by the change come back at the end of their table.
            catalog_old, after_down = (_without_column_order(c) for c in (catalog_old, after_down))
        assert diff_catalogs(catalog_old, after_down) == []
        assert {t: db.rows(t, cols) for t, cols in kept.items()} == rows


# -- SQLite: rebuilding a parent keeps its children ----------------------------------------


def test_sqlite_rebuild_of_a_parent_keeps_cascading_children(tmp_path: Path) -> None:
    case = CASES / "27_parent_rebuilt_children_cascade"
    old, new = _load(case, "sqlite")
    plan = plan_migration(old, new, "sqlite")
    assert plan.needs_foreign_keys_off
    assert any(step.kind == "RedefineTables" and '"new_User"' in step.sql for step in plan.steps)
    assert "PRAGMA foreign_keys=OFF" in plan.up_sql and "PRAGMA foreign_key_check" in plan.up_sql
    with _Db("sqlite", str(tmp_path / "t.db")) as db:
        db.run(_ddl(old, "sqlite"))
        db.run((case / "seed.sql").read_text())
        assert db.count('SELECT COUNT(*) FROM "Post"') == 3
        db.run(plan.up_sql)
        assert db.count('SELECT COUNT(*) FROM "Post"') == 3
        assert db.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert db.conn.execute("PRAGMA foreign_keys").fetchone() == (1,)
        db.run(plan.down_sql)
        assert db.count('SELECT COUNT(*) FROM "Post"') == 3
        # The cascade still works after the rebuild, so the child rows were kept on purpose.
        db.conn.execute('DELETE FROM "User" WHERE "id" = 1')
        assert db.count('SELECT COUNT(*) FROM "Post"') == 1


def test_without_foreign_keys_off_the_rebuild_would_lose_children(tmp_path: Path) -> None:
    """The control for the test above: the same rebuild inside a transaction cascades."""
    case = CASES / "27_parent_rebuilt_children_cascade"
    old, new = _load(case, "sqlite")
    plan = plan_migration(old, new, "sqlite")
    with _Db("sqlite", str(tmp_path / "t.db")) as db:
        db.run(_ddl(old, "sqlite"))
        db.run((case / "seed.sql").read_text())
        db.run("BEGIN;\n" + plan.up_sql + "\nCOMMIT;")
        assert db.count('SELECT COUNT(*) FROM "Post"') == 0
