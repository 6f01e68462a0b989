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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from datatier.dialects import get_dialect
from datatier.errors import ProviderMismatch
from datatier.migrate import (
    InvalidRename,
    MigrationPlan,
    RenameCandidate,
    plan_migration,
)
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._ddl import render_ddl
from datatier.migrate._diff_state import database_state
from datatier.migrate._plan import EMPTY_MIGRATION
from datatier.schema import Schema, validate_schema_text
from tests.harness.databases import fresh_postgres_database
from tests.harness.servers import Server

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


# Where datatier deliberately writes other SQL than Prisma: the migrated database then equals
# the new schema's (as ``db push`` creates it) rather than the one Prisma's script leaves.
DEVIATIONS = {
    "32_autoincrement_added": (
        "Prisma names a sequence it adds counter_id_seq (bigint) and keeps the sequence of a "
        "column that loses autoincrement; datatier names it as a SERIAL column's, and drops it"
    ),
}


def _steps_only(script: str) -> str:
    """A migration script without its warnings block and foreign key check (Prisma 7 writes neither)."""
    if script.startswith("/*"):
        script = script.split("*/\n\n", 1)[1]
    return script.replace("PRAGMA foreign_key_check;\n", "").strip()


# -- databases -----------------------------------------------------------------------


_PG_CONNECTIONS: dict[str, psycopg.Connection[Any]] = {}


class _Db:
    """One test database: apply scripts, read the catalog, read rows, start over."""

    def __init__(self, provider: str, url: str, schemas: tuple[str, ...] = ("public",)) -> None:
        self.provider = provider
        self.url = url
        self.schemas = schemas  # the PostgreSQL schemas compared and reset
        self.conn: Any = None

    def __enter__(self) -> _Db:
        if self.provider == "sqlite":
            self.conn = sqlite3.connect(self.url, isolation_level=None)
            # As an application has it: foreign keys on (the rebuild must switch them off).
            self.conn.execute("PRAGMA foreign_keys=ON")
        else:
            # One connection per database for the whole module: a new backend reads the
            # catalog far slower the first time.
            if self.url not in _PG_CONNECTIONS:
                _PG_CONNECTIONS[self.url] = psycopg.connect(self.url, autocommit=True)
            self.conn = _PG_CONNECTIONS[self.url]
            if self.conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")  # a script that failed after its own BEGIN
        return self

    def __exit__(self, *exc: object) -> None:
        if self.provider == "sqlite":
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
        """The rows of ``table`` (a name, or ``schema.name``) as sorted tuples of text."""
        listed = ", ".join(f'"{c}"' for c in columns)
        quoted = ".".join(f'"{part}"' for part in table.split("."))
        fetched = self.conn.execute(f"SELECT {listed} FROM {quoted}").fetchall()
        return sorted(tuple(str(v) for v in row) for row in fetched)

    def catalog(self) -> Catalog:
        if self.provider == "sqlite":
            return read_sqlite_catalog(self.conn)
        if self.schemas == ("public",):
            return read_postgres_catalog(self.conn, "public")
        # Several schemas: one catalog, tables and enums named "schema.name".
        tables: list[Any] = []
        enums: list[Any] = []
        sequences: list[Any] = []
        for schema in self.schemas:
            part = read_postgres_catalog(self.conn, schema)
            tables += [replace(t, name=f"{schema}.{t.name}") for t in part.tables]
            enums += [replace(e, name=f"{schema}.{e.name}") for e in part.enums]
            sequences += [replace(q, name=f"{schema}.{q.name}") for q in part.sequences]
        return Catalog(tables=tuple(tables), enums=tuple(enums), sequences=tuple(sequences))

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
            for schema in self.schemas:
                self.conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self.conn.execute('CREATE SCHEMA "public"')


@pytest.fixture(scope="module")
def shared_pg_url(postgres_server: Server) -> Iterator[str]:
    """One PostgreSQL database for the module's cases (each starts by emptying it): creating
    and dropping a database per case would cost more than the cases themselves."""
    with fresh_postgres_database(postgres_server.require()) as url:
        yield url
        connection = _PG_CONNECTIONS.pop(url, None)
        if connection is not None:
            connection.close()


