"""Catalog snapshots of real PostgreSQL and SQLite databases, and the differences they reveal.

The golden SQL files under ``tests/golden/catalog/`` are the output of
``../shared/tools/prisma-oracle/prisma-ddl <schema> <provider>`` for the shared
``blog.prisma`` and ``shop.prisma`` schemas, so these tests run without Node.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest

from datatier.migrate._catalog import (
    Catalog,
    Column,
    EnumType,
    ForeignKey,
    Index,
    IndexColumn,
    PrimaryKey,
    Table,
    diff_catalogs,
)
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._sqlscript import apply_sql_script
from tests.harness.databases import fresh_postgres_database
from tests.harness.servers import Server

GOLDEN = Path(__file__).parent / "golden" / "catalog"

# --- fixtures -----------------------------------------------------------------

PgFactory = Callable[[], "psycopg.Connection[Any]"]


@pytest.fixture
def fresh_pg(postgres_server: Server) -> Iterator[PgFactory]:
    """Open autocommit connections to fresh, empty databases (the harness's), all dropped afterwards.

    A factory rather than ``pg_url`` because some tests need two databases.
    """
    server_url = postgres_server.require()
    with ExitStack() as stack:

        def make() -> psycopg.Connection[Any]:
            url = stack.enter_context(fresh_postgres_database(server_url))
            return stack.enter_context(psycopg.connect(url, autocommit=True))

        yield make


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> Iterator[Callable[[], sqlite3.Connection]]:
    """Open connections to fresh, empty SQLite database files."""
    opened: list[sqlite3.Connection] = []

    def make() -> sqlite3.Connection:
        conn = sqlite3.connect(tmp_path / f"{uuid.uuid4().hex}.db")
        opened.append(conn)
        return conn

    yield make
    for conn in opened:
        conn.close()


def pg_catalog_of(fresh_pg: PgFactory, sql: str) -> Catalog:
    conn = fresh_pg()
    apply_sql_script(conn, sql, "postgresql")
    return read_postgres_catalog(conn)


def sqlite_catalog_of(fresh_sqlite: Callable[[], sqlite3.Connection], sql: str) -> Catalog:
    conn = fresh_sqlite()
    apply_sql_script(conn, sql, "sqlite")
    return read_sqlite_catalog(conn)


# --- PostgreSQL -----------------------------------------------------------------

PG_BASE = """
-- CreateEnum
CREATE TYPE "Status" AS ENUM ('DRAFT', 'PUBLISHED');

-- CreateTable
CREATE TABLE "User" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Post" (
    "id" SERIAL NOT NULL,
    "authorId" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "views" INTEGER NOT NULL DEFAULT 0,
    "status" "Status" NOT NULL DEFAULT 'DRAFT',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Post_authorId_createdAt_idx" ON "Post"("authorId", "createdAt" DESC);

-- AddForeignKey
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
"""

PG_CHANGES = {
    "column type": (
        '"views" INTEGER NOT NULL',
        '"views" BIGINT NOT NULL',
        ['table "Post": column "views": type integer != bigint'],
    ),
    "column default": (
        "DEFAULT 0",
        "DEFAULT 1",
        ['table "Post": column "views": default 0 != 1'],
    ),
    "enum default": (
        "DEFAULT 'DRAFT'",
        "DEFAULT 'PUBLISHED'",
        ['table "Post": column "status": default \'DRAFT\'::"Status" != \'PUBLISHED\'::"Status"'],
    ),
    "nullability": (
        '"title" TEXT NOT NULL',
        '"title" TEXT',
        ['table "Post": column "title": NOT NULL != NULL'],
    ),
    "column missing": (
        '    "title" TEXT NOT NULL,\n',
        "",
        ['table "Post": column "title" missing'],
    ),
    "primary key renamed": (
        'CONSTRAINT "Post_pkey"',
        'CONSTRAINT "Post_pk"',
        ['table "Post": primary key name Post_pkey != Post_pk'],
    ),
    "primary key columns": (
        'PRIMARY KEY ("id")\n);\n\n-- CreateIndex',
        'PRIMARY KEY ("id", "authorId")\n);\n\n-- CreateIndex',
        ['table "Post": primary key columns (id) != (id, authorId)'],
    ),
    "primary key missing": (
        ',\n\n    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")',
        "",
        ['table "Post": primary key "Post_pkey" (id) missing'],
    ),
    "foreign key missing": (
        'ALTER TABLE "Post" ADD CONSTRAINT',
        '-- ALTER TABLE "Post" ADD CONSTRAINT',
        ['table "Post": foreign key "Post_authorId_fkey" missing'],
    ),
    "foreign key renamed": (
        'CONSTRAINT "Post_authorId_fkey"',
        'CONSTRAINT "Post_author_fkey"',
        ['table "Post": foreign key "Post_authorId_fkey" renamed to "Post_author_fkey"'],
    ),
    "foreign key on delete": (
        "ON DELETE RESTRICT",
        "ON DELETE CASCADE",
        ['table "Post": foreign key "Post_authorId_fkey": on delete RESTRICT != CASCADE'],
    ),
    "foreign key on update": (
        "ON UPDATE CASCADE",
        "",
        ['table "Post": foreign key "Post_authorId_fkey": on update CASCADE != NO ACTION'],
    ),
    "index columns": (
        '("authorId", "createdAt" DESC)',
        '("authorId")',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != ("authorId")'
        ],
    ),
    "index sort order": (
        '"createdAt" DESC',
        '"createdAt"',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != ("authorId", "createdAt")'
        ],
    ),
    "index nulls order": (
        '"createdAt" DESC',
        '"createdAt" DESC NULLS LAST',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != ("authorId", "createdAt" DESC NULLS LAST)'
        ],
    ),
    "index uniqueness": (
        'CREATE INDEX "Post_authorId_createdAt_idx"',
        'CREATE UNIQUE INDEX "Post_authorId_createdAt_idx"',
        ['table "Post": index "Post_authorId_createdAt_idx": unique no != yes'],
    ),
    "index method": (
        'ON "Post"("authorId", "createdAt" DESC)',
        'ON "Post" USING hash ("authorId")',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != ("authorId")',
            'table "Post": index "Post_authorId_createdAt_idx": method btree != hash',
        ],
    ),
    "partial index": (
        '("authorId", "createdAt" DESC);',
        '("authorId", "createdAt" DESC) WHERE "views" > 0;',
        [
            'table "Post": index "Post_authorId_createdAt_idx": predicate (none) != (views > 0)',
        ],
    ),
    "index missing": (
        'CREATE INDEX "Post_authorId_createdAt_idx"',
        '-- CREATE INDEX "Post_authorId_createdAt_idx"',
        ['table "Post": index "Post_authorId_createdAt_idx" missing'],
    ),
    "unique constraint instead of unique index": (
        'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");',
        'ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE ("email");',
        ['table "User": index "User_email_key": constraint (none) != UNIQUE'],
    ),
    "enum value added": (
        "('DRAFT', 'PUBLISHED')",
        "('DRAFT', 'PUBLISHED', 'ARCHIVED')",
        ['enum "Status": values (DRAFT, PUBLISHED) != (DRAFT, PUBLISHED, ARCHIVED)'],
    ),
    "enum values reordered": (
        "('DRAFT', 'PUBLISHED')",
        "('PUBLISHED', 'DRAFT')",
        ['enum "Status": values (DRAFT, PUBLISHED) != (PUBLISHED, DRAFT)'],
    ),
    "serial instead of identity": (
        '"id" SERIAL NOT NULL,\n    "authorId"',
        '"id" INTEGER GENERATED BY DEFAULT AS IDENTITY,\n    "authorId"',
        [
            'table "Post": column "id": default nextval(\'"Post_id_seq"\'::regclass) != (none)',
            'table "Post": column "id": identity (none) != BY DEFAULT',
        ],
    ),
}


@pytest.mark.postgres
@pytest.mark.parametrize("change", sorted(PG_CHANGES))
def test_postgres_diff_reports_change(fresh_pg: PgFactory, change: str) -> None:
    old, new, expected = PG_CHANGES[change]
    assert old in PG_BASE
    # One fresh database, the two versions in two schemas: a database costs a second to create.
    conn = fresh_pg()
    apply_sql_script(
        conn, 'CREATE SCHEMA "base"; SET search_path TO "base";' + PG_BASE, "postgresql"
    )
    changed_sql = PG_BASE.replace(old, new)
    apply_sql_script(
        conn, 'CREATE SCHEMA "new"; SET search_path TO "new";' + changed_sql, "postgresql"
    )
    base, changed = read_postgres_catalog(conn, "base"), read_postgres_catalog(conn, "new")
    assert diff_catalogs(base, changed) == expected
    assert base != changed


@pytest.mark.postgres
def test_postgres_same_ddl_gives_same_catalog(fresh_pg: PgFactory) -> None:
    sql = (GOLDEN / "blog.postgresql.sql").read_text()
    first, second = pg_catalog_of(fresh_pg, sql), pg_catalog_of(fresh_pg, sql)
    assert first == second
    assert diff_catalogs(first, second) == []


@pytest.mark.postgres
def test_postgres_table_missing_and_unexpected(fresh_pg: PgFactory) -> None:
    base = pg_catalog_of(fresh_pg, PG_BASE)
    extra = pg_catalog_of(fresh_pg, PG_BASE + 'CREATE TABLE "Extra" ("id" INTEGER);\n')
    assert diff_catalogs(base, extra) == ['unexpected table "Extra"']
    assert diff_catalogs(extra, base) == ['table "Extra" missing']


@pytest.mark.postgres
def test_postgres_reads_prisma_blog(fresh_pg: PgFactory) -> None:
    catalog = pg_catalog_of(fresh_pg, (GOLDEN / "blog.postgresql.sql").read_text())
    assert [t.name for t in catalog.tables] == [
        "Category",
        "Comment",
        "Post",
        "Tag",
        "_PostToTag",
        "user_profiles",
        "user_sessions",
        "users",
    ]
    assert catalog.enums == (
        EnumType("PostStatus", ("DRAFT", "PUBLISHED", "ARCHIVED")),
        EnumType("Role", ("USER", "EDITOR", "ADMIN")),
    )
    join = catalog.table("_PostToTag")
    assert join.primary_key == PrimaryKey("_PostToTag_AB_pkey", ("A", "B"))
    assert join.indexes == (Index("_PostToTag_B_index", (IndexColumn("B"),), method="btree"),)
    assert [fk.name for fk in join.foreign_keys] == ["_PostToTag_A_fkey", "_PostToTag_B_fkey"]
    post = catalog.table("Post")
    assert post.column("id") == Column(
        "id", "integer", nullable=False, default="nextval('\"Post_id_seq\"'::regclass)"
    )
    assert post.column("status").type == '"PostStatus"'
    assert post.column("createdAt").type == "timestamp(3) without time zone"
    assert post.index("Post_authorId_createdAt_idx").columns == (
        IndexColumn("authorId"),
        IndexColumn("createdAt", descending=True),
    )
    assert (
        ForeignKey(
            "Post_categoryId_fkey", ("categoryId",), "Category", ("id",), "SET NULL", "CASCADE"
        )
        in post.foreign_keys
    )
    users = catalog.table("users")
    assert users.index("users_email_key").unique
    assert users.index("users_email_key").constraint is None
    assert [s.owned_by for s in catalog.sequences] == [
        "Category.id",
        "Comment.id",
        "Post.id",
        "Tag.id",
    ]


@pytest.mark.postgres
def test_postgres_ignores_datatier_and_prisma_objects(fresh_pg: PgFactory) -> None:
    base = pg_catalog_of(fresh_pg, PG_BASE)
    owned = pg_catalog_of(
        fresh_pg,
        PG_BASE
        + """
        CREATE TYPE "_datatier_op" AS ENUM ('insert');
        CREATE TABLE "_datatier_outbox" ("id" BIGSERIAL PRIMARY KEY, "op" "_datatier_op");
        CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY);
        """,
    )
    assert diff_catalogs(base, owned) == []


@pytest.mark.postgres
def test_postgres_reads_other_schema_like_public(fresh_pg: PgFactory) -> None:
    conn = fresh_pg()
    apply_sql_script(conn, PG_BASE, "postgresql")
    apply_sql_script(conn, 'CREATE SCHEMA "app"; SET search_path TO "app";' + PG_BASE, "postgresql")
    conn.execute("RESET search_path")
    assert diff_catalogs(read_postgres_catalog(conn), read_postgres_catalog(conn, "app")) == []
    assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)


@pytest.mark.postgres
def test_apply_sql_script_is_atomic_on_postgres(fresh_pg: PgFactory) -> None:
    conn = fresh_pg()
    with pytest.raises(psycopg.errors.SyntaxError):
        apply_sql_script(
            conn, 'CREATE TABLE "A" ("id" INTEGER);\nCREATE TABLE oops (;\n', "postgresql"
        )
    assert read_postgres_catalog(conn) == Catalog(tables=())


# --- SQLite -------------------------------------------------------------------

SQLITE_BASE = """
-- CreateTable
CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "email" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "Post" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "authorId" INTEGER NOT NULL,
    "title" TEXT NOT NULL,
    "views" INTEGER NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Post_authorId_createdAt_idx" ON "Post"("authorId", "createdAt" DESC);
