"""Migration history with hand-written folders: deploy, status, rollback, resolve, reset, seed, data.py.

Every test runs on SQLite and PostgreSQL through the CLI (typer's runner, stdin not a
terminal) and checks the database and ``_prisma_migrations`` directly.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from datatier.cli import app
from datatier.errors import DatatierError
from datatier.migrate._commands import analyse, open_project, status
from datatier.migrate._folders import (
    check_lock,
    matches_checksum,
    read_migrations,
    render_lock,
    write_migration,
)
from datatier.migrate._history import split_sqlite_script
from tests.harness.backends import CAPABILITIES, Backend

SCHEMA = """datasource db {
  provider = "sqlite"
}

model User {
  id    Int     @id
  name  String?
  email String?
}
"""

INIT = (
    "20240101000000_init",
    '-- CreateTable\nCREATE TABLE "User" ("id" INTEGER NOT NULL, "name" TEXT, '
    'CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n',
    'DROP TABLE "User";\n',
)
EMAIL = (
    "20240102000000_email",
    'ALTER TABLE "User" ADD COLUMN "email" TEXT;\n',
    'ALTER TABLE "User" DROP COLUMN "email";\n',
)
PRISMA_COLUMNS = [
    "id",
    "checksum",
    "finished_at",
    "migration_name",
    "logs",
    "rolled_back_at",
    "started_at",
    "applied_steps_count",
]


def write_project(root: Path, *migrations: tuple[str, str, str | None]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "schema.prisma").write_text(SCHEMA)
    for name, up, down in migrations:
        add_migration(root, name, up, down)
    return root


def add_migration(root: Path, name: str, up: str, down: str | None = None) -> Path:
    folder = root / "migrations" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "migration.sql").write_text(up)
    if down is not None:
        (folder / "down.sql").write_text(down)
    return folder


def run(root: Path, backend: Backend, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        app, [*args, "--schema", str(root / "schema.prisma"), "--url", backend.url]
    )
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    return output


def query(backend: Backend, sql: str) -> list[tuple[Any, ...]]:
    with backend.connect() as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def history(backend: Backend) -> list[tuple[Any, ...]]:
    return query(
        backend,
        "SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, "
        "applied_steps_count, logs FROM _prisma_migrations ORDER BY started_at",
    )


def columns(backend: Backend, table: str) -> list[str]:
    if backend.provider == "sqlite":
        return [r[1] for r in query(backend, f'PRAGMA table_info("{table}")')]
    return [
        r[0]
        for r in query(
            backend,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
            f"AND table_name = '{table}' ORDER BY ordinal_position",
        )
    ]


def tables(backend: Backend) -> set[str]:
    if backend.provider == "sqlite":
        rows = query(backend, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = query(backend, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows} - {"sqlite_sequence"}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SHADOW_DATABASE_URL", raising=False)


def test_deploy_records_prisma_history_and_status_follows(
    sql_backend: Backend, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p", INIT, EMAIL)
    out = run(root, sql_backend, "migrate", "status", code=2)
    assert "pending: 20240101000000_init" in out and "pending: 20240102000000_email" in out

    out = run(root, sql_backend, "migrate", "deploy")
    assert "applied 2 migrations" in out
    assert columns(sql_backend, "_prisma_migrations") == PRISMA_COLUMNS
    assert columns(sql_backend, "User") == ["id", "name", "email"]
    rows = history(sql_backend)
    assert [r[0] for r in rows] == [INIT[0], EMAIL[0]]
    for row, (_, up, _) in zip(rows, (INIT, EMAIL), strict=True):
        assert row[1] == hashlib.sha256(up.encode()).hexdigest()
        assert row[2:5] == (True, False, 1)
        assert row[5].startswith("applied by ")

    assert "no pending migrations (2 applied)" in run(root, sql_backend, "migrate", "deploy")
    assert len(history(sql_backend)) == 2
    assert "up to date" in run(root, sql_backend, "migrate", "status", code=0)


def test_an_edited_migration_is_reported_and_never_rerun(
    sql_backend: Backend, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p", INIT, EMAIL)
    run(root, sql_backend, "migrate", "deploy")
    (root / "migrations" / EMAIL[0] / "migration.sql").write_text(
        'ALTER TABLE "User" ADD COLUMN "email" TEXT;\nALTER TABLE "User" ADD COLUMN "x" TEXT;\n'
    )
    add_migration(root, "20240103000000_more", 'ALTER TABLE "User" ADD COLUMN "y" TEXT;\n')
    out = run(root, sql_backend, "migrate", "status", code=4)
    assert f"modified after it was applied: {EMAIL[0]}" in out
    out = run(root, sql_backend, "migrate", "deploy", code=1)
    assert "was edited after it was applied" in out and "Restore the original" in out
    assert columns(sql_backend, "User") == ["id", "name", "email"]
    assert len(history(sql_backend)) == 2


def test_line_endings_alone_do_not_count_as_an_edit() -> None:
    script = b"CREATE TABLE a (id int);\nSELECT 1;\n"
    recorded = hashlib.sha256(script).hexdigest()
    assert matches_checksum(script.replace(b"\n", b"\r\n"), recorded)
    assert not matches_checksum(script + b"-- more\n", recorded)


def test_a_failed_migration_leaves_nothing_and_blocks_until_resolved(
    sql_backend: Backend, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p", INIT)
    bad = add_migration(
        root,
        "20240102000000_bad",
        'CREATE TABLE "Half" ("id" INTEGER NOT NULL);\nINSERT INTO "Missing" VALUES (1);\n',
    )
    out = run(root, sql_backend, "migrate", "deploy", code=1)
    assert "migration 20240102000000_bad failed" in out
    assert "nothing of it was applied" in out
    assert "migrate resolve --rolled-back 20240102000000_bad" in out
    assert tables(sql_backend) == {"User", "_prisma_migrations"}
    rows = history(sql_backend)
    assert rows[-1][:5] == ("20240102000000_bad", rows[-1][1], False, False, 0)
    assert "failed:" in rows[-1][5] and "Missing" in rows[-1][5]

    out = run(root, sql_backend, "migrate", "status", code=3)
    assert "failed: 20240102000000_bad" in out and "error: " in out and "Missing" in out
    add_migration(root, "20240103000000_next", 'ALTER TABLE "User" ADD COLUMN "email" TEXT;\n')
    assert "failed earlier" in run(root, sql_backend, "migrate", "deploy", code=1)
    assert columns(sql_backend, "User") == ["id", "name"]

    (bad / "migration.sql").write_text('CREATE TABLE "Half" ("id" INTEGER NOT NULL);\n')
    run(root, sql_backend, "migrate", "resolve", "--rolled-back", "20240102000000_bad")
    out = run(root, sql_backend, "migrate", "deploy")
    assert "20240102000000_bad" in out and "20240103000000_next" in out
    assert tables(sql_backend) == {"User", "Half", "_prisma_migrations"}
    assert "up to date" in run(root, sql_backend, "migrate", "status")


def test_resolve_applied_records_a_migration_run_by_hand(
    sql_backend: Backend, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p", INIT)
    with sql_backend.connect() as conn:
        conn.execute(INIT[1].split("\n", 1)[1])
    run(root, sql_backend, "migrate", "resolve", "--applied", INIT[0])
    assert history(sql_backend)[0][:5] == (INIT[0], history(sql_backend)[0][1], True, False, 0)
    assert "up to date" in run(root, sql_backend, "migrate", "status")
    out = run(root, sql_backend, "migrate", "resolve", "--rolled-back", INIT[0], code=1)
    assert "is not recorded as failed" in out
    assert "exactly one of" in run(root, sql_backend, "migrate", "resolve", code=1)


def test_rollback_runs_down_sql_guards_data_and_keeps_prisma_view(
    sql_backend: Backend, tmp_path: Path
) -> None:
    third = (
        "20240103000000_posts",
        'CREATE TABLE "Post" ("id" INTEGER NOT NULL);\n',
        'DROP TABLE "Post";\n',
    )
    root = write_project(tmp_path / "p", INIT, EMAIL, third)
    run(root, sql_backend, "migrate", "deploy")
    with sql_backend.connect() as conn:
        conn.execute("""INSERT INTO "User" ("id", "name", "email") VALUES (1, 'ann', 'a@x')""")
        conn.execute("""INSERT INTO "User" ("id", "name") VALUES (2, 'bob')""")

    out = run(root, sql_backend, "migrate", "rollback", "--steps", "2", code=1)
    assert 'drops column "email" of "User", which holds 1 value' in out
    assert "--accept-data-loss" in out
    assert tables(sql_backend) == {"User", "Post", "_prisma_migrations"}

    run(root, sql_backend, "migrate", "rollback")  # the empty Post table: no data lost
    assert "Post" not in tables(sql_backend)
    out = run(root, sql_backend, "migrate", "rollback", "--accept-data-loss")
    assert EMAIL[0] in out
    assert columns(sql_backend, "User") == ["id", "name"]
    assert sorted(query(sql_backend, 'SELECT "id", "name" FROM "User"')) == [(1, "ann"), (2, "bob")]

    rows = history(sql_backend)
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (INIT[0], True, False),
        (EMAIL[0], True, True),
        (third[0], True, True),
    ]
    assert "rolled back by" in rows[1][5]
    out = run(root, sql_backend, "migrate", "status", code=2)
    assert f"pending: {EMAIL[0]}" in out and f"pending: {third[0]}" in out
    run(root, sql_backend, "migrate", "deploy")
    assert columns(sql_backend, "User") == ["id", "name", "email"]
    assert len(history(sql_backend)) == 5

    run(root, sql_backend, "migrate", "rollback", "--to", INIT[0])
    assert tables(sql_backend) == {"User", "_prisma_migrations"}
    assert "no such applied migration" in run(
        root, sql_backend, "migrate", "rollback", "--to", "nope", code=1
    )
    assert "not both" in run(
        root, sql_backend, "migrate", "rollback", "--to", INIT[0], "--steps", "1", code=1
    )


def test_rollback_without_down_sql_names_the_file(sql_backend: Backend, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT, (EMAIL[0], EMAIL[1], None))
    run(root, sql_backend, "migrate", "deploy")
    out = run(root, sql_backend, "migrate", "rollback", code=1)
    assert f"{EMAIL[0]} has no down.sql" in out and "Nothing was rolled back" in out
    assert columns(sql_backend, "User") == ["id", "name", "email"]


def test_drift_after_a_manual_alter_table(sql_backend: Backend, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT, EMAIL)
    run(root, sql_backend, "migrate", "deploy")
    with sql_backend.connect() as conn:
        conn.execute('ALTER TABLE "User" ADD COLUMN "nickname" TEXT')
    out = run(root, sql_backend, "migrate", "status", code=5)
    assert "drift" in out and "nickname" in out
    assert "up to date" in run(root, sql_backend, "migrate", "status", "--no-drift")


def test_reset_drops_everything_reapplies_and_seeds(sql_backend: Backend, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT, EMAIL)
    (tmp_path / "datatier.toml").write_text('seed = "p/seed.py"\n')
    (root / "seed.py").write_text(
        "from pathlib import Path\n"
        "from datatier import SyncClient\n"
        "with SyncClient(Path(__file__).parent / 'schema.prisma') as db:\n"
        "    db.user.create(data={'id': 7, 'name': 'seeded'})\n"
    )
    run(root, sql_backend, "migrate", "deploy")
    with sql_backend.connect() as conn:
        conn.execute('CREATE TABLE "Stray" ("id" INTEGER)')
        conn.execute("""INSERT INTO "User" ("id", "name") VALUES (1, 'old')""")

    out = run(root, sql_backend, "migrate", "reset", code=1)
    assert "pass --force" in out
    assert "Stray" in tables(sql_backend)

    out = run(root, sql_backend, "migrate", "reset", "--force")
    assert "applied 2 migrations" in out and "ran the seed script" in out
    assert tables(sql_backend) == {"User", "_prisma_migrations"}
    assert query(sql_backend, 'SELECT "id", "name" FROM "User"') == [(7, "seeded")]
    assert len(history(sql_backend)) == 2


def test_db_seed_runs_the_configured_script(sql_backend: Backend, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT, EMAIL)
    assert "no seed script configured" in run(root, sql_backend, "db", "seed", code=1)
    (tmp_path / "datatier.toml").write_text('seed = "p/seed.py"\n')
    assert "does not exist" in run(root, sql_backend, "db", "seed", code=1)
    (root / "seed.py").write_text("import sys\nsys.exit(3)\n")
    assert "failed with exit code 3" in run(root, sql_backend, "db", "seed", code=1)
    run(root, sql_backend, "migrate", "deploy")
    (root / "seed.py").write_text(
        "import os\n"
        "from pathlib import Path\n"
        "from datatier import SyncClient\n"
        "assert os.environ['DATABASE_URL']\n"
        "with SyncClient(Path(__file__).parent / 'schema.prisma') as db:\n"
        "    db.user.create(data={'id': 1, 'name': 'seed'})\n"
    )
    run(root, sql_backend, "db", "seed")
    assert query(sql_backend, 'SELECT "name" FROM "User"') == [("seed",)]


DATA_UP = """
def up(db):
    for user in db.user.find_many(where={"email": None}):
        db.user.update(where={"id": user["id"]}, data={"email": user["name"] + "@example.com"})


