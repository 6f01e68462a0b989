"""``db pull``: a pushed schema pulled back creates the same database and the same IR.

Round trip per provider, for the shared example schemas, every valid conformance schema
``db push`` can create there and a generated many-model schema: push S, pull it, validate
the text, push the pulled schema into a second empty database, and require equal
catalogs and an IR equivalent to S's (same tables, columns, types, keys and relations;
relation field names may differ); pulled again with S as the existing schema, S's own
names come back. Databases made by hand with raw SQL are pulled and checked against
expected texts; then the defaults read back one by one, the command, and bad input.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner, Result

from bench.datagen.schema_gen import render_schema
from datatier.cli import app
from datatier.dialects import get_dialect
from datatier.errors import ConnectionFailed
from datatier.migrate import EmptyDatabase, introspect, plan_migration, pull_schema_text
from datatier.migrate._catalog import Catalog, Column, EnumType, Table, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._introspect_file import merge_pulled_schema
from datatier.migrate._introspect_render import IGNORED_COMMENT
from datatier.migrate._introspect_types import column_reader
from datatier.migrate._push import push
from datatier.schema import Schema, validate_schema_text
from tests.harness.databases import fresh_postgres_database
from tests.harness.golden import MANIFEST, schema_path
from tests.harness.servers import Server
from tests.test_cli import run as run_cli
from tests.test_ddl_conformance import _cases, _load

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
    # A default the database can express as a value is pulled as one, not as dbgenerated().
    assert _db_generated(pulled) == _db_generated(original)
    return pulled


# Schemas whose database reads back in another spelling than the schema's, which the
# migration planner compares as written: a dbgenerated() expression as PostgreSQL prints
# it, default operator classes and `sort: Asc` (the database's defaults, so not stored),
# and a DateTime default whose offset a timestamp without time zone drops.
_PLAN_DIFFERENCES = {
    "valid/12_default_now_dbgenerated",
    "valid/52_index_ops_and_sort_postgres",
    "valid/59_default_literal_edge_cases",
    "valid/61_index_field_arguments_ignored_sqlite",
}


def _check_reintrospection(
    original: Schema, text: str, provider: str, *, planned_empty: bool
) -> None:
    """Pulled with the schema that made the database, the schema's own names come back.

    And the migration planner, comparing the two, finds nothing to change: what
    ``migrate dev``, ``db push`` and drift checks rely on.
    """
    pulled = validate_schema_text(text, "pulled.prisma")
    assert _shape(pulled, provider) == _shape(original, provider)
    assert _named(pulled) == _named(original)
    if planned_empty:
        assert plan_migration(pulled, original, provider).summary == []


def _named(schema: Schema) -> dict[str, Any]:
    """Model, field, enum and relation names with what each field declares."""
    models = {}
    for model in schema.models:
        if model.is_view:
            continue
        key = model.primary_key.fields if model.primary_key else ()
        models[model.name] = (
            model.db_name,
            model.is_ignored,
            _documentation(model.documentation),
            sorted(
                (
                    f.name,
                    f.type,
                    f.is_list,
                    # A key column is NOT NULL on PostgreSQL whatever an ignored model says.
                    f.is_required or any(k.name == f.name for k in key),
                    f.relation_name,
                    f.is_updated_at,
                    f.default.name if f.default and f.default.kind == "function" else None,
                    f.is_ignored,
                    f.documentation,
                )
                for f in model.fields
            ),
        )
    enums = sorted((e.name, tuple(v.name for v in e.values)) for e in schema.enums)
    return {"models": models, "enums": enums}


def _documentation(text: str | None) -> str | None:
    """A model's documentation without the note db pull adds to tables it ignores."""
    if text is None:
        return None
    lines = [line for line in text.splitlines() if line != IGNORED_COMMENT.removeprefix("/// ")]
    return "\n".join(lines) or None


def _db_generated(schema: Schema) -> list[tuple[str, str]]:
    return sorted(
        (m.db_name, f.db_name)
        for m in schema.models
        if not m.is_view
        for f in m.scalar_fields
        if f.default is not None and f.default.name == "dbgenerated" and f.default.args
    )


# -- SQLite --------------------------------------------------------------------------


