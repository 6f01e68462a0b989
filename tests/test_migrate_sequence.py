"""A history of schema changes, made with ``migrate dev`` one by one, then rolled back one by one.

At every step the development database must have the catalog ``db push`` gives the
step's schema in an empty database (column order aside: a column added back by a
rollback goes last), and the rows in columns no step touches must survive. The
steps cover added, dropped, renamed and retyped fields, relations added and dropped,
an implicit many-to-many, indexes, composite keys and uniques, ``@map``/``@@map``
changes, and (PostgreSQL) enum values added and removed. On SQLite, making
``User.fullName`` required rebuilds ``User`` while ``Post`` rows reference it with
``ON DELETE CASCADE``: none may be lost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datatier.cli import app
from datatier.migrate import MigrationError
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._push import push
from datatier.migrate._shadow import empty_database, read_catalog
from datatier.schema import validate_schema_text
from tests.harness.backends import CAPABILITIES, Backend
from tests.harness.databases import fresh_postgres_database, with_database
from tests.harness.golden import shared_dir

USER = """model User {{
  id    Int    @id @default(autoincrement())
  email String @unique
{fields}}}
"""


@dataclass(frozen=True)
class Step:
    """One schema of the history, and the ``migrate dev`` flags its change needs."""

    name: str
    models: str
    flags: tuple[str, ...] = ()
    enums: bool = False


def user(*fields: str) -> str:
    return USER.format(fields="".join(f"  {f}\n" for f in fields))


POST = """
model Post {{
  id       Int    @id @default(autoincrement())
  title    String{title_map}
  authorId Int
  author   User   @relation(fields: [authorId], references: [id], onDelete: Cascade){extra}
}}
"""


def post(
    *, index: bool = False, title_map: str = "", tags: bool = False, relation: bool = True
) -> str:
    extra = "\n  tags     Tag[]" if tags else ""
    if index:
        extra += "\n\n  @@index([title])"
    text = POST.format(title_map=title_map, extra=extra)
    if not relation:
        text = text.replace(
            "  author   User   @relation(fields: [authorId], references: [id], onDelete: Cascade)\n",
            "",
        )
    return text


def tag(*, mapped: bool = False, posts: bool = True) -> str:
    # No autoincrement: a renamed table keeps its sequence's old name on PostgreSQL
    # (the planner renames the table, not the sequence), which a fresh push names anew.
    lines = ["  id    Int    @id", "  label String"]
    if posts:
        lines.append("  posts Post[]")
    if mapped:
        lines.append('\n  @@map("tags")')
    return "\nmodel Tag {\n" + "\n".join(lines) + "\n}\n"


MEMBERSHIP = """
model Membership {
  userId Int
  group  String

  @@id([userId, group])
}
"""

FULL = 'fullName String @default("")'
STEPS = [
    Step("init", user("name String?")),
    Step("add_age", user("name String?", "age  Int?")),
    Step("add_posts", user("name String?", "age  Int?", "posts Post[]") + post()),
    Step("index_title", user("name String?", "age  Int?", "posts Post[]") + post(index=True)),
    Step("age_float", user("name String?", "age  Float?", "posts Post[]") + post(index=True)),
    Step(
        "rename_name",
        user("fullName String?", "age  Float?", "posts Post[]") + post(index=True),
        ("--rename", "User.name=fullName"),
    ),
    Step("full_name_required", user(FULL, "age  Float?", "posts Post[]") + post(index=True)),
    Step(
        "tags",
        user(FULL, "age  Float?", "posts Post[]") + post(index=True, tags=True) + tag(),
    ),
    Step(
        "memberships",
        user(FULL, "age  Float?", "posts Post[]")
        + post(index=True, tags=True)
        + tag()
        + MEMBERSHIP,
    ),
    Step(
        "unique_name_age",
        user(FULL, "age  Float?", "posts Post[]", "", "@@unique([fullName, age])")
        + post(index=True, tags=True)
        + tag()
        + MEMBERSHIP,
    ),
    Step(
        "map_title",
        user(FULL, "age  Float?", "posts Post[]", "", "@@unique([fullName, age])")
        + post(index=True, tags=True, title_map=' @map("headline")')
        + tag()
        + MEMBERSHIP,
        ("--rename", "Post.title=headline"),
    ),
    Step(
        "map_tags",
        user(FULL, "age  Float?", "posts Post[]", "", "@@unique([fullName, age])")
        + post(index=True, tags=True, title_map=' @map("headline")')
        + tag(mapped=True)
        + MEMBERSHIP,
        ("--rename", "Tag=tags"),
    ),
    Step(
        "drop_age",
        user(FULL, "posts Post[]")
        + post(index=True, tags=True, title_map=' @map("headline")')
        + tag(mapped=True)
        + MEMBERSHIP,
        ("--accept-data-loss",),
    ),
    Step(
        "drop_author_relation",
        user(FULL)
        + post(index=True, tags=True, title_map=' @map("headline")', relation=False)
        + tag(mapped=True)
        + MEMBERSHIP,
    ),
    Step(
        "drop_tags_relation",
        user(FULL)
        + post(index=True, title_map=' @map("headline")', relation=False)
        + tag(mapped=True, posts=False)
        + MEMBERSHIP,
        ("--accept-data-loss",),
    ),
    Step(
        "drop_memberships",
        user(FULL)
        + post(index=True, title_map=' @map("headline")', relation=False)
        + tag(mapped=True, posts=False),
        ("--accept-data-loss",),
    ),
]
_LAST = STEPS[-1].models
ENUM_STEPS = [
    Step(
        "role",
        _LAST.replace("  " + FULL + "\n", "  " + FULL + "\n  role Role @default(USER)\n")
        + "\nenum Role {\n  USER\n  ADMIN\n}\n",
        enums=True,
    ),
    Step(
        "role_moderator",
        _LAST.replace("  " + FULL + "\n", "  " + FULL + "\n  role Role @default(USER)\n")
        + "\nenum Role {\n  USER\n  ADMIN\n  MODERATOR\n}\n",
        enums=True,
    ),
    Step(
        "role_without_admin",
        _LAST.replace("  " + FULL + "\n", "  " + FULL + "\n  role Role @default(USER)\n")
        + "\nenum Role {\n  USER\n  MODERATOR\n}\n",
        enums=True,
    ),
]

USERS = [(1, "ann@example.com"), (2, "bob@example.com"), (3, "cy@example.com")]
POSTS = [(10, 1), (11, 1), (12, 2)]


def schema_text(provider: str, models: str) -> str:
    return f'datasource db {{\n  provider = "{provider}"\n}}\n\n{models}'


def unordered(catalog: Catalog) -> Catalog:
    """``catalog`` with each table's columns by name: a rollback adds a dropped column back last."""
    tables = tuple(
        dataclasses.replace(t, columns=tuple(sorted(t.columns, key=lambda c: c.name)))
        for t in catalog.tables
    )
    return dataclasses.replace(catalog, tables=tables)