def down(db):
    db.user.update_many(where={}, data={"name": "restored"})
"""


def test_data_migration_shares_the_transaction_of_its_sql(
    sql_backend: Backend, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p", INIT)
    run(root, sql_backend, "migrate", "deploy")
    with sql_backend.connect() as conn:
        conn.execute("""INSERT INTO "User" ("id", "name") VALUES (1, 'ann'), (2, 'bob')""")
    folder = add_migration(root, EMAIL[0], EMAIL[1], EMAIL[2])
    (folder / "data.py").write_text(DATA_UP.replace("@example.com", '@example.com"[:0] + 1 + "'))

    out = run(root, sql_backend, "migrate", "deploy", code=1)
    assert "data.py up() raised TypeError" in out
    assert columns(sql_backend, "User") == ["id", "name"], "the SQL rolled back with the data step"

    (folder / "data.py").write_text(DATA_UP)
    run(root, sql_backend, "migrate", "resolve", "--rolled-back", EMAIL[0])
    run(root, sql_backend, "migrate", "deploy")
    assert sorted(query(sql_backend, 'SELECT "id", "email" FROM "User"')) == [
        (1, "ann@example.com"),
        (2, "bob@example.com"),
    ]
    run(root, sql_backend, "migrate", "rollback", "--accept-data-loss")
    assert columns(sql_backend, "User") == ["id", "name"]
    assert query(sql_backend, 'SELECT DISTINCT "name" FROM "User"') == [("restored",)]


def test_migration_folders_and_lock_file(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    first = write_migration(
        tmp_path, "add users!", "CREATE TABLE a (id int);\n", "DROP TABLE a;\n", now=now
    )
    second = write_migration(tmp_path, "again", "SELECT 1;\n", "SELECT 2;\n", now=now)
    assert first.name == "20240506070809_add_users"
    assert second.name == "20240506070810_again"
    assert [f.name for f in read_migrations(tmp_path)] == [first.name, second.name]
    assert (
        read_migrations(tmp_path)[0].checksum
        == hashlib.sha256(b"CREATE TABLE a (id int);\n").hexdigest()
    )
    assert render_lock("postgresql") == (
        "# Please do not edit this file manually\n"
        "# It should be added in your version-control system (e.g., Git)\n"
        'provider = "postgresql"\n'
    )
    (tmp_path / "migration_lock.toml").write_text(render_lock("postgresql"))
    check_lock(tmp_path, "postgres")
    with pytest.raises(DatatierError, match="written for postgresql"):
        check_lock(tmp_path, "sqlite")
    with pytest.raises(DatatierError, match="no letters or digits"):
        write_migration(tmp_path, "!!!", "", "")
    (tmp_path / "20990101000000_broken").mkdir()
    with pytest.raises(DatatierError, match=r"must hold migration\.sql"):
        read_migrations(tmp_path)


def test_transaction_control_is_told_from_function_bodies() -> None:
    from datatier.migrate._history import has_transaction_control, needs_foreign_keys_off

    body = "CREATE FUNCTION f() RETURNS trigger AS $fn$\nBEGIN\n  RETURN NEW;\nEND;\n$fn$ LANGUAGE plpgsql;\n"
    assert not has_transaction_control(body)
    assert not has_transaction_control("-- BEGIN;\nSELECT 1;\n")
    assert has_transaction_control("BEGIN;\nCREATE TYPE \"R\" AS ENUM ('A');\nCOMMIT;\n")
    assert needs_foreign_keys_off("PRAGMA foreign_keys=OFF;\nSELECT 1;\n")
    assert not needs_foreign_keys_off("-- PRAGMA foreign_keys=OFF;\nSELECT 1;\n")


def test_sqlite_statements_split_whole() -> None:
    script = (
        "-- head\nCREATE TABLE a (t TEXT DEFAULT ';');\n"
        "CREATE TRIGGER tr AFTER INSERT ON a BEGIN UPDATE a SET t = 'x;'; END;\n-- tail\n"
    )
    assert split_sqlite_script(script) == [
        "-- head\nCREATE TABLE a (t TEXT DEFAULT ';');",
        "CREATE TRIGGER tr AFTER INSERT ON a BEGIN UPDATE a SET t = 'x;'; END;",
    ]


def test_status_function_and_history_analysis(sql_backend: Backend, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT, EMAIL)
    project = open_project(tmp_path, {}, schema="p/schema.prisma", url=sql_backend.url)
    report = status(project)
    assert report.pending == (INIT[0], EMAIL[0]) and report.exit_code == 2
    run(root, sql_backend, "migrate", "deploy")
    shutil_folder = root / "migrations" / INIT[0]
    for file in shutil_folder.iterdir():
        file.unlink()
    shutil_folder.rmdir()
    report = status(project)
    assert report.missing == (INIT[0],) and report.exit_code == 4
    assert analyse([], []).pending == ()


def test_postgres_script_with_its_own_transaction(pg_url: str, tmp_path: Path) -> None:
    backend = Backend("postgresql", pg_url, CAPABILITIES["postgresql"])
    root = write_project(tmp_path / "p", INIT)
    add_migration(
        root,
        "20240102000000_enum",
        "BEGIN;\nCREATE TYPE \"Role\" AS ENUM ('A', 'B');\nCOMMIT;\n"
        '-- AlterTable\nALTER TABLE "User" ADD COLUMN "role" "Role";\n',
    )
    run(root, backend, "migrate", "deploy")
    assert columns(backend, "User") == ["id", "name", "role"]
    assert [r[2] for r in history(backend)] == [True, True]
    add_migration(
        root,
        "20240103000000_bad",
        "BEGIN;\nALTER TYPE \"Role\" ADD VALUE 'C';\nSELECT 1/0;\nCOMMIT;\n",
    )
    assert "division by zero" in run(root, backend, "migrate", "deploy", code=1)
    assert query(backend, 'SELECT unnest(enum_range(NULL::"Role"))::text') == [("A",), ("B",)]


def test_sqlite_copy_table_script_keeps_cascading_children(sqlite_url: str, tmp_path: Path) -> None:
    backend = Backend("sqlite", sqlite_url, CAPABILITIES["sqlite"])
    root = write_project(
        tmp_path / "p",
        INIT,
        (
            "20240102000000_posts",
            'CREATE TABLE "Post" ("id" INTEGER NOT NULL PRIMARY KEY, "userId" INTEGER NOT NULL, '
            'CONSTRAINT "Post_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") '
            "ON DELETE CASCADE ON UPDATE CASCADE);\n",
            'DROP TABLE "Post";\n',
        ),
    )
    run(root, backend, "migrate", "deploy")
    with backend.connect() as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("""INSERT INTO "User" VALUES (1, 'ann')""")
        conn.execute('INSERT INTO "Post" VALUES (10, 1), (11, 1)')
    rebuild = (
        "-- RedefineTables\nPRAGMA defer_foreign_keys=ON;\nPRAGMA foreign_keys=OFF;\n"
        'CREATE TABLE "new_User" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL DEFAULT \'\');\n'
        'INSERT INTO "new_User" ("id", "name") SELECT "id", coalesce("name", \'\') FROM "User";\n'
        'DROP TABLE "User";\nALTER TABLE "new_User" RENAME TO "User";\n'
        "PRAGMA foreign_keys=ON;\nPRAGMA defer_foreign_keys=OFF;\n"
    )
    add_migration(root, "20240103000000_rebuild", rebuild)
    run(root, backend, "migrate", "deploy")
    assert query(backend, 'SELECT "id", "userId" FROM "Post" ORDER BY "id"') == [(10, 1), (11, 1)]
    assert [r[2] for r in history(backend)] == [True, True, True]


def test_concurrent_deploys_apply_each_migration_once(pg_url: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT)
    add_migration(
        root,
        "20240102000000_slow",
        'SELECT pg_sleep(1.5);\nCREATE TABLE "Slow" ("id" INTEGER);\n'
        'INSERT INTO "Slow" VALUES (1);\n',
    )
    command = [
        sys.executable,
        "-m",
        "datatier.cli",
        "migrate",
        "deploy",
        "--schema",
        str(root / "schema.prisma"),
        "--url",
        pg_url,
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    # Start the second run only once the first holds the lock, so the two overlap.
    deadline = time.monotonic() + 30
    with psycopg.connect(pg_url, autocommit=True) as conn:
        while not conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 72707369 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline and first.poll() is None, first.communicate()[0]
            time.sleep(0.02)
    second = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out_first, _ = first.communicate(timeout=60)
    out_second, _ = second.communicate(timeout=60)
    assert first.returncode == 0, out_first
    assert second.returncode == 0, out_second
    assert "applied 2 migrations" in out_first
    assert "no pending migrations (2 applied)" in out_second
    backend = Backend("postgresql", pg_url, CAPABILITIES["postgresql"])
    assert query(backend, 'SELECT count(*) FROM "Slow"') == [(1,)]
    assert [r[0] for r in history(backend)] == [INIT[0], "20240102000000_slow"]


def test_concurrent_sqlite_deploys_take_turns(sqlite_url: str, tmp_path: Path) -> None:
    import fcntl

    root = write_project(tmp_path / "p", INIT)
    add_migration(
        root,
        "20240102000000_slow",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
        'SELECT count(*) FROM c;\nCREATE TABLE "Slow" ("id" INTEGER);\nINSERT INTO "Slow" VALUES (1);\n',
    )
    command = [
        *(sys.executable, "-m", "datatier.cli", "migrate", "deploy"),
        *("--schema", str(root / "schema.prisma"), "--url", sqlite_url),
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    env.pop("DATABASE_URL", None)
    database = Path(sqlite_url.removeprefix("file:"))
    sqlite3.connect(database).close()
    first = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 30
    with database.open("rb") as handle:
        while True:  # until the first run holds the lock, so the two overlap
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                break
            fcntl.flock(handle, fcntl.LOCK_UN)
            assert time.monotonic() < deadline and first.poll() is None, first.communicate()[0]
            time.sleep(0.01)
    second = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out_first, _ = first.communicate(timeout=60)
    out_second, _ = second.communicate(timeout=60)
    assert first.returncode == 0 and "applied 2 migrations" in out_first, out_first
    assert second.returncode == 0 and "no pending migrations (2 applied)" in out_second, out_second
    backend = Backend("sqlite", sqlite_url, CAPABILITIES["sqlite"])
    assert query(backend, 'SELECT count(*) FROM "Slow"') == [(1,)]
    assert [r[0] for r in history(backend)] == [INIT[0], "20240102000000_slow"]


def test_missing_createdb_permission_names_the_fix(pg_url: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", INIT)
    backend = Backend("postgresql", pg_url, CAPABILITIES["postgresql"])
    run(root, backend, "migrate", "deploy")
    role = f"nocreatedb_{os.getpid()}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        limited = Backend(
            "postgresql", pg_url.replace("postgres@", f"{role}@", 1), CAPABILITIES["postgresql"]
        )
        out = run(root, limited, "migrate", "status", code=1)
        assert "may not create databases" in out
        assert f"ALTER ROLE {role} CREATEDB" in out and "SHADOW_DATABASE_URL" in out
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            conn.execute(f"DROP ROLE {role}")


def test_db_push_updates_through_the_cli_with_the_data_loss_guard(
    sql_backend: Backend, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "p")
    assert "created 1 table" in run(root, sql_backend, "db", "push")
    with sql_backend.connect() as conn:
        conn.execute("""INSERT INTO "User" ("id", "name", "email") VALUES (1, 'ann', 'a@x')""")
    (root / "schema.prisma").write_text(SCHEMA.replace("  email String?\n", "  age   Int?\n"))
    out = run(root, sql_backend, "db", "push", code=1)
    assert "would lose data" in out and "email" in out and "--accept-data-loss" in out
    assert columns(sql_backend, "User") == ["id", "name", "email"]
    out = run(root, sql_backend, "db", "push", "--accept-data-loss")
    assert "updated to match the schema" in out
    assert columns(sql_backend, "User") == ["id", "name", "age"]
    assert query(sql_backend, 'SELECT "id", "name" FROM "User"') == [(1, "ann")]
    assert "already in sync" in run(root, sql_backend, "db", "push")


def test_a_postgres_schema_parameter_is_honoured_in_the_shadow_too(
    pg_url: str, tmp_path: Path
) -> None:
    backend = Backend("postgresql", f"{pg_url}?schema=app", CAPABILITIES["postgresql"])
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
    root = write_project(tmp_path / "p", INIT, EMAIL)
    run(root, backend, "migrate", "deploy")
    assert "up to date" in run(root, backend, "migrate", "status")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_name IN ('User', '_prisma_migrations') ORDER BY 2"
        ).fetchall()
        assert rows == [("app", "User"), ("app", "_prisma_migrations")]
        conn.execute('ALTER TABLE app."User" DROP COLUMN "email"')
    assert 'column "email" missing' in run(root, backend, "migrate", "status", code=5)


PRISMA_HISTORY_DDL = {
    "postgresql": """CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)""",
    "sqlite": """CREATE TABLE "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "checksum" TEXT NOT NULL,
    "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL,
    "logs" TEXT,
    "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)""",
}


