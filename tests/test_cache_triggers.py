"""Change triggers for writes made outside datatier (PostgreSQL): what they record, how the
CLI installs them, that catalog comparisons and ``db pull`` ignore them, and that a raw
write (as psql would make it) makes a cached read fresh."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest

from datatier import Client
from datatier.cache._triggers import plan_triggers, sync_triggers
from datatier.migrate._catalog import diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._introspect import pull_schema_text
from datatier.migrate._push import push
from datatier.query._changes import key_text
from datatier.schema import Schema, validate_schema_text

pytestmark = pytest.mark.postgres

SCHEMA_TEXT = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id    Int     @id @default(autoincrement())
  email String  @unique
  name  String?
  posts Post[]
}

model Post {
  id       String  @id @default(uuid()) @db.Uuid
  title    String
  authorId Int?
  author   User?   @relation(fields: [authorId], references: [id], onDelete: Cascade)
  tags     Tag[]
}

model Tag {
  id    Int    @id @default(autoincrement())
  name  String @unique
  posts Post[]
}

model Visit {
  day   DateTime @db.Date
  page  String
  count Int

  @@id([day, page])
}
"""


def _schema() -> Schema:
    return validate_schema_text(SCHEMA_TEXT)


def _events(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            'SELECT "model", "op", "key" FROM "_datatier_changes" ORDER BY "id"'
        ).fetchall()
    return [(str(m), str(o), str(k)) for m, o, k in rows]


def test_triggers_record_the_events_the_engine_records(pg_url: str) -> None:
    schema = _schema()
    push(schema, pg_url)
    lines = sync_triggers(pg_url, schema, requested=True)
    assert lines[0] == "Cache triggers: 4 table(s) record their changes for the cache"
    assert "Visit" in lines[1], "a DateTime key has no exact key text: reported, not guessed"

    async def writes() -> str:
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute(
                """INSERT INTO "User" (email, name) VALUES ('a@x', 'A');
                UPDATE "User" SET name = 'Quote "q" \\ é' WHERE email = 'a@x';
                UPDATE "User" SET id = 7 WHERE id = 1;
                INSERT INTO "Tag" (name) VALUES ('t');"""
            )
            post = await conn.fetchval(
                """INSERT INTO "Post" (id, title, "authorId")
                VALUES (gen_random_uuid(), 'p', 7) RETURNING id::text"""
            )
            await conn.execute('INSERT INTO "_PostToTag" ("A", "B") VALUES ($1::uuid, 1)', post)
            await conn.execute('DELETE FROM "_PostToTag"')
            # The cascade deletes the post: a real row delete, so its trigger records it too.
            await conn.execute('DELETE FROM "User" WHERE id = 7')
            await conn.execute(
                """INSERT INTO "Visit" (day, page, count) VALUES ('2026-01-01', '/', 1)"""
            )
            return str(post)
        finally:
            await conn.close()

    post = asyncio.run(writes())
    events = _events(pg_url)
    assert sorted(events[-2:]) == [
        ("Post", "delete", key_text([post])),
        ("User", "delete", key_text([7])),
    ]
    assert events[:-2] == [
        ("User", "create", key_text([1])),
        ("User", "update", key_text([1])),
        ("User", "update", key_text([7])),
        ("User", "update", key_text([1])),
        ("Tag", "create", key_text([1])),
        ("Post", "create", key_text([post])),
        ("Post", "link", key_text([post])),
        ("Tag", "link", key_text([1])),
        ("Post", "link", key_text([post])),
        ("Tag", "link", key_text([1])),
    ]


def test_string_keys_match_key_text_exactly(pg_url: str) -> None:
    text = "model Item {\n  code String @id\n  n Int\n}\n"
    schema = validate_schema_text(SCHEMA_TEXT.split("model User")[0] + text)
    push(schema, pg_url)
    sync_triggers(pg_url, schema, requested=True)
    codes = ['a"b', "back\\slash", "tab\there", "ünï", "new\nline", "\x01"]
    with psycopg.connect(pg_url) as conn:
        for code in codes:
            conn.execute('INSERT INTO "Item" (code, n) VALUES (%s, 1)', [code])
    assert [k for _, _, k in _events(pg_url)] == [key_text([code]) for code in codes]


def test_catalog_and_db_pull_ignore_the_triggers(pg_url: str) -> None:
    schema = _schema()
    push(schema, pg_url)
    with psycopg.connect(pg_url) as conn:
        before = read_postgres_catalog(conn)
    pulled = pull_schema_text(pg_url)
    sync_triggers(pg_url, schema, requested=True)
    with psycopg.connect(pg_url) as conn:
        assert diff_catalogs(before, read_postgres_catalog(conn)) == []
        functions = conn.execute(
            "SELECT count(*) FROM pg_proc WHERE proname LIKE '\\_datatier\\_change\\_%'"
        ).fetchone()
    assert functions == (4,)
    assert pull_schema_text(pg_url) == pulled


