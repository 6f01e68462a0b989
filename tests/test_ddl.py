"""Exact DDL per dialect: ``render_ddl`` writes the statements Prisma's migration engine writes.

Every expected text below was checked against ``prisma migrate diff --script``
(the prisma-oracle tool); only the ``-- CreateTable`` comments, the trailing
``;`` and PostgreSQL's ``CREATE SCHEMA IF NOT EXISTS "public"`` are left out.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from datatier.dialects import PostgresDialect, SqliteDialect, get_dialect
from datatier.migrate._ddl import render_ddl, to_metadata
from datatier.schema import Schema, load_schema

BODY = """
enum Role {
  USER
  ADMIN @map("admin")
}

model User {
  id    Int    @id @default(autoincrement())
  email String @unique
  role  Role   @default(USER)
  tags  Tag[]
  posts Post[]
}

model Post {
  id       BigInt   @id @default(autoincrement())
  authorId Int
  author   User     @relation(fields: [authorId], references: [id], onDelete: Cascade)
  title    String   @default("it's")
  at       DateTime @default(now())

  @@index([authorId, at(sort: Desc)])
}

model Tag {
  name  String @id
  users User[]
}
"""


def load(tmp_path: Path, body: str, provider: str, extra: str = "") -> Schema:
    path = tmp_path / "schema.prisma"
    header = f'datasource db {{\n  provider = "{provider}"{extra}\n}}\n'
    path.write_text(header + textwrap.dedent(body))
    return load_schema(path)


def test_get_dialect() -> None:
    assert isinstance(get_dialect("postgresql"), PostgresDialect)
    assert isinstance(get_dialect("postgres"), PostgresDialect)
    assert isinstance(get_dialect("sqlite"), SqliteDialect)
    with pytest.raises(ValueError, match="unsupported provider 'mysql'"):
        get_dialect("mysql")


def test_postgres_enums_tables_indexes_then_foreign_keys(tmp_path: Path) -> None:
    assert render_ddl(load(tmp_path, BODY, "postgresql")) == [
        """CREATE TYPE "Role" AS ENUM ('USER', 'admin')""",
        'CREATE TABLE "User" (\n'
        '    "id" SERIAL NOT NULL,\n'
        '    "email" TEXT NOT NULL,\n'
        """    "role" "Role" NOT NULL DEFAULT 'USER',\n"""
        "\n"
        '    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n'
        ")",
        'CREATE TABLE "Post" (\n'
        '    "id" BIGSERIAL NOT NULL,\n'
        '    "authorId" INTEGER NOT NULL,\n'
        """    "title" TEXT NOT NULL DEFAULT 'it''s',\n"""
        '    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n'
        "\n"
        '    CONSTRAINT "Post_pkey" PRIMARY KEY ("id")\n'
        ")",
        'CREATE TABLE "Tag" (\n'
        '    "name" TEXT NOT NULL,\n'
        "\n"
        '    CONSTRAINT "Tag_pkey" PRIMARY KEY ("name")\n'
        ")",
        'CREATE TABLE "_TagToUser" (\n'
        '    "A" TEXT NOT NULL,\n'
        '    "B" INTEGER NOT NULL,\n'
        "\n"
        '    CONSTRAINT "_TagToUser_AB_pkey" PRIMARY KEY ("A","B")\n'
        ")",
        'CREATE UNIQUE INDEX "User_email_key" ON "User"("email")',
        'CREATE INDEX "Post_authorId_at_idx" ON "Post"("authorId", "at" DESC)',
        'CREATE INDEX "_TagToUser_B_index" ON "_TagToUser"("B")',
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") '
        'REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE',
        'ALTER TABLE "_TagToUser" ADD CONSTRAINT "_TagToUser_A_fkey" FOREIGN KEY ("A") '
        'REFERENCES "Tag"("name") ON DELETE CASCADE ON UPDATE CASCADE',
        'ALTER TABLE "_TagToUser" ADD CONSTRAINT "_TagToUser_B_fkey" FOREIGN KEY ("B") '
        'REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE',
    ]


def test_sqlite_inline_keys_and_foreign_keys(tmp_path: Path) -> None:
    assert render_ddl(load(tmp_path, BODY, "sqlite")) == [
        'CREATE TABLE "User" (\n'
        '    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n'
        '    "email" TEXT NOT NULL,\n'
        """    "role" TEXT NOT NULL DEFAULT 'USER'\n"""
        ")",
        # A BigInt id is never AUTOINCREMENT on SQLite (only INTEGER can be).
        'CREATE TABLE "Post" (\n'
        '    "id" BIGINT NOT NULL PRIMARY KEY,\n'
        '    "authorId" INTEGER NOT NULL,\n'
        """    "title" TEXT NOT NULL DEFAULT 'it''s',\n"""
        '    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,\n'
        '    CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") '
        "ON DELETE CASCADE ON UPDATE CASCADE\n"
        ")",
        'CREATE TABLE "Tag" (\n    "name" TEXT NOT NULL PRIMARY KEY\n)',
        'CREATE TABLE "_TagToUser" (\n'
        '    "A" TEXT NOT NULL,\n'
        '    "B" INTEGER NOT NULL,\n'
        '    CONSTRAINT "_TagToUser_A_fkey" FOREIGN KEY ("A") REFERENCES "Tag" ("name") '
        "ON DELETE CASCADE ON UPDATE CASCADE,\n"
        '    CONSTRAINT "_TagToUser_B_fkey" FOREIGN KEY ("B") REFERENCES "User" ("id") '
        "ON DELETE CASCADE ON UPDATE CASCADE\n"
        ")",
        'CREATE UNIQUE INDEX "User_email_key" ON "User"("email")',
        'CREATE INDEX "Post_authorId_at_idx" ON "Post"("authorId", "at" DESC)',
        # SQLite's join table has no primary key: a unique index over (A, B) instead.
        'CREATE UNIQUE INDEX "_TagToUser_AB_unique" ON "_TagToUser"("A", "B")',
        'CREATE INDEX "_TagToUser_B_index" ON "_TagToUser"("B")',
    ]


def test_sqlite_every_single_int_id_is_autoincrement_and_composite_key_unnamed(
    tmp_path: Path,
) -> None:
    body = """
    model A {
      id Int @id @default(3)
    }

    model K {
      a Int
      b Int
      c Int @default(0)

      @@id([a, b])
    }
    """
    assert render_ddl(load(tmp_path, body, "sqlite")) == [
        'CREATE TABLE "A" (\n    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT DEFAULT 3\n)',
        'CREATE TABLE "K" (\n'
        '    "a" INTEGER NOT NULL,\n'
        '    "b" INTEGER NOT NULL,\n'
        '    "c" INTEGER NOT NULL DEFAULT 0,\n'
        "\n"
        '    PRIMARY KEY ("a", "b")\n'
        ")",
    ]


def test_postgres_native_types(tmp_path: Path) -> None:
    body = """
    model N {
      id Int    @id @db.SmallInt @default(autoincrement())
      a  String @db.VarChar(255)
      b  String @db.Char(3)
      c  String @db.Uuid @default(dbgenerated("gen_random_uuid()"))
      d  DateTime @db.Timestamptz(6)
      e  DateTime @db.Timestamp
      f  DateTime @db.Date
      g  DateTime @db.Timetz(3)
      h  Int @db.Oid
      i  Float @db.Real
      j  Decimal @db.Decimal(10, 2)
      k  Decimal @db.Money
      l  String @db.Inet
      m  String @db.Citext
      n  String @db.Xml
      o  String @db.Bit(8)
      p  String @db.VarBit(8)
      q  Json @db.Json
      r  Bytes @db.ByteA
      s  Unsupported("circle")?
    }
    """
    (create,) = render_ddl(load(tmp_path, body, "postgresql"))
    assert create.splitlines()[1:-3] == [
        '    "id" SMALLSERIAL NOT NULL,',
        '    "a" VARCHAR(255) NOT NULL,',
        '    "b" CHAR(3) NOT NULL,',
        '    "c" UUID NOT NULL DEFAULT gen_random_uuid(),',
        '    "d" TIMESTAMPTZ(6) NOT NULL,',
        '    "e" TIMESTAMP NOT NULL,',
        '    "f" DATE NOT NULL,',
        '    "g" TIMETZ(3) NOT NULL,',
        '    "h" OID NOT NULL,',
        '    "i" REAL NOT NULL,',
        '    "j" DECIMAL(10,2) NOT NULL,',
        '    "k" MONEY NOT NULL,',
        '    "l" INET NOT NULL,',
        '    "m" CITEXT NOT NULL,',
        '    "n" XML NOT NULL,',
        '    "o" BIT(8) NOT NULL,',
        '    "p" VARBIT(8) NOT NULL,',
        '    "q" JSON NOT NULL,',
        '    "r" BYTEA NOT NULL,',
        '    "s" circle,',
    ]


def test_postgres_literal_and_list_defaults(tmp_path: Path) -> None:
    body = """
    enum Color {
      RED
      GREEN @map("green")
    }

    model D {
      id    Int        @id
      js    Json       @default("{\\"a\\": 1}")
      dt    DateTime   @default("2020-01-01T10:20:30.123+02:00")
      by    Bytes      @default("aGVsbG8=")
      bo    Boolean    @default(true)
      fl    Float      @default(1.5)
      neg   BigInt     @default(-5)
      u     String     @default(uuid())
      cols  Color[]    @default([RED, GREEN])
      tags  String[]   @default(["a", "b'c"])
      none  Int[]      @default([])
      flts  Float[]    @default([1.5])
    }
    """
    statements = render_ddl(load(tmp_path, body, "postgresql"))
    assert statements[1].splitlines()[1:-3] == [
        '    "id" INTEGER NOT NULL,',
        """    "js" JSONB NOT NULL DEFAULT '{"a": 1}',""",
        """    "dt" TIMESTAMP(3) NOT NULL DEFAULT '2020-01-01 10:20:30.123 +02:00',""",
        """    "by" BYTEA NOT NULL DEFAULT '\\x68656c6c6f',""",
        '    "bo" BOOLEAN NOT NULL DEFAULT true,',
        '    "fl" DOUBLE PRECISION NOT NULL DEFAULT 1.5,',
        '    "neg" BIGINT NOT NULL DEFAULT -5,',
        '    "u" TEXT NOT NULL,',
        # Prisma never writes NOT NULL on a scalar list.
        """    "cols" "Color"[] DEFAULT ARRAY['RED', 'green']::"Color"[],""",
        """    "tags" TEXT[] DEFAULT ARRAY['a', 'b''c']::TEXT[],""",
        '    "none" INTEGER[] DEFAULT ARRAY[]::INTEGER[],',
        '    "flts" DOUBLE PRECISION[] DEFAULT ARRAY[1.5]::DOUBLE PRECISION[],',
    ]


def test_sqlite_literal_defaults(tmp_path: Path) -> None:
    body = """
    model D {
      id Int      @id
      js Json     @default("{}")
      by Bytes    @default("aGVsbG8=")
      bo Boolean  @default(false)
      dt DateTime @default("2020-01-01T00:00:00Z")
    }
    """
    (create,) = render_ddl(load(tmp_path, body, "sqlite"))
    assert create.splitlines()[1:-1] == [
        '    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,',
        # Prisma writes `DEFAULT {}` here, which SQLite rejects (prisma/prisma#26571).
        """    "js" JSONB NOT NULL DEFAULT '{}',""",
        """    "by" BLOB NOT NULL DEFAULT '68656c6c6f',""",
        '    "bo" BOOLEAN NOT NULL DEFAULT false,',
        """    "dt" DATETIME NOT NULL DEFAULT '2020-01-01 00:00:00 +00:00'""",
    ]


def test_postgres_index_methods_operator_classes_and_names(tmp_path: Path) -> None:
    body = """
    model E {
      id Int      @id
      a  String
      b  Int
      x  Json
      dt DateTime

      @@index([x(ops: JsonbPathOps)], type: Gin)
      @@index([a(sort: Asc), b(sort: Desc, ops: Int4MinMaxOps)], type: Brin)
      @@index([dt(ops: TimestampMinMaxMultiOps)], type: Brin, map: "by_time")
      @@index([a], type: Hash)
      @@unique([a(sort: Desc), b])
    }
    """
    assert render_ddl(load(tmp_path, body, "postgresql"))[1:] == [
        'CREATE INDEX "E_x_idx" ON "E" USING GIN ("x" jsonb_path_ops)',
        'CREATE INDEX "E_a_b_idx" ON "E" USING BRIN ("a" ASC, "b" int4_minmax_ops DESC)',
        'CREATE INDEX "by_time" ON "E" USING BRIN ("dt" timestamp_minmax_multi_ops)',
        'CREATE INDEX "E_a_idx" ON "E" USING HASH ("a")',
        'CREATE UNIQUE INDEX "E_a_b_key" ON "E"("a" DESC, "b")',
    ]


def test_views_are_not_created_ignored_models_are(tmp_path: Path) -> None:
    body = """
    generator client {
      provider        = "datatier"
      previewFeatures = ["views"]
    }

    model I {
      id Int    @id
      x  String

      @@ignore
    }

    view V {
      id Int @unique
    }
    """
    assert render_ddl(load(tmp_path, body, "sqlite")) == [
        'CREATE TABLE "I" (\n'
        '    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,\n'
        '    "x" TEXT NOT NULL\n'
        ")",
    ]


def test_relation_mode_prisma_creates_no_foreign_keys(tmp_path: Path) -> None:
    schema = load(tmp_path, BODY, "postgresql", extra='\n  relationMode = "prisma"')
    assert not [s for s in render_ddl(schema) if "FOREIGN KEY" in s]


def test_multi_schema_tables_live_in_their_schemas(tmp_path: Path) -> None:
    body = """
    generator client {
      provider        = "datatier"
      previewFeatures = ["multiSchema"]
    }

    enum Kind {
      A
      @@schema("auth")
    }

    model U {
      id    String @id @db.Uuid
      kind  Kind
      posts P[]
      @@schema("auth")
    }

    model P {
      id  Int    @id @default(autoincrement())
      uid String @db.Uuid
      u   U      @relation(fields: [uid], references: [id])
      @@schema("base")
    }
    """
    schema = load(tmp_path, body, "postgresql", extra='\n  schemas = ["base", "auth"]')
    assert render_ddl(schema) == [
        'CREATE SCHEMA IF NOT EXISTS "auth"',
        'CREATE SCHEMA IF NOT EXISTS "base"',
        """CREATE TYPE "auth"."Kind" AS ENUM ('A')""",
        'CREATE TABLE "auth"."U" (\n'
        '    "id" UUID NOT NULL,\n'
        '    "kind" "auth"."Kind" NOT NULL,\n'
        "\n"
        '    CONSTRAINT "U_pkey" PRIMARY KEY ("id")\n'
        ")",
        'CREATE TABLE "base"."P" (\n'
        '    "id" SERIAL NOT NULL,\n'
        '    "uid" UUID NOT NULL,\n'
        "\n"
        '    CONSTRAINT "P_pkey" PRIMARY KEY ("id")\n'
        ")",
        'ALTER TABLE "base"."P" ADD CONSTRAINT "P_uid_fkey" FOREIGN KEY ("uid") '
        'REFERENCES "auth"."U"("id") ON DELETE RESTRICT ON UPDATE CASCADE',
    ]


def test_metadata_has_real_sqlalchemy_types(tmp_path: Path) -> None:
    import sqlalchemy as sa

    metadata = to_metadata(load(tmp_path, BODY, "postgresql"), PostgresDialect())
    post = metadata.tables["Post"]
    assert isinstance(post.c.id.type, sa.BigInteger)
    assert isinstance(post.c.at.type, sa.DateTime)
    assert post.c.authorId.foreign_keys
    assert set(metadata.tables) == {"User", "Post", "Tag", "_TagToUser"}


def test_postgres_extensions_come_first_sorted_by_name(tmp_path: Path) -> None:
    body = """
    generator client {
      provider        = "datatier"
      previewFeatures = ["postgresqlExtensions"]
    }

    model A {
      id Int @id
    }
    """
    extra = '\n  extensions = [pgcrypto, citext(schema: "public"), uuidOssp(map: "uuid-ossp")]'
    assert render_ddl(load(tmp_path, body, "postgresql", extra=extra))[:3] == [
        'CREATE EXTENSION IF NOT EXISTS "citext" WITH SCHEMA "public"',
        'CREATE EXTENSION IF NOT EXISTS "pgcrypto"',
        'CREATE EXTENSION IF NOT EXISTS "uuid-ossp"',
    ]


@pytest.mark.parametrize(
    ("provider", "predicate"),
    [("postgresql", '("deletedAt" IS NULL)'), ("sqlite", '"deletedAt" IS NULL')],
)
def test_partial_index_predicate(tmp_path: Path, provider: str, predicate: str) -> None:
    body = """
    generator client {
      provider        = "datatier"
      previewFeatures = ["partialIndexes"]
    }

    model S {
      id        Int       @id
      email     String
      deletedAt DateTime?

      @@unique([email], where: raw("\\"deletedAt\\" IS NULL"))
    }
    """
    assert render_ddl(load(tmp_path, body, provider))[-1] == (
        f'CREATE UNIQUE INDEX "S_email_key" ON "S"("email") WHERE {predicate}'
    )


def test_sqlite_json_defaults_quoted_only_where_prisma_sql_would_fail(tmp_path: Path) -> None:
    body = """
    model W {
      id Int  @id
      a  Json @default("[1]")
      b  Json @default("42")
      c  Json @default("\\"hi\\"")
    }
    """
    (create,) = render_ddl(load(tmp_path, body, "sqlite"))
    assert create.splitlines()[2:5] == [
        """    "a" JSONB NOT NULL DEFAULT '[1]',""",
        '    "b" JSONB NOT NULL DEFAULT 42,',
        '    "c" JSONB NOT NULL DEFAULT "hi"',
    ]