@contextmanager
def scratch_database(backend: Backend, tmp_path: Path) -> Iterator[str]:
    if backend.provider == "sqlite":
        yield f"file:{tmp_path}/scratch.db"
        return
    server = with_database(backend.url, "postgres")
    with fresh_postgres_database(server) as url:
        yield url


def expected_catalog(scratch_url: str, provider: str, models: str) -> Catalog:
    empty_database(scratch_url)
    push(validate_schema_text(schema_text(provider, models)), scratch_url, provider)
    return unordered(read_catalog(scratch_url))


def check_rows(backend: Backend, step: int) -> None:
    """Rows in columns no step changes are all still there."""
    with backend.connect() as conn:
        users = [
            tuple(r)
            for r in conn.execute('SELECT "id", "email" FROM "User" ORDER BY "id"').fetchall()
        ]
        assert users == USERS, f"after step {step}"
        if step >= 2:
            posts = [
                tuple(r)
                for r in conn.execute(
                    'SELECT "id", "authorId" FROM "Post" ORDER BY "id"'
                ).fetchall()
            ]
            assert posts == POSTS, f"after step {step}"


def insert_rows(backend: Backend, step: int) -> None:
    with backend.connect() as conn:
        if step == 0:
            for id_, email in USERS:
                conn.execute(
                    f"""INSERT INTO "User" ("id", "email", "name") VALUES ({id_}, '{email}', 'n{id_}')"""
                )
        if step == 1:
            conn.execute('UPDATE "User" SET "age" = "id" * 10')
        if step == 2:
            for id_, author in POSTS:
                conn.execute(
                    f"""INSERT INTO "Post" ("id", "title", "authorId") VALUES ({id_}, 't{id_}', {author})"""
                )