def test_cli_installs_with_the_flag_and_reinstalls_after_a_change(
    pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "schema.prisma").write_text(SCHEMA_TEXT)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "datatier.cli", *args, "--url", pg_url],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = cli("db", "push", "--cache-triggers")
    assert first.returncode == 0, first.stderr
    assert "Cache triggers: 4 table(s)" in first.stdout

    def function_ids() -> list[int]:
        with psycopg.connect(pg_url) as conn:
            rows = conn.execute(
                "SELECT oid::int FROM pg_proc WHERE proname LIKE '\\_datatier\\_change\\_%'"
            ).fetchall()
        return sorted(int(r[0]) for r in rows)

    installed = function_ids()
    # A push without the flag keeps installed triggers in step with the new schema.
    (tmp_path / "schema.prisma").write_text(SCHEMA_TEXT.replace("  name  String?\n", ""))
    second = cli("db", "push", "--accept-data-loss")
    assert second.returncode == 0, second.stderr
    assert "Cache triggers: 4 table(s)" in second.stdout
    again = function_ids()
    assert len(again) == 4 and not set(again) & set(installed), "dropped and created anew"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("""INSERT INTO "User" (email) VALUES ('b@x')""")
    assert _events(pg_url)[-1] == ("User", "create", key_text([1]))


def test_migrate_dev_and_deploy_install_with_the_flag(
    pg_url: str, postgres_server: Any, tmp_path: Path
) -> None:
    from tests.harness.databases import fresh_postgres_database

    (tmp_path / "schema.prisma").write_text(SCHEMA_TEXT)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}

    def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "datatier.cli", *args, "--url", url],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )

    dev = cli(pg_url, "migrate", "dev", "--name", "init", "--skip-seed", "--cache-triggers")
    assert dev.returncode == 0, dev.stderr
    assert "Cache triggers: 4 table(s)" in dev.stdout
    with fresh_postgres_database(postgres_server.require()) as other:
        plain = cli(other, "migrate", "deploy")
        assert plain.returncode == 0, plain.stderr
        assert "Cache triggers" not in plain.stdout  # not asked for, none installed
        deployed = cli(other, "migrate", "deploy", "--cache-triggers")
        assert deployed.returncode == 0, deployed.stderr
        assert "Cache triggers: 4 table(s)" in deployed.stdout
        with psycopg.connect(other, autocommit=True) as conn:
            conn.execute("""INSERT INTO "Tag" (name) VALUES ('t')""")
        assert _events(other) == [("Tag", "create", key_text([1]))]


def test_tables_not_created_yet_are_named_not_failed(pg_url: str) -> None:
    lines = sync_triggers(pg_url, _schema(), requested=True)
    assert lines[0] == "Cache triggers: 0 table(s) record their changes for the cache"
    assert "missing table(s) User, Post, Tag, _PostToTag" in lines[1]


def test_plan_names_everything_with_the_prefix() -> None:
    plan = plan_triggers(_schema(), "public")
    created = [s for s in plan.statements if s.startswith(("CREATE TRIGGER", "CREATE OR REPLACE"))]
    assert created and all('"_datatier_change_' in s.split("(")[0] for s in created)
    assert plan.skipped == ("Visit",)


async def test_a_raw_write_makes_a_cached_read_fresh(pg_url: str) -> None:
    schema = _schema()
    push(schema, pg_url)
    sync_triggers(pg_url, schema, requested=True)
    db = Client(schema, pg_url, cache={"poll_interval": 0.05})
    try:
        user: Any = await db.user.create(data={"email": "c@x", "name": "before"})
        assert db.cache is not None and db.cache.bus is not None
        assert db.cache.bus.external_triggers and not db.engine.record_changes
        where = {"id": user["id"]}
        for _ in range(2):  # the second read is a memory hit
            found: Any = await db.user.find_unique(where=where)
            assert found["name"] == "before"
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute("""UPDATE "User" SET name = 'after' WHERE email = 'c@x'""")
        finally:
            await conn.close()
        for _ in range(100):
            found = await db.user.find_unique(where=where)
            if found["name"] == "after":
                break
            await asyncio.sleep(0.02)
        assert found["name"] == "after"
        # datatier's own write is recorded once (by the trigger), not twice.
        events = _events(pg_url)
        assert events.count(("User", "create", key_text([user["id"]]))) == 1
    finally:
        await db.close()


def test_the_documented_example_runs(pg_url: str, redis_url: str, tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "cache-events.md").read_text()
    block = doc.split("<!-- example: start -->")[1].split("<!-- example: end -->")[0]
    code = block.split("```python\n")[1].split("```")[0]
    script = tmp_path / "cache_events.py"
    # A namespace of this run's own: pub/sub channels are shared by all Redis databases.
    script.write_text(code.replace('"events-example"', f'"ev{os.getpid()}{id(tmp_path)}"'))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, str(script), pg_url, redis_url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "b reads 0",
        "b reads 1",
        "a reads 10",
        "b reads 10",
        "b applied seq 3 lag p99 < 1 s: True",
    ]
