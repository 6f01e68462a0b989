"""End to end through the installed ``datatier`` command, as a user runs it: in a fresh folder, with no input."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

import datatier.demo

TESTS = Path(__file__).parent
GOLDEN_FORMAT = TESTS / "conformance" / "golden" / "format"
FORMAT_INPUTS = TESTS / "conformance" / "schemas" / "format"
BLOG = (Path(datatier.demo.__file__).parent / "schema.prisma").read_text()
SQLITE_BLOG = BLOG.replace('provider = "postgresql"', 'provider = "sqlite"')
BLOG_TABLES = [
    "Category",
    "Comment",
    "Post",
    "Tag",
    "_PostToTag",
    "user_profiles",
    "user_sessions",
    "users",
]

INVALID = (
    "datasource db {\n"
    '  provider = "sqlite"\n'
    '  url      = "file:./never.db"\n'
    "}\n"
    "\n"
    "model Post {\n"
    "  id Int @id\n"
    "}\n"
    "\n"
    "model User {\n"
    "  id    Int @id @uniqe\n"
    "  posts Pst[]\n"
    "}\n"
)


def _executable() -> str:
    beside = Path(sys.executable).parent / "datatier"
    if beside.exists():
        return str(beside)
    found = shutil.which("datatier")
    if found is None:
        pytest.fail("the `datatier` console script is not installed (pip install -e .)")
    return found


DATATIER = _executable()


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``datatier *args`` in ``cwd``, never waiting for input, with no DATABASE_URL unless given."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATATIER_SCHEMA")
    }
    environment.update(env or {})
    return subprocess.run(
        [DATATIER, *args],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sqlite_tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return sorted(name for (name,) in rows)


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stdout


# -- validate ------------------------------------------------------------------------------


def test_validate_valid_schema(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)
    result = run(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "schema.prisma is valid: 7 models, 2 enums, 9 relations"
    )
    assert result.stderr == ""


def test_validate_invalid_schema(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(INVALID)
    result = run(tmp_path, "validate")
    assert_clean_failure(result)
    assert result.stdout == ""
    path = "schema.prisma"  # shown relative to the working directory
    assert f"{path}:11:18: error: unknown attribute `@uniqe` on field `User.id`" in result.stderr
    assert f"{path}:12:9: error: type `Pst` of field `User.posts`" in result.stderr
    assert "  12 |   posts Pst[]\n" in result.stderr
    assert "= hint: did you mean `Post`?" in result.stderr
    assert result.stderr.rstrip().endswith("schema invalid: 2 errors")


def test_validate_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text("model A {\n  id Int @id $\n}\n")
    result = run(tmp_path, "validate")
    assert_clean_failure(result)
    assert "schema.prisma:2:14: error: unexpected character `$`" in result.stderr


def test_validate_prints_warnings_and_succeeds(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(
        SQLITE_BLOG.replace(
            'provider = "datatier"', 'provider        = "datatier"\n  previewFeatures = ["metrics"]'
        )
    )
    result = run(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert "warning: preview feature `metrics` is retired and has no effect" in result.stderr
    assert "is valid" in result.stdout


def test_default_schema_is_schema_prisma_in_cwd(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text(INVALID)
    result = run(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("schema.prisma is valid")


def test_default_schema_falls_back_to_prisma_folder(tmp_path: Path) -> None:
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text(BLOG)
    result = run(tmp_path, "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("prisma/schema.prisma is valid")


def test_no_schema_found_names_the_option(tmp_path: Path) -> None:
    result = run(tmp_path, "validate")
    assert_clean_failure(result)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: no schema found")
    assert str(tmp_path / "schema.prisma") in result.stderr
    assert str(tmp_path / "prisma" / "schema.prisma") in result.stderr
    assert "--schema" in result.stderr


def test_schema_option_that_does_not_exist(tmp_path: Path) -> None:
    result = run(tmp_path, "validate", "--schema", "nope.prisma")
    assert_clean_failure(result)
    assert "nope.prisma" in result.stderr
    assert result.stderr.count("\n") == 1


def test_schema_option_with_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "base.prisma").write_text(
        'datasource db {\n  provider = "sqlite"\n  url      = "file:./app.db"\n}\n'
    )
    (folder / "users.prisma").write_text("model User {\n  id    Int    @id\n  posts Post[]\n}\n")
    (folder / "posts.prisma").write_text(
        "model Post {\n  id       Int  @id\n  authorId Int\n"
        "  author   User @relation(fields: [authorId], references: [id])\n}\n"
    )
    result = run(tmp_path, "validate", "--schema", "schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "schema is valid: 2 models, 0 enums, 1 relation"


def test_errors_in_a_folder_name_their_file(tmp_path: Path) -> None:
    folder = tmp_path / "schema"
    folder.mkdir()
    (folder / "base.prisma").write_text('datasource db {\n  provider = "sqlite"\n}\n')
    (folder / "users.prisma").write_text("model User {\n  id Int @id @uniqe\n}\n")
    result = run(tmp_path, "validate", "--schema", "schema")
    assert_clean_failure(result)
    assert "schema/users.prisma:2:15: error: unknown attribute `@uniqe`" in result.stderr


# -- format ---------------------------------------------------------------------------------


MISALIGNED = (
    "datasource db {\n"
    '  provider = "sqlite"\n'
    '  url = "file:./x.db"\n'
    "}\n"
    "\n"
    "model User {\n"
    "  id Int @id @default(autoincrement())\n"
    "  email String @unique\n"
    "  name String?\n"
    "}\n"
)
ALIGNED = (
    "datasource db {\n"
    '  provider = "sqlite"\n'
    '  url      = "file:./x.db"\n'
    "}\n"
    "\n"
    "model User {\n"
    "  id    Int     @id @default(autoincrement())\n"
    "  email String  @unique\n"
    "  name  String?\n"
    "}\n"
)


def test_format_check_then_format(tmp_path: Path) -> None:
    schema = tmp_path / "schema.prisma"
    schema.write_text(MISALIGNED)
    before = run(tmp_path, "format", "--check")
    assert before.returncode == 1
    assert before.stderr.strip() == "would reformat schema.prisma"
    assert schema.read_text() == MISALIGNED  # --check changes nothing

    formatted = run(tmp_path, "format")
    assert formatted.returncode == 0, formatted.stderr
    assert formatted.stdout.strip() == "reformatted 1 file(s)"
    assert schema.read_text() == ALIGNED

    after = run(tmp_path, "format", "--check")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "already formatted"


def _golden_cases() -> list[tuple[Path, Path]]:
    if not GOLDEN_FORMAT.is_dir():
        return []
    pairs = []
    for golden in sorted(GOLDEN_FORMAT.glob("*.format.prisma")):
        source = FORMAT_INPUTS / golden.name.replace(".format.prisma", ".prisma")
        if source.exists():
            pairs.append((source, golden))
    return pairs[:4]


@pytest.mark.skipif(not _golden_cases(), reason="no golden formatter outputs in tests/conformance")
@pytest.mark.parametrize(("source", "golden"), _golden_cases(), ids=lambda p: p.name)
def test_format_matches_golden(tmp_path: Path, source: Path, golden: Path) -> None:
    schema = tmp_path / "schema.prisma"
    schema.write_bytes(source.read_bytes())
    assert run(tmp_path, "format", "--check").returncode == 1
    result = run(tmp_path, "format")
    assert result.returncode == 0, result.stderr
    assert schema.read_bytes() == golden.read_bytes()
    assert run(tmp_path, "format", "--check").returncode == 0


def test_format_invalid_syntax_fails_without_writing(tmp_path: Path) -> None:
    schema = tmp_path / "schema.prisma"
    schema.write_text("model A {\n  id Int @id $\n}\n")
    result = run(tmp_path, "format")
    assert_clean_failure(result)
    assert "2:14" in result.stderr
    assert schema.read_text() == "model A {\n  id Int @id $\n}\n"


# -- db push: SQLite -------------------------------------------------------------------------


def test_db_push_creates_tables_then_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(SQLITE_BLOG)
    first = run(tmp_path, "db", "push", "--url", "file:./x.db")
    assert first.returncode == 0, first.stderr
    database = tmp_path / "x.db"
    assert sqlite_tables(database) == BLOG_TABLES
    lines = first.stdout.splitlines()
    assert lines[0] == f"file:{database}: created 8 tables, 11 indexes, 10 foreign keys"
    assert lines[1].startswith("  tables: users, user_profiles, user_sessions")

    second = run(tmp_path, "db", "push", "--url", "file:./x.db")
    assert second.returncode == 0, second.stderr
    assert (
        second.stdout.strip()
        == f"file:{database}: already in sync with the schema, nothing changed"
    )
    assert sqlite_tables(database) == BLOG_TABLES


def test_db_push_portable_postgresql_schema_runs_on_sqlite(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)  # provider "postgresql", portable
    result = run(tmp_path, "db", "push", "--url", "file:./x.db")
    assert result.returncode == 0, result.stderr
    assert sqlite_tables(tmp_path / "x.db") == BLOG_TABLES


def test_db_push_url_from_database_url(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)
    result = run(tmp_path, "db", "push", env={"DATABASE_URL": "file:./from_env.db"})
    assert result.returncode == 0, result.stderr
    assert sqlite_tables(tmp_path / "from_env.db") == BLOG_TABLES


def test_db_push_url_option_overrides_database_url(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)
    result = run(
        tmp_path,
        "db",
        "push",
        "--url",
        "file:./from_flag.db",
        env={"DATABASE_URL": "file:./from_env.db"},
    )
    assert result.returncode == 0, result.stderr
    assert sqlite_tables(tmp_path / "from_flag.db") == BLOG_TABLES
    assert not (tmp_path / "from_env.db").exists()


def test_db_push_relative_url_is_relative_to_the_schema(tmp_path: Path) -> None:
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text(SQLITE_BLOG)
    result = run(tmp_path, "db", "push", "--url", "file:./dev.db")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "prisma" / "dev.db").exists()  # as Prisma resolves SQLite paths


def test_invalid_schema_never_touches_the_database(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(INVALID)
    result = run(tmp_path, "db", "push", "--url", "file:./x.db")
    assert_clean_failure(result)
    assert "schema invalid: 2 errors" in result.stderr
    assert not (tmp_path / "x.db").exists()
    assert not (tmp_path / "never.db").exists()
    assert result.stdout == ""


def test_native_types_with_a_sqlite_url_is_a_provider_mismatch(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(
        BLOG.replace("  name      String?\n", "  name      String?       @db.VarChar(100)\n")
    )
    result = run(tmp_path, "db", "push", "--url", "file:./x.db")
    assert_clean_failure(result)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith('error: the schema declares provider "postgresql"')
    assert "sqlite URL" in result.stderr
    assert "native types" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_db_push_without_any_url(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)  # url = env("DATABASE_URL"), unset
    result = run(tmp_path, "db", "push")
    assert_clean_failure(result)
    assert "DATABASE_URL" in result.stderr
    assert result.stderr.count("\n") == 1


def test_db_push_report_is_deterministic(tmp_path: Path) -> None:
    reports = []
    for seed in ("0", "1", "2", "3"):
        folder = tmp_path / f"run{seed}"
        folder.mkdir()
        (folder / "schema.prisma").write_text(SQLITE_BLOG)
        result = run(folder, "db", "push", "--url", "file:./x.db", env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        reports.append(result.stdout.replace(str(folder), "<dir>"))
    assert len(set(reports)) == 1, reports


# -- db push: PostgreSQL ---------------------------------------------------------------------


def test_db_push_postgresql(tmp_path: Path, pg_url: str) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)
    result = run(tmp_path, "db", "push", "--url", pg_url)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    # On PostgreSQL the join table's (A, B) is a primary key, not a unique index.
    assert first.endswith(": created 8 tables, 10 indexes, 10 foreign keys, 2 enums")
    assert "  enums: Role, PostStatus" in result.stdout.splitlines()
    with psycopg.connect(pg_url) as connection:
        rows = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert sorted(name for (name,) in rows) == BLOG_TABLES
    with psycopg.connect(pg_url) as connection:
        pkeys = connection.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'p' AND n.nspname = 'public' ORDER BY c.conname"
        ).fetchall()
    assert [name for (name,) in pkeys] == [
        "Category_pkey",
        "Comment_pkey",
        "Post_pkey",
        "Tag_pkey",
        "_PostToTag_AB_pkey",
        "user_profiles_pkey",
        "user_sessions_pkey",
        "users_pkey",
    ]

    again = run(tmp_path, "db", "push", env={"DATABASE_URL": pg_url})
    assert again.returncode == 0, again.stderr
    assert "already in sync with the schema, nothing changed" in again.stdout


def test_unreachable_postgresql(tmp_path: Path) -> None:
    (tmp_path / "schema.prisma").write_text(BLOG)
    result = run(tmp_path, "db", "push", "--url", "postgresql://postgres@127.0.0.1:1/x")
    assert_clean_failure(result)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ")
    assert "127.0.0.1:1" in result.stderr
    assert result.stdout == ""


# -- demo ----------------------------------------------------------------------------------


def test_demo_creates_a_sqlite_database(tmp_path: Path) -> None:
    result = run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    database = tmp_path / ".datatier" / "demo.db"
    assert database.exists()
    assert sqlite_tables(database) == BLOG_TABLES
    lines = result.stdout.splitlines()
    assert lines[0] == "demo schema schema.prisma is valid: 7 models, 2 enums, 9 relations"
    assert lines[1] == f"file:{database}: created 8 tables, 11 indexes, 10 foreign keys"
    assert "users" in lines[2] and "_PostToTag" in lines[2]


def test_demo_twice_changes_nothing(tmp_path: Path) -> None:
    assert run(tmp_path, "demo").returncode == 0
    again = run(tmp_path, "demo")
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout


def test_no_arguments_prints_help(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert "validate" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