"""

SQLITE_CHANGES = {
    "column type": (
        '"views" INTEGER NOT NULL',
        '"views" BIGINT NOT NULL',
        ['table "Post": column "views": type INTEGER != BIGINT'],
    ),
    "column default": (
        "DEFAULT 0",
        "DEFAULT 1",
        ['table "Post": column "views": default 0 != 1'],
    ),
    "nullability": (
        '"title" TEXT NOT NULL',
        '"title" TEXT',
        ['table "Post": column "title": NOT NULL != NULL'],
    ),
    "autoincrement": (
        '"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n    "authorId"',
        '"id" INTEGER NOT NULL PRIMARY KEY,\n    "authorId"',
        ['table "Post": column "id": autoincrement yes != no'],
    ),
    "primary key columns": (
        '"id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n    "authorId"',
        '"id" INTEGER NOT NULL,\n    "authorId"',
        [
            'table "Post": column "id": autoincrement yes != no',
            'table "Post": primary key (id) missing',
        ],
    ),
    "check constraint (not read on SQLite)": (
        ',\n    CONSTRAINT "Post_authorId_fkey"',
        ',\n    CHECK ("views" >= 0),\n    CONSTRAINT "Post_authorId_fkey"',
        [],
    ),
    "foreign key missing": (
        ',\n    CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") '
        "ON DELETE RESTRICT ON UPDATE CASCADE",
        "",
        ['table "Post": foreign key "Post_authorId_fkey" missing'],
    ),
    "foreign key renamed": (
        'CONSTRAINT "Post_authorId_fkey"',
        'CONSTRAINT "Post_author_fkey"',
        ['table "Post": foreign key "Post_authorId_fkey" renamed to "Post_author_fkey"'],
    ),
    "foreign key on delete": (
        "ON DELETE RESTRICT",
        "ON DELETE SET NULL",
        ['table "Post": foreign key "Post_authorId_fkey": on delete RESTRICT != SET NULL'],
    ),
    "index sort order": (
        '"createdAt" DESC',
        '"createdAt"',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != ("authorId", "createdAt")'
        ],
    ),
    "index columns": (
        '("authorId", "createdAt" DESC)',
        '("createdAt" DESC, "authorId")',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != ("createdAt" DESC, "authorId")'
        ],
    ),
    "index uniqueness": (
        'CREATE INDEX "Post_authorId_createdAt_idx"',
        'CREATE UNIQUE INDEX "Post_authorId_createdAt_idx"',
        ['table "Post": index "Post_authorId_createdAt_idx": unique no != yes'],
    ),
    "index missing": (
        'CREATE INDEX "Post_authorId_createdAt_idx"',
        '-- CREATE INDEX "Post_authorId_createdAt_idx"',
        ['table "Post": index "Post_authorId_createdAt_idx" missing'],
    ),
    "expression and partial index": (
        '("authorId", "createdAt" DESC);',
        '(lower("title"), "createdAt" DESC) WHERE "views"  >  0;',
        [
            'table "Post": index "Post_authorId_createdAt_idx": '
            'columns ("authorId", "createdAt" DESC) != (lower("title"), "createdAt" DESC)',
            'table "Post": index "Post_authorId_createdAt_idx": predicate (none) != "views" > 0',
        ],
    ),
    "unique constraint instead of unique index": (
        '"email" TEXT NOT NULL\n',
        '"email" TEXT NOT NULL UNIQUE\n',
        ['table "User": unexpected index "sqlite_autoindex_User_1"'],
    ),
}


@pytest.mark.parametrize("change", sorted(SQLITE_CHANGES))
def test_sqlite_diff_reports_change(
    fresh_sqlite: Callable[[], sqlite3.Connection], change: str
) -> None:
    old, new, expected = SQLITE_CHANGES[change]
    assert old in SQLITE_BASE
    base = sqlite_catalog_of(fresh_sqlite, SQLITE_BASE)
    changed = sqlite_catalog_of(fresh_sqlite, SQLITE_BASE.replace(old, new))
    assert diff_catalogs(base, changed) == expected
    assert (base == changed) == (not expected)


def test_sqlite_same_ddl_gives_same_catalog(fresh_sqlite: Callable[[], sqlite3.Connection]) -> None:
    sql = (GOLDEN / "shop.sqlite.sql").read_text()
    first, second = sqlite_catalog_of(fresh_sqlite, sql), sqlite_catalog_of(fresh_sqlite, sql)
    assert first == second
    assert diff_catalogs(first, second) == []


def test_sqlite_reads_prisma_shop(fresh_sqlite: Callable[[], sqlite3.Connection]) -> None:
    conn = fresh_sqlite()
    conn.row_factory = sqlite3.Row  # the reader must not depend on the caller's row factory
    apply_sql_script(conn, (GOLDEN / "shop.sqlite.sql").read_text(), "sqlite")
    catalog = read_sqlite_catalog(conn)
    assert [t.name for t in catalog.tables] == [
        "Category",
        "Collection",
        "Customer",
        "Order",
        "OrderItem",
        "Product",
        "ProductCollection",
    ]
    assert catalog.enums == ()  # Prisma stores SQLite enums as TEXT
    product = catalog.table("Product")
    assert product.column("id") == Column("id", "INTEGER", nullable=False, autoincrement=True)
    assert product.column("price").type == "DECIMAL"
    assert product.column("attributes") == Column("attributes", "JSONB", nullable=True)
    assert product.column("createdAt").default == "CURRENT_TIMESTAMP"
    assert product.primary_key == PrimaryKey(None, ("id",))
    assert product.foreign_keys == (
        ForeignKey(
            "Product_categoryId_fkey", ("categoryId",), "Category", ("id",), "RESTRICT", "CASCADE"
        ),
    )
    link = catalog.table("ProductCollection")
    assert link.primary_key == PrimaryKey(None, ("productId", "collectionId"))
    assert not any(c.autoincrement for c in link.columns)
    assert link.indexes == ()  # the composite key's own index is the primary key
    assert catalog.table("OrderItem").indexes == (
        Index(
            "OrderItem_orderId_productId_key",
            (IndexColumn("orderId"), IndexColumn("productId")),
            unique=True,
        ),
    )
    order = catalog.table("Order")
    assert order.column("status") == Column("status", "TEXT", nullable=False, default="'PENDING'")


def test_sqlite_ignores_internal_and_owned_tables(
    fresh_sqlite: Callable[[], sqlite3.Connection],
) -> None:
    base = sqlite_catalog_of(fresh_sqlite, SQLITE_BASE)
    owned = sqlite_catalog_of(
        fresh_sqlite,
        SQLITE_BASE
        + 'CREATE TABLE "_datatier_outbox" ("id" INTEGER PRIMARY KEY AUTOINCREMENT);\n'
        + 'CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY);\n'
        + 'INSERT INTO "User" ("email") VALUES (\'a@example.com\');\n',
    )
    assert diff_catalogs(base, owned) == []


def test_sqlite_column_level_constraint_names(
    fresh_sqlite: Callable[[], sqlite3.Connection],
) -> None:
    catalog = sqlite_catalog_of(
        fresh_sqlite,
        'CREATE TABLE "A" ("id" INTEGER CONSTRAINT "A_pk" PRIMARY KEY);\n'
        'CREATE TABLE "B" ("a" INTEGER CONSTRAINT "B_a_fkey" REFERENCES "A", "c" TEXT, '
        '"d" INTEGER GENERATED ALWAYS AS ("a" + 1) STORED) STRICT;\n',
    )
    assert catalog.table("A").primary_key == PrimaryKey("A_pk", ("id",))
    b = catalog.table("B")
    assert b.foreign_keys == (ForeignKey("B_a_fkey", ("a",), "A", ("id",)),)
    assert b.options == ("STRICT",)
    assert b.column("d").generated == "STORED"


# --- comparison without a database ---------------------------------------------


def _table(*columns: Column, **kwargs: Any) -> Table:
    return Table("T", columns, **kwargs)


def test_diff_of_hand_built_catalogs() -> None:
    a, b = Column("a", "text", False), Column("b", "integer", True)
    assert diff_catalogs(Catalog((_table(a, b),)), Catalog((_table(b, a),))) == [
        'table "T": column order (a, b) != (b, a)'
    ]
    assert diff_catalogs(
        Catalog((_table(a, b),)), Catalog((_table(a, Column("c", "integer", True)),))
    ) == ['table "T": column "b" renamed to "c"']
    pk = PrimaryKey("T_pkey", ("a",))
    assert diff_catalogs(Catalog((_table(a),)), Catalog((_table(a, primary_key=pk),))) == [
        'table "T": unexpected primary key "T_pkey" (a)'
    ]


def test_catalog_order_is_canonical() -> None:
    i1, i2 = Index("i1", (IndexColumn("a"),)), Index("i2", (IndexColumn("b"),))
    t1 = Table("T", (), indexes=(i1, i2))
    t2 = Table("T", (), indexes=(i2, i1))
    assert t1 == t2
    assert Catalog((t1, Table("A", ()))) == Catalog((Table("A", ()), t2))