def test_a_history_prisma_wrote_is_continued(sql_backend: Backend, tmp_path: Path) -> None:
    """Rows as Prisma Migrate leaves them (its table, its checksum, its timestamps) read as applied."""
    root = write_project(tmp_path / "p", INIT, EMAIL)
    finished = "1714550400000" if sql_backend.provider == "sqlite" else "'2024-05-01 08:00:00+00'"
    with sql_backend.connect() as conn:
        conn.execute(PRISMA_HISTORY_DDL[sql_backend.provider])
        conn.execute(INIT[1])
        conn.execute(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, "
            f"started_at, applied_steps_count) VALUES ('0b6c7a56-3f0e-4c55-9a53-7d1b0a1d9f10', "
            f"'{hashlib.sha256(INIT[1].encode()).hexdigest()}', {finished}, '{INIT[0]}', "
            f"{finished}, 1)"
        )
    out = run(root, sql_backend, "migrate", "status", code=2)
    assert "1 migration applied" in out and f"pending: {EMAIL[0]}" in out
    assert "applied 1 migration" in run(root, sql_backend, "migrate", "deploy")
    assert "up to date" in run(root, sql_backend, "migrate", "status")
    assert [r[0] for r in history(sql_backend)] == [INIT[0], EMAIL[0]]


def test_rollback_asks_on_a_terminal_before_losing_data(sqlite_url: str, tmp_path: Path) -> None:
    from datatier.migrate import MigrationError, open_project, rollback

    backend = Backend("sqlite", sqlite_url, CAPABILITIES["sqlite"])
    root = write_project(tmp_path / "p", INIT, EMAIL)
    run(root, backend, "migrate", "deploy")
    with backend.connect() as conn:
        conn.execute("""INSERT INTO "User" ("id", "email") VALUES (1, 'a@x')""")
    project = open_project(tmp_path, {}, schema="p/schema.prisma", url=sqlite_url)
    questions: list[str] = []

    def no(question: str) -> bool:
        questions.append(question)
        return False

    with pytest.raises(MigrationError, match="Nothing was rolled back"):
        rollback(project, confirm=no)
    assert 'drops column "email"' in questions[0] and questions[0].endswith("Roll back anyway?")
    assert rollback(project, confirm=lambda q: True).rolled_back == (EMAIL[0],)
    assert columns(backend, "User") == ["id", "name"]