def _sqlite_catalog(url: str) -> Catalog:
    conn = sqlite3.connect(url.removeprefix("file:"))
    try:
        return read_sqlite_catalog(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("entry", _cases("sqlite"))
def test_sqlite_round_trip(entry: dict[str, Any], tmp_path: Path) -> None:
    _sqlite_round_trip(_load(entry, "sqlite", tmp_path), tmp_path)


def _sqlite_round_trip(schema: Schema, tmp_path: Path, *, planned_empty: bool = True) -> str:
    first, second = f"file:{tmp_path}/first.db", f"file:{tmp_path}/second.db"
    push(schema, first, "sqlite")
    text = pull_schema_text(first)
    pulled = _check_round_trip(schema, text, "sqlite")
    again = pull_schema_text(first, existing=schema)
    _check_reintrospection(schema, again, "sqlite", planned_empty=planned_empty)
    push(pulled, second, "sqlite")
    assert diff_catalogs(_sqlite_catalog(first), _sqlite_catalog(second)) == []
    # Pulling is stable: the second database reads back as the same text.
    assert pull_schema_text(second) == text
    return text


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pull_pg_urls(postgres_server: Server) -> Iterator[tuple[str, str]]:
    """Two databases for the module, emptied before each case.

    Each case works in their ``public`` schemas, where the extension types of the
    server's template database (such as citext) are on the search path.
    """
    server = postgres_server.require()
    with fresh_postgres_database(server) as first, fresh_postgres_database(server) as second:
        with psycopg.connect(server, autocommit=True) as admin:
            for url in (first, second):
                # Throwaway databases: commits need not wait for the disk.
                name = url.rsplit("/", 1)[1]
                admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off'.encode())
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
    return _postgres_catalogs(url, ("public",), clear=clear)["public"]


def _postgres_catalogs(url: str, schemas: Sequence[str], *, clear: bool) -> dict[str, Catalog]:
    """The catalogs of ``schemas``; with ``clear``, everything in them is dropped afterwards."""
    with psycopg.connect(url, autocommit=True) as conn:
        catalogs = {name: read_postgres_catalog(conn, name) for name in schemas}
        if clear:
            for name in schemas:
                if name != "public":
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'.encode())
            conn.execute(_CLEAR_PUBLIC)
        return catalogs


@pytest.mark.postgres
@pytest.mark.parametrize("entry", _cases("postgresql"))
def test_postgres_round_trip(
    entry: dict[str, Any], tmp_path: Path, pull_pg_urls: tuple[str, str]
) -> None:
    planned_empty = f"{entry['group']}/{entry['name']}" not in _PLAN_DIFFERENCES
    schema = _load(entry, "postgresql", tmp_path)
    _postgres_round_trip(schema, pull_pg_urls, planned_empty=planned_empty)


def _postgres_round_trip(
    schema: Schema, urls: tuple[str, str], *, planned_empty: bool = True
) -> str:
    first, second = urls
    # A schema spread over database schemas (@@schema) is pulled from the ones it lists.
    listed = schema.datasource.schemas if schema.datasource else ()
    schemas = tuple(dict.fromkeys(("public", *listed)))
    try:
        push(schema, first, "postgresql")
        text = pull_schema_text(first, schemas=listed or None)
        pulled = _check_round_trip(schema, text, "postgresql")
        again = pull_schema_text(first, schemas=listed or None, existing=schema)
        _check_reintrospection(schema, again, "postgresql", planned_empty=planned_empty)
        push(pulled, second, "postgresql")
        assert pull_schema_text(second, schemas=listed or None) == text
    finally:
        expected = _postgres_catalogs(first, schemas, clear=True)
        actual = _postgres_catalogs(second, schemas, clear=True)
    for name in schemas:
        assert diff_catalogs(expected[name], actual[name]) == [], f"schema {name}"
    return text


# Implicit m:n between models whose tables are mapped: Prisma's A side is the model whose
# name sorts first, so the pulled models take back the names the join table spells.
MAPPED_MANY_TO_MANY = """
datasource db {
  provider = "%s"
}

model CatalogAsset {
  id    Int           @id
  notes FinanceNote[]

  @@map("catalog_assets")
}

model FinanceNote {
  id     Int            @id
  assets CatalogAsset[]
}
"""


@pytest.mark.parametrize(
    "provider", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_mapped_many_to_many_round_trip(
    provider: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    schema = validate_schema_text(MAPPED_MANY_TO_MANY % provider)
    if provider == "sqlite":
        text = _sqlite_round_trip(schema, tmp_path)
    else:
        text = _postgres_round_trip(schema, request.getfixturevalue("pull_pg_urls"))
    assert "model CatalogAsset {" in text and '@@map("catalog_assets")' in text
    assert "financeNotes FinanceNote[]" in text and "catalogAssets CatalogAsset[]" in text


# A generated schema of many models (mapped names, enums, native types, lists, composite
# keys, every relation kind; PostgreSQL only): 40 models by default (the fewest it makes),
# DATATIER_TEST_PULL_MODELS=300 for the full size.
_GENERATED_MODELS = int(os.environ.get("DATATIER_TEST_PULL_MODELS", "40"))


@pytest.mark.postgres
def test_generated_schema_round_trip(pull_pg_urls: tuple[str, str]) -> None:
    schema = validate_schema_text(render_schema(model_count=_GENERATED_MODELS))
    assert len(schema.models) >= _GENERATED_MODELS and schema.join_tables
    _postgres_round_trip(schema, pull_pg_urls)


# -- bad input -----------------------------------------------------------------------


def test_unreachable_postgres_is_one_clear_error() -> None:
    with pytest.raises(ConnectionFailed, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1"):
        pull_schema_text("postgresql://postgres@127.0.0.1:1/postgres")


def test_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailed, match="the file does not exist"):
        pull_schema_text(f"file:{tmp_path}/nothing.db")
    assert not (tmp_path / "nothing.db").exists()


@pytest.mark.postgres
def test_empty_postgres_database_says_so_and_enums_alone_are_pulled(
    pull_pg_urls: tuple[str, str],
) -> None:
    first, _ = pull_pg_urls
    with pytest.raises(EmptyDatabase, match=r"has no tables or enums to pull.*\?schema="):
        pull_schema_text(first)
    try:
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute("CREATE TYPE \"Mood\" AS ENUM ('sad', 'ok')")
        assert pull_schema_text(first) == (
            'datasource db {\n  provider = "postgresql"\n}\n\nenum Mood {\n  sad\n  ok\n}\n'
        )
    finally:
        _postgres_catalog(first, clear=True)


def test_empty_sqlite_database_says_so(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    with pytest.raises(EmptyDatabase, match="has no tables or enums to pull"):
        introspect(f"file:{tmp_path}/empty.db")


# -- a database made by hand ---------------------------------------------------------

# Odd names (spaces, dashes), a table without a key, a self-relation, two relations
# between the same pair of tables, an enum, a scalar list, an implicit m:n join table, and
# the tables datatier and Prisma keep for themselves (never pulled).
HAND_MADE_POSTGRES = """
CREATE TYPE "order-status" AS ENUM ('new', 'in progress', 'DONE');
CREATE TABLE "user accounts" (
  "id" SERIAL NOT NULL,
  "e-mail" TEXT NOT NULL,
  "display name" VARCHAR(80),
  "created at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "user accounts_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "user accounts_e-mail_key" ON "user accounts"("e-mail");
CREATE TABLE "Order" (
  "id" SERIAL NOT NULL,
  "buyerId" INTEGER NOT NULL,
  "sellerId" INTEGER,
  "status" "order-status" NOT NULL DEFAULT 'new',
  "total" DECIMAL(10,2) NOT NULL DEFAULT 0,
  "parentId" INTEGER,
  "notes" TEXT[],
  CONSTRAINT "Order_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "orders_by_status" ON "Order"("status", "total" DESC);
ALTER TABLE "Order" ADD CONSTRAINT "Order_buyerId_fkey" FOREIGN KEY ("buyerId")
  REFERENCES "user accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "Order" ADD CONSTRAINT "Order_sellerId_fkey" FOREIGN KEY ("sellerId")
  REFERENCES "user accounts"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "Order" ADD CONSTRAINT "Order_parentId_fkey" FOREIGN KEY ("parentId")
  REFERENCES "Order"("id") ON DELETE CASCADE ON UPDATE NO ACTION;
CREATE TABLE "Tag" ("id" SERIAL NOT NULL, "label" TEXT NOT NULL,
  CONSTRAINT "Tag_pkey" PRIMARY KEY ("id"));
CREATE TABLE "_OrderToTag" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL,
  CONSTRAINT "_OrderToTag_AB_pkey" PRIMARY KEY ("A","B"));
CREATE INDEX "_OrderToTag_B_index" ON "_OrderToTag"("B");
ALTER TABLE "_OrderToTag" ADD CONSTRAINT "_OrderToTag_A_fkey" FOREIGN KEY ("A")
  REFERENCES "Order"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "_OrderToTag" ADD CONSTRAINT "_OrderToTag_B_fkey" FOREIGN KEY ("B")
  REFERENCES "Tag"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE TABLE "audit log" ("at" TIMESTAMP(3) NOT NULL, "message" TEXT);
CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY);
CREATE TABLE "_datatier_outbox" ("id" INTEGER PRIMARY KEY);
"""

HAND_MADE_SQLITE = """
CREATE TABLE "user accounts" (
  "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "e-mail" TEXT NOT NULL,
  "created at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE UNIQUE INDEX "user accounts_e-mail_key" ON "user accounts"("e-mail");
CREATE TABLE "Order" (
  "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  "buyerId" INTEGER NOT NULL,
  "sellerId" INTEGER,
  "status" TEXT NOT NULL DEFAULT 'new',
  "parentId" INTEGER,
  CONSTRAINT "Order_buyerId_fkey" FOREIGN KEY ("buyerId") REFERENCES "user accounts" ("id")
    ON DELETE RESTRICT ON UPDATE CASCADE,
  CONSTRAINT "Order_sellerId_fkey" FOREIGN KEY ("sellerId") REFERENCES "user accounts" ("id")
    ON DELETE SET NULL ON UPDATE CASCADE,
  CONSTRAINT "Order_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Order" ("id")
    ON DELETE CASCADE ON UPDATE NO ACTION
);
CREATE INDEX "orders_by_status" ON "Order"("status", "buyerId" DESC);
CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "label" TEXT NOT NULL);
CREATE TABLE "_OrderToTag" (
  "A" INTEGER NOT NULL,
  "B" INTEGER NOT NULL,
  CONSTRAINT "_OrderToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Order" ("id")
    ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "_OrderToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag" ("id")
    ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "_OrderToTag_AB_unique" ON "_OrderToTag"("A", "B");
CREATE INDEX "_OrderToTag_B_index" ON "_OrderToTag"("B");
CREATE TABLE "audit log" ("at" DATETIME NOT NULL, "message" TEXT);
CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY);
CREATE TABLE "_datatier_outbox" ("id" INTEGER PRIMARY KEY);
"""


_COMMON_MODELS = """
model Tag {
  id     Int     @id @default(autoincrement())
  label  String
  orders Order[]
}

/// This table has no primary key and no unique index over required columns, so its rows cannot be told apart: the model is ignored (@@ignore), as Prisma's db pull does.
model audit_log {
  at      DateTime
  message String?

  @@map("audit log")
  @@ignore
}
"""

_RELATIONS = """\
  user_accounts_Order_buyerIdTouser_accounts  user_accounts  @relation("Order_buyerIdTouser_accounts", fields: [buyerId], references: [id])
  order                                       Order?         @relation("OrderToOrder", fields: [parentId], references: [id], onDelete: Cascade, onUpdate: NoAction)
  other_Orders                                Order[]        @relation("OrderToOrder")
  user_accounts_Order_sellerIdTouser_accounts user_accounts? @relation("Order_sellerIdTouser_accounts", fields: [sellerId], references: [id])
  tags                                        Tag[]
"""

EXPECTED_SQLITE = (
    """datasource db {
  provider = "sqlite"
}

model Order {
  id                                          Int            @id @default(autoincrement())
  buyerId                                     Int
  sellerId                                    Int?
  status                                      String         @default("new")
  parentId                                    Int?
"""
    + _RELATIONS
    + """
  @@index([status, buyerId(sort: Desc)], map: "orders_by_status")
}
"""
    + _COMMON_MODELS
    + """
model user_accounts {
  id                                   Int      @id @default(autoincrement())
  e_mail                               String   @unique @map("e-mail")
  created_at                           DateTime @default(now()) @map("created at")
  orders_Order_buyerIdTouser_accounts  Order[]  @relation("Order_buyerIdTouser_accounts")
  orders_Order_sellerIdTouser_accounts Order[]  @relation("Order_sellerIdTouser_accounts")

  @@map("user accounts")
}
"""
)

EXPECTED_POSTGRES = (
    """datasource db {
  provider = "postgresql"
}

model Order {
  id                                          Int            @id @default(autoincrement())
  buyerId                                     Int
  sellerId                                    Int?
  status                                      order_status   @default(new)
  total                                       Decimal        @default(0) @db.Decimal(10, 2)
  parentId                                    Int?
  notes                                       String[]
"""
    + _RELATIONS
    + """
  @@index([status, total(sort: Desc)], map: "orders_by_status")
}
"""
    + _COMMON_MODELS
    + """
model user_accounts {
  id                                   Int      @id @default(autoincrement())
  e_mail                               String   @unique @map("e-mail")
  display_name                         String?  @map("display name") @db.VarChar(80)
  created_at                           DateTime @default(now()) @map("created at") @db.Timestamptz(6)
  orders_Order_buyerIdTouser_accounts  Order[]  @relation("Order_buyerIdTouser_accounts")
  orders_Order_sellerIdTouser_accounts Order[]  @relation("Order_sellerIdTouser_accounts")

  @@map("user accounts")
}

enum order_status {
  new
  in_progress @map("in progress")
  DONE

  @@map("order-status")
}
"""
)


def test_hand_made_sqlite_database(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "hand.db")
    conn.executescript(HAND_MADE_SQLITE)
    conn.close()
    text = pull_schema_text(f"file:{tmp_path}/hand.db")
    assert text == EXPECTED_SQLITE
    schema = introspect(f"file:{tmp_path}/hand.db")
    assert [m.name for m in schema.models if m.is_ignored] == ["audit_log"]
    assert schema.join_tables[0].table == "_OrderToTag"
    # Pushed again, the pulled schema makes the database that was made by hand.
    push(schema, f"file:{tmp_path}/again.db", "sqlite")
    hand, again = (
        _sqlite_catalog(f"file:{tmp_path}/hand.db"),
        _sqlite_catalog(f"file:{tmp_path}/again.db"),
    )
    assert diff_catalogs(hand, again) == []


@pytest.mark.postgres
def test_hand_made_postgres_database(pull_pg_urls: tuple[str, str]) -> None:
    first, second = pull_pg_urls
    try:
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute(HAND_MADE_POSTGRES.encode())
        assert pull_schema_text(first) == EXPECTED_POSTGRES
        schema = introspect(first)
        assert [e.db_name for e in schema.enums] == ["order-status"]
        push(schema, second, "postgresql")
    finally:
        hand = _postgres_catalog(first, clear=True)
        again = _postgres_catalog(second, clear=True)
    assert diff_catalogs(hand, again) == []


def test_what_a_schema_cannot_say_is_noted(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "notes.db")
    conn.executescript(
        """
        CREATE TABLE a (id INTEGER PRIMARY KEY, code TEXT);
        CREATE INDEX a_lower ON a (lower(code));
        CREATE TABLE b (id INTEGER PRIMARY KEY, acode TEXT REFERENCES a(code));
        """
    )
    conn.close()
    text = pull_schema_text(f"file:{tmp_path}/notes.db")
    assert (
        '// Not described here, kept only in the database: the index "a_lower" '
        "(an expression index).\nmodel a {"
    ) in text
    assert (
        "// Not described here, kept only in the database: the foreign key on (acode) "
        "(its referenced key is not unique).\nmodel b {"
    ) in text


@pytest.mark.postgres
def test_check_constraints_are_noted(pull_pg_urls: tuple[str, str]) -> None:
    first, _ = pull_pg_urls
    try:
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute(
                'CREATE TABLE "Item" ("id" INTEGER PRIMARY KEY, "n" INTEGER CHECK (n > 0))'
            )
        assert pull_schema_text(first).startswith(
            'datasource db {\n  provider = "postgresql"\n}\n\n'
            "// Not described here, kept only in the database: the check constraint "
            '"Item_n_check".\nmodel Item {\n'
        )
    finally:
        _postgres_catalog(first, clear=True)


# -- the command ---------------------------------------------------------------------

_runner = CliRunner()


def _blog_database(tmp_path: Path) -> str:
    url = f"file:{tmp_path}/blog.db"
    push(_load(_shared("blog"), "sqlite", tmp_path), url, "sqlite")
    return url


def _shared(name: str) -> dict[str, Any]:
    return next(e for e in MANIFEST["schemas"] if e["group"] == "shared" and e["name"] == name)


def _pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATATIER_SCHEMA", raising=False)
    return _runner.invoke(app, ["db", "pull", *args])


def test_console_script_pulls(tmp_path: Path) -> None:
    """End to end, as a user runs it: the installed `datatier` command."""
    url = _blog_database(tmp_path)
    result = run_cli(tmp_path, "db", "pull", "--url", url)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "schema.prisma").read_text() == pull_schema_text(url)
    assert "wrote schema.prisma" in result.stdout


def test_cli_print_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _blog_database(tmp_path)
    result = _pull(tmp_path, monkeypatch, "--url", url, "--print")
    assert result.exit_code == 0, result.output
    assert result.stdout == pull_schema_text(url)
    assert "introspected" in result.stderr and "7 models" in result.stderr
    assert not (tmp_path / "schema.prisma").exists()


_HEADER = """\
// The project's own settings, kept by db pull.
generator client {
  provider = "prisma-client-js"
  output   = "./generated"
}

datasource db {
  provider = "sqlite"
  url      = env("BLOG_URL")
}
"""


def test_cli_keeps_generator_and_datasource(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _blog_database(tmp_path)
    (tmp_path / "schema.prisma").write_text(_HEADER)
    monkeypatch.setenv("BLOG_URL", url)
    result = _pull(tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout
    written = (tmp_path / "schema.prisma").read_text()
    assert written.startswith(_HEADER + "\nmodel Category {")
    body = pull_schema_text(url).split("}\n\n", 1)[1]  # the pulled text after its datasource
    assert written.endswith(body)
    # Pulling again changes nothing, and needs no --force.
    again = _pull(tmp_path, monkeypatch)
    assert again.exit_code == 0, again.output
    assert "already matches" in again.stdout


def test_cli_refuses_to_overwrite_another_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _blog_database(tmp_path)
    mine = 'datasource db {\n  provider = "sqlite"\n}\n\nmodel Mine {\n  id Int @id\n}\n'
    (tmp_path / "schema.prisma").write_text(mine)
    result = _pull(tmp_path, monkeypatch, "--url", url)
    assert result.exit_code == 1
    assert "--force" in result.stderr and "Traceback" not in result.output
    assert (tmp_path / "schema.prisma").read_text() == mine
    forced = _pull(tmp_path, monkeypatch, "--url", url, "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "schema.prisma").read_text() == pull_schema_text(url)


def test_cli_writes_a_new_file_where_schema_says_and_names_ignored_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sqlite3.connect(tmp_path / "hand.db")
    conn.executescript(HAND_MADE_SQLITE)
    conn.close()
    url = f"file:{tmp_path}/hand.db"
    result = _pull(tmp_path, monkeypatch, "--url", url, "--schema", "prisma/app.prisma")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "prisma" / "app.prisma").read_text() == EXPECTED_SQLITE
    assert "audit_log marked @@ignore (no primary key or unique index" in result.stdout
    assert result.stdout.rstrip().endswith("; wrote prisma/app.prisma")


def test_cli_refuses_a_schema_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _blog_database(tmp_path)
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "a.prisma").write_text('datasource db {\n  provider = "sqlite"\n}\n')
    result = _pull(tmp_path, monkeypatch, "--url", url, "--schema", "prisma")
    assert result.exit_code == 1
    assert "is a folder: pass --schema FILE" in result.stderr


def test_cli_keeps_the_names_of_the_schema_it_replaces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _blog_database(tmp_path)
    (tmp_path / "original").mkdir()
    original = _load(_shared("blog"), "sqlite", tmp_path / "original")
    blog = schema_path(_shared("blog")).read_text()
    body = blog[blog.index("\nenum ") :]  # the models and enums, without the config blocks
    (tmp_path / "schema.prisma").write_text(_HEADER + body)
    monkeypatch.setenv("BLOG_URL", url)
    result = _pull(tmp_path, monkeypatch, "--force")
    assert result.exit_code == 0, result.output
    written = validate_schema_text((tmp_path / "schema.prisma").read_text())
    assert _named(written) == _named(original)
    # Without the file's names, the tables' own names are used.
    assert "model users {" in pull_schema_text(url)


def test_cli_replaces_a_file_that_does_not_parse_only_with_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _blog_database(tmp_path)
    (tmp_path / "schema.prisma").write_text("model {\n")
    result = _pull(tmp_path, monkeypatch, "--url", url)
    assert result.exit_code == 1
    assert "does not parse" in result.stderr and "--force" in result.stderr
    assert (tmp_path / "schema.prisma").read_text() == "model {\n"
    forced = _pull(tmp_path, monkeypatch, "--url", url, "--force")
    assert forced.exit_code == 0, forced.output
    assert (tmp_path / "schema.prisma").read_text() == pull_schema_text(url)


def test_cli_empty_database_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    result = _pull(tmp_path, monkeypatch, "--url", f"file:{tmp_path}/empty.db")
    assert result.exit_code == 1
    assert "has no tables or enums to pull" in result.stderr
    assert not (tmp_path / "schema.prisma").exists()


def test_cli_without_a_url_names_the_ways_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _pull(tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert "no database URL: pass --url" in result.stderr


@pytest.mark.postgres
def test_cli_pulls_the_database_schemas_the_datasource_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pull_pg_urls: tuple[str, str]
) -> None:
    first, _ = pull_pg_urls
    entry = next(e for e in MANIFEST["schemas"] if e["name"] == "32_multi_schema")
    header = (
        'datasource db {\n  provider = "postgresql"\n  url      = env("APP_URL")\n'
        '  schemas  = ["auth", "billing"]\n}\n'
    )
    try:
        push(_load(entry, "postgresql", tmp_path), first, "postgresql")
        (tmp_path / "schema.prisma").write_text(header)
        monkeypatch.setenv("APP_URL", first)
        result = _pull(tmp_path, monkeypatch)
        assert result.exit_code == 0, result.output
        written = (tmp_path / "schema.prisma").read_text()
        assert written.startswith(header)
        assert written.count('@@schema("billing")') == 2 and '@@schema("auth")' in written
    finally:
        _postgres_catalogs(first, ("public", "auth", "billing"), clear=True)


def test_merge_adds_the_preview_features_the_pulled_schema_needs() -> None:
    pulled = (
        'datasource db {\n  provider = "postgresql"\n}\n\n'
        'generator client {\n  provider        = "prisma-client-js"\n'
        '  previewFeatures = ["partialIndexes"]\n}\n\n'
        "model A {\n  id Int @id\n}\n"
    )
    existing = (
        'generator py {\n  provider = "datatier"\n}\n\n'
        'datasource db {\n  provider = "postgres"\n  url      = env("PG")\n}\n'
    )
    merged = merge_pulled_schema(pulled, existing)
    assert merged == (
        'generator py {\n  provider        = "datatier"\n'
        '  previewFeatures = ["partialIndexes"]\n}\n\n'
        'datasource db {\n  provider = "postgres"\n  url      = env("PG")\n}\n\n'
        "model A {\n  id Int @id\n}\n"
    )


def test_names_that_are_not_identifiers(tmp_path: Path) -> None:
    """Valid names keep themselves; the others get sanitized, free names and @map/@@map."""
    conn = sqlite3.connect(tmp_path / "odd.db")
    conn.executescript(
        """
        CREATE TABLE "String" (id INTEGER PRIMARY KEY, "1st" TEXT, "a-b" TEXT, "a_b" TEXT);
        CREATE TABLE "a-b" (id TEXT NOT NULL, v VARCHAR(20), x WEIRD);
        CREATE UNIQUE INDEX "ab_id" ON "a-b"(id);
        CREATE TABLE "_x" (k INTEGER PRIMARY KEY, s INTEGER REFERENCES "String"(id));
        """
    )
    conn.close()
    url = f"file:{tmp_path}/odd.db"
    assert pull_schema_text(url) == (
        'datasource db {\n  provider = "sqlite"\n}\n\n'
        "model String_ {\n"
        "  id   Int     @id @default(autoincrement())\n"
        '  n1st String? @map("1st")\n'
        '  a_b2 String? @map("a-b")\n'
        "  a_b  String?\n"
        "  xes  x[]\n\n"
        '  @@map("String")\n'
        "}\n\n"
        "model a_b {\n"
        '  id String                @unique(map: "ab_id")\n'
        "  v  String?\n"
        '  x  Unsupported("WEIRD")?\n\n'
        '  @@map("a-b")\n'
        "}\n\n"
        "model x {\n"
        "  k       Int      @id @default(autoincrement())\n"
        "  s       Int?\n"
        "  string_ String_? @relation(fields: [s], references: [id], onDelete: NoAction, "
        "onUpdate: NoAction)\n\n"
        '  @@map("_x")\n'
        "}\n"
    )
    schema = introspect(url)
    assert schema.model("String_").field("a_b2").db_name == "a-b"
    assert [m.db_name for m in schema.models] == ["String", "a-b", "_x"]


# -- defaults read back (pure) -------------------------------------------------------

_POSTGRES_DEFAULTS = [
    ("integer", "'-1'::integer", "-1"),
    ("integer", "(-5)", "-5"),
    (
        "integer",
        "nextval('other_seq'::regclass)",
        "dbgenerated(\"nextval('other_seq'::regclass)\")",
    ),
    ("text", "'it''s'::text", '"it\'s"'),
    ("text", "'a\\b'::text", '"a\\\\b"'),
    ("character varying(10)", "'x'::character varying", '"x"'),
    ("double precision", "(0.5)::double precision", "0.5"),
    ("numeric(65,30)", "1.50", "1.50"),
    ("boolean", "true", "true"),
    ("jsonb", "'{\"a\": 1}'::jsonb", '"{\\"a\\": 1}"'),
    ("bytea", "'\\x48656c6c6f'::bytea", '"SGVsbG8="'),
    ("timestamp(3) without time zone", "CURRENT_TIMESTAMP", "now()"),
    (
        "timestamp(3) without time zone",
        "'2020-01-02 03:04:05.678'::timestamp without time zone",
        '"2020-01-02T03:04:05.678000Z"',
    ),
    (
        "timestamp with time zone",
        "'2020-01-02 03:04:05+02'::timestamp with time zone",
        '"2020-01-02T03:04:05+02:00"',
    ),
    (
        "time without time zone",
        "'10:00:00'::time without time zone",
        "dbgenerated(\"'10:00:00'::time without time zone\")",
    ),
    ('"order-status"', "'in progress'::\"order-status\"", "in_progress"),
    ("text[]", "ARRAY['a'::text, 'b,c'::text]", '["a", "b,c"]'),
    ("text[]", "'{}'::text[]", "[]"),
    ("character varying(20)[]", "'{a,\"b,c\"}'::character varying[]", '["a", "b,c"]'),
    ("integer[]", "'{1,2}'::integer[]", "[1, 2]"),
    ("integer[]", "'{{1},{2}}'::integer[]", "dbgenerated(\"'{{1},{2}}'::integer[]\")"),
    ("integer[]", "ARRAY[1, 2]", "[1, 2]"),
    ("uuid", "gen_random_uuid()", 'dbgenerated("gen_random_uuid()")'),
]

_SQLITE_DEFAULTS = [
    ("TEXT", "'it''s'", '"it\'s"'),
    ("INTEGER", "-3", "-3"),
    ("REAL", "1.5", "1.5"),
    ("BOOLEAN", "false", "false"),
    ("DATETIME", "CURRENT_TIMESTAMP", "now()"),
    ("DATETIME", "'2020-01-02 03:04:05 +00:00'", '"2020-01-02T03:04:05Z"'),
    ("JSONB", "'[1, 2]'", '"[1, 2]"'),
    ("JSONB", "42", '"42"'),
    ("BLOB", "'48656c6c6f'", '"SGVsbG8="'),
    ("TEXT", "(lower('X'))", "dbgenerated(\"(lower('X'))\")"),
]


def _default(provider: str, type_: str, default: str) -> str | None:
    enum = EnumType("order-status", ("new", "in progress"))
    catalog = Catalog(tables=(), enums=(enum,) if provider == "postgresql" else ())
    names = {("s", "order-status"): ("order_status", {"new": "new", "in progress": "in_progress"})}
    reader = column_reader(provider, {"s": catalog}, names if provider == "postgresql" else {})
    column = Column("c", type_, nullable=True, default=default)
    table = Table("t", (column,))
    return reader.default("s", table, column, reader.field_type(column, "s"))


@pytest.mark.parametrize(("type_", "default", "expected"), _POSTGRES_DEFAULTS)
def test_postgres_defaults(type_: str, default: str, expected: str) -> None:
    assert _default("postgresql", type_, default) == expected


@pytest.mark.parametrize(("type_", "default", "expected"), _SQLITE_DEFAULTS)
def test_sqlite_defaults(type_: str, default: str, expected: str) -> None:
    assert _default("sqlite", type_, default) == expected