@contextmanager
def _database(
    provider: str, request: pytest.FixtureRequest, tmp_path: Path, *schemas: Schema
) -> Iterator[_Db]:
    """A database for ``provider``; on PostgreSQL emptied first, with the named schemas
    of ``schemas`` compared and reset too."""
    if provider == "postgresql":
        url = request.getfixturevalue("shared_pg_url")
    else:
        url = str(tmp_path / "t.db")
    named = [n for s in schemas if s.datasource is not None for n in s.datasource.schemas]
    with _Db(provider, url, tuple(dict.fromkeys(["public", *named]))) as db:
        if provider == "postgresql":
            db.reset()
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
            out[".".join(p for p in key if p is not None)] = kept
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


@pytest.mark.parametrize(
    ("case", "provider"), [p for p in _params() if p.values[0].name not in DEVIATIONS]
)
def test_up_sql_reads_as_prismas(case: Path, provider: str) -> None:
    plan = _plan(case, provider)
    # datatier qualifies a referenced table in "public" too, where Prisma leaves it to search_path.
    mine = _steps_only(plan.up_sql).replace('REFERENCES "public".', "REFERENCES ")
    assert mine == _prisma_sql(case, provider).strip()


@pytest.mark.parametrize(("case", "provider"), _params())
def test_migration_matches_prisma_and_rolls_back(
    case: Path, provider: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    old, new = _load(case, provider)
    plan = plan_migration(old, new, provider)
    assert plan.is_empty == (_prisma_sql(case, provider).strip() == EMPTY_MIGRATION.strip())
    seed = (case / "seed.sql").read_text() if (case / "seed.sql").is_file() else ""
    kept = _untouched(old, new, provider)
    with _database(provider, request, tmp_path, old, new) as db:
        if case.name in DEVIATIONS:
            db.run(_ddl(new, provider))
            catalog_prisma = db.catalog()  # what datatier means to reach instead (see DEVIATIONS)
            db.reset()
        db.run(_ddl(old, provider))
        catalog_old = db.catalog()
        if case.name not in DEVIATIONS:
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


def test_autoincrement_changes_name_sequences_as_serial_columns_do() -> None:
    plan = _plan(CASES / "32_autoincrement_added", "postgresql")
    assert _steps_only(plan.up_sql) == "\n".join(
        [
            "-- AlterTable",
            'CREATE SEQUENCE "Counter_id_seq" AS INTEGER;',
            'ALTER TABLE "Counter" ALTER COLUMN "id" SET DEFAULT '
            "nextval('\"Counter_id_seq\"'::regclass),",
            'ALTER COLUMN "other" DROP DEFAULT;',
            'ALTER SEQUENCE "Counter_id_seq" OWNED BY "Counter"."id";',
            'SELECT setval(\'"Counter_id_seq"\', COALESCE(MAX("id"), 0) + 1, false) '
            'FROM "Counter";',
            'DROP SEQUENCE IF EXISTS "Counter_other_seq";',
        ]
    )


@pytest.mark.postgres
def test_an_added_autoincrement_continues_after_existing_rows(shared_pg_url: str) -> None:
    old, new = _load(CASES / "32_autoincrement_added", "postgresql")
    plan = plan_migration(old, new, "postgresql")
    with _Db("postgresql", shared_pg_url) as db:
        db.reset()
        db.run(_ddl(old, "postgresql"))
        db.run((CASES / "32_autoincrement_added" / "seed.sql").read_text())
        db.run(plan.up_sql)
        db.run('INSERT INTO "Counter" ("label", "other") VALUES (\'three\', 0);')
        assert db.rows("Counter", ["id", "label"])[-1] == ("3", "three")


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


# -- data-loss checks against real rows ----------------------------------------------------


_LOSS = [
    # case, providers, what the check's message names, SQL making it safe, SQL making it risky,
    # whether applying then fails (else the data is silently lost), direction
    (
        "05_drop_column",
        ("postgresql", "sqlite"),
        "drop the column `legacy`",
        'UPDATE "User" SET "legacy" = NULL',
        'UPDATE "User" SET "legacy" = \'x\'',
        False,
        "up",
    ),
    (
        "02_drop_table",
        ("postgresql", "sqlite"),
        "drop the `Audit` table",
        'DELETE FROM "Audit"',
        'INSERT INTO "Audit" ("id", "note") VALUES (7, \'n\')',
        False,
        "up",
    ),
    (
        "07_change_type_without_cast",
        ("postgresql",),
        "`score` column",
        'UPDATE "User" SET "score" = NULL',
        'UPDATE "User" SET "score" = \'high\'',
        False,
        "up",
    ),
    (
        "26_required_column_added_to_empty_table",
        ("postgresql", "sqlite"),
        "required column `title`",
        None,
        'INSERT INTO "Draft" ("id") VALUES (1)',
        True,
        "up",
    ),
    (
        "08_make_required_and_optional",
        ("postgresql",),
        "column `name` on table `User` required",
        None,
        'UPDATE "User" SET "name" = NULL WHERE "id" = 2',
        True,
        "up",
    ),
    (
        "12_unique_add_and_drop",
        ("postgresql", "sqlite"),
        "columns `[authorId,title]`",
        None,
        'INSERT INTO "Post" ("id", "title", "authorId") VALUES (4, \'Hello\', 1)',
        True,
        "up",
    ),
    (
        "28_varchar_narrowed_postgres",
        ("postgresql",),
        "column `title` on the `Post`",
        None,
        'UPDATE "Post" SET "title" = repeat(\'x\', 60) WHERE "id" = 1',
        True,
        "up",
    ),
    (
        "22_enum_values_removed",
        ("postgresql",),
        "values [EDITOR]",
        None,
        'UPDATE "User" SET "role" = \'EDITOR\' WHERE "id" = 1',
        True,
        "up",
    ),
    (
        "15_foreign_key_added",
        ("postgresql",),
        "foreign key `Review_postId_fkey`",
        None,
        'INSERT INTO "Review" ("id", "postId", "text") VALUES (3, 99, \'x\')',
        True,
        "up",
    ),
    (
        "06_change_type_castable",
        ("postgresql",),
        "column `age` on the `User`",
        None,
        'UPDATE "User" SET "age" = 10000000000 WHERE "id" = 1',
        True,
        "down",
    ),
    (
        "22_enum_values_removed",
        ("postgresql",),
        "values [OWNER]",
        None,
        'UPDATE "User" SET "role" = \'OWNER\' WHERE "id" = 1',
        True,
        "down",
    ),
]


def _loss_params() -> list[Any]:
    out = []
    for case, providers, *rest in _LOSS:
        for provider in providers:
            marks = [pytest.mark.postgres] if provider == "postgresql" else []
            out.append(
                pytest.param(case, provider, *rest, id=f"{case}-{rest[-1]}-{provider}", marks=marks)
            )
    return out


@pytest.mark.parametrize(
    ("name", "provider", "fragment", "safe", "risky", "fails", "direction"), _loss_params()
)
def test_data_loss_checks_count_exactly_the_risky_rows(
    name: str,
    provider: str,
    fragment: str,
    safe: str | None,
    risky: str,
    fails: bool,
    direction: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    case = CASES / name
    old, new = _load(case, provider)
    plan = plan_migration(old, new, provider)
    checks = plan.data_loss if direction == "up" else plan.down_data_loss
    script = plan.up_sql if direction == "up" else plan.down_sql
    matching = [c for c in checks if fragment in c.message]
    assert len(matching) == 1, [c.message for c in checks]
    check = matching[0]
    assert check.message in script  # listed in the script's warnings
    with _database(provider, request, tmp_path) as db:
        db.run(_ddl(old, provider))
        db.run((case / "seed.sql").read_text())
        if direction == "down":
            db.run(plan.up_sql)
        if safe is not None:
            db.run(safe + ";")
        assert db.count(check.sql) == 0
        db.run(risky + ";")
        assert db.count(check.sql) > 0
        if fails:
            with pytest.raises((sqlite3.Error, psycopg.Error)):
                db.run(script)
        else:
            db.run(script)


def test_sqlite_orphans_from_a_new_foreign_key_are_counted_and_reported(tmp_path: Path) -> None:
    case = CASES / "15_foreign_key_added"
    old, new = _load(case, "sqlite")
    plan = plan_migration(old, new, "sqlite")
    (check,) = [c for c in plan.data_loss if "Review_postId_fkey" in c.message]
    with _Db("sqlite", str(tmp_path / "t.db")) as db:
        db.run(_ddl(old, "sqlite"))
        db.run((case / "seed.sql").read_text())
        assert db.count(check.sql) == 0
        db.run('INSERT INTO "Review" ("id", "postId", "text") VALUES (3, 99, \'x\');')
        assert db.count(check.sql) == 1
        db.run(plan.up_sql)  # the rebuild runs with foreign keys off ...
        assert db.conn.execute("PRAGMA foreign_key_check").fetchall() != []  # ... and leaves it


def test_safe_changes_have_no_checks() -> None:
    for name in (
        "03_add_optional_column",
        "04_add_required_column_with_default",
        "14_index_renamed",
    ):
        for provider in ("postgresql", "sqlite"):
            plan = _plan(CASES / name, provider)
            assert plan.data_loss == (), (name, provider)
            assert not plan.up_sql.startswith("/*")


# -- renames -----------------------------------------------------------------------------


def test_rename_candidates_are_reported_not_applied() -> None:
    plan = _plan(CASES / "24_column_map_changed", "postgresql")
    assert plan.rename_candidates == (RenameCandidate("column", "name", "full_name", "User"),)
    assert 'DROP COLUMN "name"' in plan.up_sql and "RENAME" not in plan.up_sql
    plan = _plan(CASES / "25_table_map_changed", "sqlite")
    assert plan.rename_candidates == (RenameCandidate("table", "Note", "notes"),)
    assert plan.rename_candidates[0].describe() == 'table "Note" -> "notes"'
    assert _plan(CASES / "07_change_type_without_cast", "postgresql").rename_candidates == ()


_POST_RENAMED = """
model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  fullName String? @map("full_name")
  age   Int     @default(0)
  posts Post[]
}

model Post {
  id       Int    @id @default(autoincrement())
  title    String
  authorId Int
  author   User   @relation(fields: [authorId], references: [id])
  views    Int    @default(0)

  @@index([authorId])
  @@map("posts")
}
"""


@pytest.mark.parametrize(
    "provider", [pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite"]
)
def test_confirmed_renames_keep_the_data(
    provider: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    case = CASES / "01_create_table"
    old = _schema((case / "old.prisma").read_text(), provider)
    new = _schema('datasource db {\n  provider = "postgresql"\n}\n' + _POST_RENAMED, provider)
    candidates = plan_migration(old, new, provider).rename_candidates
    assert set(candidates) == {
        RenameCandidate("table", "Post", "posts"),
        RenameCandidate("column", "name", "full_name", "User"),
    }
    plan = plan_migration(old, new, provider, renames=candidates)
    assert plan.rename_candidates == ()
    assert 'ALTER TABLE "Post" RENAME TO "posts"' in plan.up_sql
    assert 'RENAME COLUMN "name" TO "full_name"' in plan.up_sql
    # (SQLite rebuilds "posts" to rename its inline foreign key; the rebuild copies every row.)
    assert 'DROP TABLE "Post"' not in plan.up_sql and "DROP COLUMN" not in plan.up_sql
    assert plan.data_loss == ()
    with _database(provider, request, tmp_path) as db:
        db.run(_ddl(new, provider))
        pushed = db.catalog()
        db.reset()
        db.run(_ddl(old, provider))
        catalog_old = db.catalog()
        db.run((case / "seed.sql").read_text())
        db.run(plan.up_sql)
        assert diff_catalogs(pushed, db.catalog()) == []
        assert db.rows("User", ["id", "full_name"]) == [("1", "Ann"), ("2", "None")]
        assert db.rows("posts", ["id", "title", "authorId"]) == [
            ("1", "Hello", "1"),
            ("2", "World", "1"),
            ("3", "Bob says", "2"),
        ]
        db.run(plan.down_sql)
        assert diff_catalogs(catalog_old, db.catalog()) == []
        assert db.rows("User", ["id", "name"]) == [("1", "Ann"), ("2", "None")]
        assert db.count('SELECT COUNT(*) FROM "Post"') == 3


# -- bad input and edge cases ----------------------------------------------------------------


def test_schemas_of_different_providers_are_refused() -> None:
    case = CASES / "03_add_optional_column"
    old = _schema((case / "old.prisma").read_text(), "postgresql")
    new = _schema((case / "new.prisma").read_text(), "sqlite")
    with pytest.raises(ProviderMismatch, match="same datasource provider") as info:
        plan_migration(old, new, "sqlite")
    assert "postgresql schema to a sqlite schema" in str(info.value)


def test_provider_specific_schema_for_another_database_is_refused() -> None:
    old, new = _load(CASES / "28_varchar_narrowed_postgres", "postgresql")
    with pytest.raises(ProviderMismatch, match=r"@db\.\*.*cannot be planned for sqlite"):
        plan_migration(old, new, "sqlite")


def test_unknown_provider_is_refused() -> None:
    old, new = _load(CASES / "03_add_optional_column", "postgresql")
    with pytest.raises(ValueError, match="unsupported provider 'mysql'"):
        plan_migration(old, new, "mysql")


@pytest.mark.parametrize(
    ("rename", "message"),
    [
        (RenameCandidate("table", "Nope", "notes"), 'cannot rename table "Nope"'),
        (
            RenameCandidate("table", "Note", "User"),
            'the new schema must have "User" and the old one must not',
        ),
        (
            RenameCandidate("column", "name", "nick", "User"),
            '"User"."name": the old schema must have it and the new one must not',
        ),
        (RenameCandidate("column", "nope", "x", "User"), 'cannot rename column "User"."nope"'),
        (RenameCandidate("column", "body", "x", "Note"), "both schemas must have the table"),
        (RenameCandidate("column", "body", "text", "Missing"), "both schemas must have the table"),
        (RenameCandidate("column", "body", "title"), "needs its table"),
    ],
)
def test_invalid_renames_are_refused(rename: RenameCandidate, message: str) -> None:
    old, new = _load(CASES / "25_table_map_changed", "postgresql")
    with pytest.raises(InvalidRename, match=re.escape(message)):
        plan_migration(old, new, "postgresql", renames=[rename])


def test_rename_to_a_column_the_new_schema_lacks_is_refused() -> None:
    old, new = _load(CASES / "24_column_map_changed", "sqlite")
    with pytest.raises(InvalidRename, match='to "nick": the new schema must have "nick"'):
        plan_migration(
            old, new, "sqlite", renames=[RenameCandidate("column", "name", "nick", "User")]
        )


def test_no_change_is_an_empty_migration() -> None:
    old, _ = _load(CASES / "30_many_changes_at_once", "postgresql")
    plan = plan_migration(old, old, "postgresql")
    assert plan.is_empty and plan.steps == () and plan.summary == []
    assert plan.up_sql == plan.down_sql == EMPTY_MIGRATION


def test_from_an_empty_database_is_the_schemas_ddl() -> None:
    _, new = _load(CASES / "30_many_changes_at_once", "postgresql")
    plan = plan_migration(None, new, "postgresql")
    statements = [s for s in _steps_only(plan.up_sql).split(";\n") if not s.startswith("--")]
    body = "\n".join(
        line for line in _steps_only(plan.up_sql).splitlines() if not line.startswith("--")
    )
    assert [s.strip().rstrip(";") for s in body.split(";\n") if s.strip()] == render_ddl(
        new, "postgresql"
    )
    assert statements and plan.down_data_loss and not plan.data_loss
    assert plan.summary[0] == 'create enum "Role" (USER, ADMIN)'


def test_summary_has_one_line_per_step() -> None:
    plan = _plan(CASES / "30_many_changes_at_once", "postgresql")
    assert len(plan.summary) == len(plan.steps) > 5
    assert 'remove EDITOR from enum "Role"' in plan.summary
    assert 'rename index "Post_authorId_idx" to "by_author"' in plan.summary


# -- speed -----------------------------------------------------------------------------------


def test_one_change_on_a_100_model_schema_plans_quickly() -> None:
    """Guards against accidental quadratic work; the figure is reported by
    ``python -m bench.datagen.migration_change`` (see its docstring)."""
    from bench.datagen.migration_change import one_change_schemas

    old_text, new_text = one_change_schemas(model_count=100)
    old, new = validate_schema_text(old_text), validate_schema_text(new_text)
    start = time.perf_counter()
    plan = plan_migration(old, new, "postgresql")
    elapsed = time.perf_counter() - start
    assert [s.kind for s in plan.steps] == ["AlterTable"]
    assert elapsed < 5.0, f"planning took {elapsed:.2f} s"


# -- every conformance schema ------------------------------------------------------------------


def _conformance_params() -> list[Any]:
    from tests.harness.golden import MANIFEST

    return [
        pytest.param(entry, provider, id=f"{entry['group']}/{entry['name']}-{provider}")
        for entry in MANIFEST["schemas"]
        if entry["expect_valid"]
        for provider in entry.get("ddl") or []
    ]


@pytest.mark.parametrize(("entry", "provider"), _conformance_params())
def test_conformance_schemas_plan_from_empty_and_to_themselves(
    entry: dict[str, Any], provider: str, tmp_path: Path
) -> None:
    """From nothing the plan is the schema's DDL; between a schema and itself there is nothing."""
    from tests.test_ddl_conformance import _load as load_conformance

    schema = load_conformance(entry, provider, tmp_path)
    same = plan_migration(schema, schema, provider)
    assert same.is_empty, same.summary
    plan = plan_migration(None, schema, provider)
    statements = [
        s
        for step in plan.steps
        for s in step.sql.split(";\n")
        if s.strip() and not s.startswith("CREATE SCHEMA")
    ]
    expected = [s for s in render_ddl(schema, provider) if not s.startswith("CREATE SCHEMA")]
    assert sorted(s.rstrip(";") for s in statements) == sorted(expected)


# -- random single changes to the example schemas ------------------------------------------------

_MODEL_BLOCK = re.compile(r"^model (\w+) \{\n(.*?)^\}", re.MULTILINE | re.DOTALL)
_FIELD_LINE = re.compile(r"^  (\w+)(\s+)(String|Int|BigInt|Float|Boolean|DateTime)(\??)(.*)$")


def _mutations(text: str, seed: int, count: int) -> list[tuple[str, str]]:
    """``count`` single changes to ``text`` (description, new text), each a valid schema:
    a column added, dropped, retyped or made optional/required, or an index added."""
    import random

    rng = random.Random(seed)
    models = [(m.group(1), m.start(2), m.end(2)) for m in _MODEL_BLOCK.finditer(text)]
    out: list[tuple[str, str]] = []
    tries = 0
    while len(out) < count and tries < 200:
        tries += 1
        name, start, end = rng.choice(models)
        body = text[start:end]
        lines = body.split("\n")
        plain = [
            i
            for i, line in enumerate(lines)
            if (m := _FIELD_LINE.match(line))
            and "@id" not in line
            and "@updatedAt" not in line
            and body.count(m.group(1)) == 1  # in no key, index or relation
        ]
        kind = ("drop", "optional", "retype", "index", "add")[len(out) % 5]
        if kind == "add":
            lines.insert(len([x for x in lines if x.strip()]) and 1, "  zzNote String?")
            label = f"add a column to {name}"
        elif not plain:
            continue
        else:
            i = rng.choice(plain)
            m = _FIELD_LINE.match(lines[i])
            assert m is not None
            field, space, type_, optional, rest = m.groups()
            if kind == "drop":
                del lines[i]
            elif kind == "optional":
                rest = re.sub(r"@default\([^)]*\)", "", rest)
                lines[i] = f"  {field}{space}{type_}{'' if optional else '?'}{rest}"
            elif kind == "retype":
                other = {"Int": "BigInt", "BigInt": "Int", "Float": "Int", "String": "Int"}.get(
                    type_, "String"
                )
                rest = re.sub(r"@default\([^)]*\)", "", rest)
                lines[i] = f"  {field}{space}{other}{optional}{rest}"
            else:
                lines.insert(len(lines) - 1, f"  @@index([{field}])")
            label = f"{kind} {name}.{field}"
        changed = text[:start] + "\n".join(lines) + text[end:]
        try:
            validate_schema_text(changed)
        except Exception:
            continue
        out.append((label, changed))
    return out


def _mutation_params() -> list[Any]:
    shared = Path(__file__).parent / "conformance" / "schemas" / "shared"
    out = []
    for file, seed in (("blog.prisma", 11), ("shop.prisma", 12)):
        text = _PROVIDER_LINE.sub(r'\1"postgresql"', (shared / file).read_text(), count=1)
        for provider in ("postgresql", "sqlite"):
            marks = [pytest.mark.postgres] if provider == "postgresql" else []
            for i, (label, changed) in enumerate(_mutations(text, seed, 8)):
                out.append(
                    pytest.param(
                        text, changed, provider, id=f"{file}-{i}-{label}-{provider}", marks=marks
                    )
                )
    return out


@pytest.mark.parametrize(("old_text", "new_text", "provider"), _mutation_params())
def test_single_changes_to_example_schemas_reach_the_new_schema_and_back(
    old_text: str, new_text: str, provider: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    old, new = _schema(old_text, provider), _schema(new_text, provider)
    plan = plan_migration(old, new, provider)
    assert not plan.is_empty
    assert plan.down_sql == plan_migration(new, old, provider).up_sql
    with _database(provider, request, tmp_path) as db:
        db.run(_ddl(new, provider))
        pushed_new = _without_column_order(db.catalog())
        db.reset()
        db.run(_ddl(old, provider))
        pushed_old = _without_column_order(db.catalog())
        db.run(plan.up_sql)
        assert diff_catalogs(pushed_new, _without_column_order(db.catalog())) == []
        db.run(plan.down_sql)
        assert diff_catalogs(pushed_old, _without_column_order(db.catalog())) == []


def test_a_table_and_its_column_renamed_together(tmp_path: Path) -> None:
    case = CASES / "25_table_map_changed"
    old = _schema((case / "old.prisma").read_text(), "sqlite")
    new_text = (case / "new.prisma").read_text().replace("  body String\n", "  text String\n")
    new = _schema(new_text, "sqlite")
    renames = [
        RenameCandidate("table", "Note", "notes"),
        RenameCandidate("column", "body", "text", "notes"),
    ]
    plan = plan_migration(old, new, "sqlite", renames=renames)
    assert plan.data_loss == () and plan.rename_candidates == ()
    with _Db("sqlite", str(tmp_path / "t.db")) as db:
        db.run(_ddl(new, "sqlite"))
        pushed = db.catalog()
        db.reset()
        db.run(_ddl(old, "sqlite"))
        before = db.catalog()
        db.run((case / "seed.sql").read_text())
        db.run(plan.up_sql)
        assert diff_catalogs(pushed, db.catalog()) == []
        assert db.rows("notes", ["id", "text"]) == [("1", "gone after the change")]
        db.run(plan.down_sql)
        assert diff_catalogs(before, db.catalog()) == []
        assert db.rows("Note", ["id", "body"]) == [("1", "gone after the change")]


@pytest.mark.postgres
def test_enum_values_removed_from_a_renamed_table(shared_pg_url: str) -> None:
    """The renames run first, so the enum's columns are cast under their new names."""
    case = CASES / "22_enum_values_removed"
    old = _schema((case / "old.prisma").read_text(), "postgresql")
    new_text = (case / "new.prisma").read_text()
    new_text = new_text.replace("  posts Post[]\n}", '  posts Post[]\n\n  @@map("users")\n}', 1)
    new = _schema(new_text, "postgresql")
    plan = plan_migration(
        old, new, "postgresql", renames=[RenameCandidate("table", "User", "users")]
    )
    assert plan.summary[0] == 'rename table "User" to "users"'
    with _Db("postgresql", shared_pg_url) as db:
        db.reset()
        db.run(_ddl(new, "postgresql"))
        pushed = db.catalog()
        db.reset()
        db.run(_ddl(old, "postgresql"))
        before = db.catalog()
        db.run((case / "seed.sql").read_text())
        db.run(plan.up_sql)
        assert diff_catalogs(pushed, db.catalog()) == []
        assert db.rows("users", ["id", "role"]) == [("1", "ADMIN"), ("2", "USER")]
        db.run(plan.down_sql)
        assert diff_catalogs(before, db.catalog()) == []


_NARROW_OLD = """datasource db {
  provider = "postgresql"
}

model N {
  id  Int      @id
  d   Decimal
  t   DateTime
  f   Float
  r   Float
  big BigInt
}
"""

_NARROW_NEW = (
    _NARROW_OLD.replace("  d   Decimal\n", "  d   Decimal  @db.Decimal(6, 2)\n")
    .replace("  t   DateTime\n", "  t   DateTime @db.Date\n")
    .replace("  f   Float\n", "  f   Int\n")
    .replace("  r   Float\n", "  r   Float    @db.Real\n")
    .replace("  big BigInt\n", "  big Int\n")
)


@pytest.mark.postgres
def test_narrowing_type_changes_count_the_values_that_do_not_fit(shared_pg_url: str) -> None:
    old, new = _schema(_NARROW_OLD, "postgresql"), _schema(_NARROW_NEW, "postgresql")
    plan = plan_migration(old, new, "postgresql")
    columns = ("`d`", "`t`", "`f`", "`r`", "`big`")
    checks = {c: [k for k in plan.data_loss if f"column {c} on" in k.message] for c in columns}
    assert all(len(found) == 1 for found in checks.values()), plan.data_loss
    with _Db("postgresql", shared_pg_url) as db:
        db.reset()
        db.run(_ddl(old, "postgresql"))
        db.run(
            'INSERT INTO "N" ("id", "d", "t", "f", "r", "big") VALUES '
            "(1, 12.5, '2024-01-01 00:00:00', 3, 0.5, 7), "
            "(2, 12345.678, '2024-01-01 10:30:00', 2.5, 0.1, 10000000000);"
        )
        for column, (check,) in checks.items():
            assert db.count(check.sql) == 1, column  # row 2 does not fit, row 1 does
        db.run('DELETE FROM "N" WHERE "id" = 2;')
        for column, (check,) in checks.items():
            assert db.count(check.sql) == 0, column
        db.run(plan.up_sql)
        assert db.rows("N", ["d", "f", "big"]) == [("12.50", "3", "7")]


_ENUM_OLD = """datasource db {
  provider = "postgresql"
}

enum Role {
  A
  B
  C
}

model T {
  id Int   @id
  r  Role  @default(A)
  s  Role?
  u  Role?
}

model Gone {
  id Int  @id
  r  Role
}
"""

_ENUM_NEW = (
    _ENUM_OLD.replace("  C\n", "")
    .replace("  s  Role?\n", "")
    .replace("  u  Role?\n", "  u  String?\n")
    .split("model Gone")[0]
)


@pytest.mark.postgres
def test_enum_values_removed_while_columns_using_them_go(shared_pg_url: str) -> None:
    """A removed value in a column that is dropped (or stops using the enum) is no obstacle."""
    old, new = _schema(_ENUM_OLD, "postgresql"), _schema(_ENUM_NEW, "postgresql")
    plan = plan_migration(old, new, "postgresql")
    value_checks = [c for c in plan.data_loss if "values [C]" in c.message]
    assert [c.message.rsplit("(", 1)[1] for c in value_checks] == ["column `r` of `T`)."]
    with _Db("postgresql", shared_pg_url) as db:
        db.reset()
        db.run(_ddl(old, "postgresql"))
        before = db.catalog()
        db.run("INSERT INTO \"T\" VALUES (1, 'B', 'C', 'C'); INSERT INTO \"Gone\" VALUES (1, 'C');")
        assert [db.count(c.sql) for c in value_checks] == [0]
        db.run(plan.up_sql)
        assert db.rows("T", ["id", "r", "u"]) == [("1", "B", "C")]
        db.run(plan.down_sql)
        assert (
            diff_catalogs(_without_column_order(before), _without_column_order(db.catalog())) == []
        )