def run(root: Path, backend: Backend, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(
        app, [*args, "--schema", str(root / "schema.prisma"), "--url", backend.url]
    )
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    return output


@pytest.fixture
def shadow(sql_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One shadow database for the whole history on PostgreSQL (emptied on each use)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if sql_backend.provider == "sqlite":
        monkeypatch.delenv("SHADOW_DATABASE_URL", raising=False)
        yield
        return
    with fresh_postgres_database(with_database(sql_backend.url, "postgres")) as url:
        monkeypatch.setenv("SHADOW_DATABASE_URL", url)
        yield


def test_history_up_one_by_one_then_down_one_by_one(
    sql_backend: Backend, tmp_path: Path, shadow: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    steps = STEPS + (ENUM_STEPS if sql_backend.has("enums") else [])
    assert len(steps) >= 15
    root = tmp_path / "project"
    root.mkdir()
    expected: list[Catalog] = []
    with scratch_database(sql_backend, tmp_path) as scratch:
        for number, step in enumerate(steps):
            models = step.models
            (root / "schema.prisma").write_text(schema_text(sql_backend.provider, models))
            out = run(root, sql_backend, "migrate", "dev", "--name", step.name, *step.flags)
            assert "created and applied" in out, out
            expected.append(expected_catalog(scratch, sql_backend.provider, models))
            actual = unordered(read_catalog(sql_backend.url))
            assert diff_catalogs(expected[-1], actual) == [], f"up to step {number} {step.name}"
            insert_rows(sql_backend, number)
            check_rows(sql_backend, number)

        assert "already in sync" in run(root, sql_backend, "migrate", "dev", "--name", "again")
        assert "up to date" in run(root, sql_backend, "migrate", "status")

        folders = sorted(p for p in (root / "migrations").iterdir() if p.is_dir())
        assert len(folders) == len(steps)
        assert all((f / "down.sql").is_file() for f in folders)

        for number in range(len(steps) - 1, -1, -1):
            out = run(root, sql_backend, "migrate", "rollback", "--accept-data-loss")
            assert steps[number].name in out
            actual = unordered(read_catalog(sql_backend.url))
            if number == 0:
                assert actual.tables == () and actual.enums == (), actual
                break
            assert diff_catalogs(expected[number - 1], actual) == [], (
                f"down from step {number} {steps[number].name}"
            )
            check_rows(sql_backend, number - 1)

    out = run(root, sql_backend, "migrate", "status", code=2)
    assert out.count("pending:") == len(steps)


def test_a_rename_is_asked_for_and_data_loss_stops_dev(
    sql_backend: Backend, tmp_path: Path, shadow: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project"
    root.mkdir()
    (root / "schema.prisma").write_text(schema_text(sql_backend.provider, STEPS[1].models))
    run(root, sql_backend, "migrate", "dev", "--name", "init")
    insert_rows(sql_backend, 0)
    insert_rows(sql_backend, 1)

    renamed = STEPS[1].models.replace("name String?", "nick String?")
    (root / "schema.prisma").write_text(schema_text(sql_backend.provider, renamed))
    out = run(root, sql_backend, "migrate", "dev", "--name", "nick", code=1)
    assert 'column "User"."name" -> "nick"' in out and "--rename User.name=nick" in out
    out = run(
        root, sql_backend, "migrate", "dev", "--name", "nick", "--rename", "User.nam=nick", code=1
    )
    assert "possible renames: User.name=nick" in out
    assert len(list((root / "migrations").iterdir())) == 2  # init and the lock file

    out = run(root, sql_backend, "migrate", "dev", "--name", "nick", "--create-only")
    assert "created " in out and "drop-and-add" in out and "not empty" not in out
    created = sorted((root / "migrations").glob("*_nick"))
    assert len(created) == 1
    assert "RENAME COLUMN" not in (created[0] / "migration.sql").read_text()
    for file in created[0].iterdir():
        file.unlink()
    created[0].rmdir()

    out = run(root, sql_backend, "migrate", "dev", "--name", "nick", "--rename", "User.name=nick")
    assert "created and applied" in out
    with sql_backend.connect() as conn:
        assert [
            tuple(r) for r in conn.execute('SELECT "nick" FROM "User" ORDER BY "id"').fetchall()
        ] == [
            ("n1",),
            ("n2",),
            ("n3",),
        ]

    dropped = renamed.replace("  age  Int?\n", "")
    (root / "schema.prisma").write_text(schema_text(sql_backend.provider, dropped))
    out = run(root, sql_backend, "migrate", "dev", "--name", "drop_age", code=1)
    assert "would lose data" in out and "age" in out and "(3 rows)" in out
    assert "--accept-data-loss" in out and "--create-only" in out
    assert not list((root / "migrations").glob("*_drop_age"))
    run(root, sql_backend, "migrate", "dev", "--name", "drop_age", "--accept-data-loss")
    assert len(list((root / "migrations").glob("*_drop_age"))) == 1


def test_dev_stops_on_drift_and_names_reset(
    sql_backend: Backend, tmp_path: Path, shadow: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project"
    root.mkdir()
    (root / "schema.prisma").write_text(schema_text(sql_backend.provider, STEPS[0].models))
    run(root, sql_backend, "migrate", "dev", "--name", "init")
    with sql_backend.connect() as conn:
        conn.execute('ALTER TABLE "User" ADD COLUMN "extra" INTEGER')
    (root / "schema.prisma").write_text(schema_text(sql_backend.provider, STEPS[1].models))
    out = run(root, sql_backend, "migrate", "dev", "--name", "age", code=1)
    assert "drift" in out and "extra" in out and "datatier migrate reset" in out
    run(root, sql_backend, "migrate", "reset", "--force")
    assert "created and applied" in run(root, sql_backend, "migrate", "dev", "--name", "age")


def test_diff_between_every_kind_of_source(
    sql_backend: Backend, tmp_path: Path, shadow: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "project"
    root.mkdir()
    (root / "schema.prisma").write_text(schema_text(sql_backend.provider, STEPS[0].models))
    run(root, sql_backend, "migrate", "dev", "--name", "init")
    newer = root / "newer.prisma"
    newer.write_text(schema_text(sql_backend.provider, STEPS[1].models))

    def diff(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, ["migrate", "diff", *args])
        assert result.exit_code == code, result.stdout + result.stderr
        return result.stdout + result.stderr

    assert 'create table "User"' in diff("--from-empty", "--to-schema", str(root / "schema.prisma"))
    assert "CREATE TABLE" in diff("--from-empty", "--to-schema", str(newer), "--script")
    assert 'add column "age"' in diff("--from-url", sql_backend.url, "--to-schema", str(newer))
    assert "age" in diff("--from-migrations", str(root / "migrations"), "--to-schema", str(newer))
    assert "No difference detected." in diff(
        "--from-migrations", str(root / "migrations"), "--to-url", sql_backend.url
    )
    assert 'drop table "User"' in diff("--from-url", sql_backend.url, "--to-empty")
    diff("--from-url", sql_backend.url, "--to-schema", str(newer), "--exit-code", code=2)
    assert "exactly one of --from-empty" in diff("--to-empty", code=1)
    other = "postgresql" if sql_backend.provider == "sqlite" else "sqlite"
    portable = root / "other.prisma"
    portable.write_text(schema_text(other, STEPS[1].models))
    # A portable schema declared for the other database runs on this one.
    assert 'add column "age"' in diff("--from-url", sql_backend.url, "--to-schema", str(portable))
    if other == "postgresql":
        pinned = root / "pinned.prisma"
        pinned.write_text(
            schema_text(
                other, STEPS[0].models.replace("String @unique", "String @unique @db.VarChar(80)")
            )
        )
        assert "different databases" in diff(
            "--from-url", sql_backend.url, "--to-schema", str(pinned), code=1
        )


def test_shadow_url_must_not_be_the_database(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHADOW_DATABASE_URL", pg_url)
    backend = Backend("postgresql", pg_url, CAPABILITIES["postgresql"])
    (tmp_path / "schema.prisma").write_text(schema_text("postgresql", STEPS[0].models))
    out = run(tmp_path, backend, "migrate", "dev", "--name", "init", code=1)
    assert "must name another" in out


def test_a_terminal_is_asked_about_each_possible_rename(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datatier.migrate import dev, open_project

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHADOW_DATABASE_URL", raising=False)
    schema = tmp_path / "schema.prisma"
    schema.write_text(schema_text("sqlite", STEPS[1].models))
    dev(open_project(tmp_path, {}, url=sqlite_url), "init")
    schema.write_text(
        schema_text("sqlite", STEPS[1].models.replace("name String?", "nick String?"))
    )
    asked: list[str] = []

    def answer(question: str) -> bool:
        asked.append(question)
        return True

    report = dev(open_project(tmp_path, {}, url=sqlite_url), "nick", confirm=answer)
    assert asked == ['Did you rename column "User"."name" -> "nick"?']
    assert report.summary == ('rename column "User"."name" to "nick"',)
    assert "RENAME COLUMN" in (report.folder / "migration.sql").read_text()  # type: ignore[operator]

    # "No" means a drop and an add, which the data-loss guard judges (the column is empty).
    schema.write_text(
        schema_text("sqlite", STEPS[1].models.replace("name String?", "alias String?"))
    )
    report = dev(open_project(tmp_path, {}, url=sqlite_url), "alias", confirm=lambda q: False)
    assert "RENAME COLUMN" not in (report.folder / "migration.sql").read_text()  # type: ignore[operator]
    assert report.applied[-1].endswith("_alias")

    # Data that would be lost is asked about too; no stops, yes applies.
    with Backend("sqlite", sqlite_url, CAPABILITIES["sqlite"]).connect() as conn:
        conn.execute("""INSERT INTO "User" ("id", "email", "alias") VALUES (1, 'a@x', 'al')""")
    schema.write_text(schema_text("sqlite", STEPS[1].models.replace("  name String?\n", "")))
    questions: list[str] = []
    with pytest.raises(MigrationError, match="--accept-data-loss"):
        dev(open_project(tmp_path, {}, url=sqlite_url), "drop_alias", confirm=questions.append)  # type: ignore[arg-type]
    assert "alias" in questions[-1] and questions[-1].endswith("Apply it anyway?")
    report = dev(open_project(tmp_path, {}, url=sqlite_url), "drop_alias", confirm=lambda q: True)
    assert report.applied[-1].endswith("_drop_alias")


@pytest.mark.parametrize("stem", ["blog", "shop"])
def test_shared_schemas_migrate_and_stay_in_sync(
    stem: str, sql_backend: Backend, tmp_path: Path, shadow: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared example schemas: one migration from nothing, then nothing left to migrate."""
    import re

    monkeypatch.chdir(tmp_path)
    text = (shared_dir() / "schemas" / f"{stem}.prisma").read_text()
    text = re.sub(
        r'provider\s*=\s*"(postgresql|sqlite)"',
        f'provider = "{sql_backend.provider}"',
        text,
        count=1,
    )
    root = tmp_path / "project"
    root.mkdir()
    (root / "schema.prisma").write_text(text)
    run(root, sql_backend, "migrate", "dev", "--name", "init")
    assert "already in sync" in run(root, sql_backend, "migrate", "dev", "--name", "again")
    assert "up to date" in run(root, sql_backend, "migrate", "status")
    with scratch_database(sql_backend, tmp_path) as scratch:
        push(validate_schema_text(text), scratch, sql_backend.provider)
        assert diff_catalogs(read_catalog(scratch), read_catalog(sql_backend.url)) == []
    run(root, sql_backend, "migrate", "rollback", "--accept-data-loss")
    actual = read_catalog(sql_backend.url)
    assert actual.tables == () and actual.enums == ()


def test_dev_seeds_a_fresh_database_only(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    backend = Backend("sqlite", sqlite_url, CAPABILITIES["sqlite"])
    (tmp_path / "datatier.toml").write_text('seed = "seed.py"\n')
    (tmp_path / "seed.py").write_text(
        "import os, sqlite3\n"
        "path = os.environ['DATABASE_URL'].removeprefix('file:')\n"
        "with sqlite3.connect(path) as conn:\n"
        """    conn.execute("INSERT INTO \\"User\\" (\\"email\\") VALUES ('seed@example.com')")\n"""
    )
    (tmp_path / "schema.prisma").write_text(schema_text("sqlite", STEPS[0].models))
    assert "ran the seed script" in run(tmp_path, backend, "migrate", "dev", "--name", "init")
    (tmp_path / "schema.prisma").write_text(schema_text("sqlite", STEPS[1].models))
    assert "ran the seed script" not in run(tmp_path, backend, "migrate", "dev", "--name", "age")
    with backend.connect() as conn:
        assert conn.execute('SELECT "email" FROM "User"').fetchall() == [("seed@example.com",)]


def test_a_portable_schema_migrates_on_the_database_its_url_names(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A schema declared for SQLite that uses nothing SQLite-specific runs on PostgreSQL."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    backend = Backend("postgresql", pg_url, CAPABILITIES["postgresql"])
    (tmp_path / "schema.prisma").write_text(schema_text("sqlite", STEPS[0].models))
    run(tmp_path, backend, "migrate", "dev", "--name", "init")
    (tmp_path / "schema.prisma").write_text(schema_text("sqlite", STEPS[1].models))
    assert 'add column "age"' in run(tmp_path, backend, "migrate", "dev", "--name", "age")
    assert "postgresql" in (tmp_path / "migrations" / "migration_lock.toml").read_text()
    assert "up to date" in run(tmp_path, backend, "migrate", "status", "--no-drift")
