"""The test harness itself: fresh databases per test, both SQL backends, and CI's no-skip rule."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from tests.harness.backends import CAPABILITIES, Backend, Capabilities
from tests.harness.databases import REDIS_DATABASES, fresh_postgres_database, fresh_redis_database
from tests.harness.servers import Server, in_ci

REPO = Path(__file__).resolve().parents[1]


def database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


# --- PostgreSQL ------------------------------------------------------------------------------


def test_pg_url_is_a_fresh_empty_writable_database(pg_url: str) -> None:
    name = database_of(pg_url)
    assert name.startswith("datatier_t_")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (name,)
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text)")
        conn.execute("INSERT INTO t VALUES (1, 'a')")
        assert conn.execute("SELECT name FROM t").fetchall() == [("a",)]


def test_pg_databases_are_distinct_and_dropped_afterwards(postgres_server: Server) -> None:
    server_url = postgres_server.require()
    with fresh_postgres_database(server_url) as first, fresh_postgres_database(server_url) as second:
        assert database_of(first) != database_of(second)
        with psycopg.connect(first, autocommit=True) as conn:
            conn.execute("CREATE TABLE only_here (id int)")
        with psycopg.connect(second, autocommit=True) as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
            # An open connection must not keep the database from being dropped.
            with psycopg.connect(first, autocommit=True):
                pass
        lingering = psycopg.connect(first, autocommit=True)
    try:
        with psycopg.connect(server_url, autocommit=True) as admin:
            names = [database_of(first), database_of(second)]
            left = admin.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names])
            assert left.fetchall() == []
    finally:
        lingering.close()


# --- Redis -----------------------------------------------------------------------------------


def test_redis_url_is_an_empty_numbered_database(redis_url: str) -> None:
    number = int(database_of(redis_url))
    assert number in REDIS_DATABASES
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.dbsize() == 0
        client.set("k", "v")
        assert client.get("k") == b"v"
    finally:
        client.close()


def test_redis_databases_are_isolated(redis_server: Server) -> None:
    server_url = redis_server.require()
    with fresh_redis_database(server_url) as first, fresh_redis_database(server_url) as second:
        assert database_of(first) != database_of(second)
        a, b = redis.Redis.from_url(first), redis.Redis.from_url(second)
        try:
            a.set("shared-name", "first")
            assert b.get("shared-name") is None
        finally:
            a.close()
            b.close()


# --- SQL backends ----------------------------------------------------------------------------


def test_sql_backend_runs_the_body_on_its_database(sql_backend: Backend, request: pytest.FixtureRequest) -> None:
    assert request.node.callspec.id == sql_backend.provider
    assert sql_backend.caps == CAPABILITIES[sql_backend.provider]
    p = sql_backend.placeholder
    with sql_backend.connect() as conn:
        conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        conn.execute(f"INSERT INTO item (id, name) VALUES ({p}, {p})", (1, "one"))
        assert conn.execute(f"SELECT name FROM item WHERE id = {p}", (1,)).fetchall() == [("one",)]


def test_sql_backend_urls(sql_backend: Backend) -> None:
    scheme = "file:" if sql_backend.provider == "sqlite" else "postgresql:"
    assert sql_backend.url.startswith(scheme)


def test_transactional_ddl_where_claimed(sql_backend: Backend) -> None:
    sql_backend.require("transactional_ddl")
    with sql_backend.connect() as conn:
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE gone (id INTEGER)")
        conn.execute("ROLLBACK")
        with pytest.raises((sqlite3.Error, psycopg.Error)):
            conn.execute("SELECT id FROM gone")


@pytest.mark.requires("enums", "schemas")
def test_requires_marker_skips_backends_without_the_capability(sql_backend: Backend) -> None:
    assert sql_backend.caps.enums and sql_backend.caps.schemas
    with sql_backend.connect() as conn:
        conn.execute("CREATE TYPE mood AS ENUM ('happy', 'sad')")


def test_require_skips_with_the_missing_capability_named() -> None:
    backend = Backend("sqlite", "file:/nowhere.db", CAPABILITIES["sqlite"])
    with pytest.raises(pytest.skip.Exception, match=r"sqlite lacks capability enums, scalar_lists"):
        backend.require("enums", "scalar_lists", "transactional_ddl")


def test_require_rejects_unknown_capabilities() -> None:
    backend = Backend("postgresql", "postgresql://h/db", CAPABILITIES["postgresql"])
    with pytest.raises(ValueError, match=r"unknown capability 'enum'"):
        backend.require("enum")


def test_capabilities_differ_as_documented() -> None:
    assert all(getattr(CAPABILITIES["postgresql"], name) for name in Capabilities.names())
    sqlite = CAPABILITIES["sqlite"]
    assert not (sqlite.enums or sqlite.scalar_lists or sqlite.native_types or sqlite.schemas)


def test_sqlite_url_is_a_file_url_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"file:{tmp_path}/test.db"


def test_in_ci_reads_truthy_values() -> None:
    assert in_ci({"CI": "true"}) and in_ci({"CI": "1"}) and in_ci({"CI": "TRUE"})
    assert not in_ci({}) and not in_ci({"CI": "false"}) and not in_ci({"CI": ""})


# --- a pytest inside pytest: collection and the CI rule --------------------------------------


INNER_TESTS = """
def test_needs_postgres(pg_url):
    pass


def test_needs_redis(redis_url):
    pass


def test_backends(sql_backend):
    pass
"""

CLOSED_POSTGRES = "postgresql://postgres:sekret@127.0.0.1:1/postgres"
CLOSED_REDIS = "redis://:sekret@127.0.0.1:1"


def run_inner(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the harness's own plugin on ``INNER_TESTS`` in a child pytest with a clean environment plus ``env``."""
    (tmp_path / "test_inner.py").write_text(INNER_TESTS, encoding="utf-8")
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DATATIER_TEST_")) and key != "CI"
    }
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    child_env.update(env)
    command = [sys.executable, "-m", "pytest", "-p", "tests.harness.plugin", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*command, "--rootdir", str(tmp_path), "-q", "-rfs", *args, "test_inner.py"],
        cwd=tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The counts of the closing line of a ``-q`` run: ``1 skipped, 3 deselected in 0.02s`` -> ``{"skipped": 1, ...}``."""
    counts = result.stdout.strip().splitlines()[-1].rpartition(" in ")[0]
    return {word: int(n) for n, word in (part.split(" ", 1) for part in counts.split(", "))}


def test_sql_backend_collects_one_test_per_backend(tmp_path: Path) -> None:
    result = run_inner(tmp_path, "--collect-only", "-k", "backends", env={})
    assert "test_inner.py::test_backends[sqlite]" in result.stdout
    assert "test_inner.py::test_backends[postgresql]" in result.stdout


def test_server_markers_are_added_automatically(tmp_path: Path) -> None:
    result = run_inner(tmp_path, "--collect-only", "-m", "not postgres and not redis", env={})
    assert "test_inner.py::test_backends[sqlite]" in result.stdout
    assert "needs_postgres" not in result.stdout
    assert "needs_redis" not in result.stdout
    assert "test_backends[postgresql]" not in result.stdout


@pytest.mark.parametrize(
    ("variable", "url", "test"),
    [
        ("DATATIER_TEST_POSTGRES_URL", CLOSED_POSTGRES, "needs_postgres"),
        ("DATATIER_TEST_REDIS_URL", CLOSED_REDIS, "needs_redis"),
    ],
    ids=["postgresql", "redis"],
)
def test_unreachable_server_skips_outside_ci(tmp_path: Path, variable: str, url: str, test: str) -> None:
    result = run_inner(tmp_path, "-k", test, env={variable: url})
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert outcomes(result) == {"skipped": 1, "deselected": 3}
    assert f"{variable}=" in output and "127.0.0.1:1" in output
    assert "sekret" not in output


@pytest.mark.parametrize(
    ("variable", "url", "test"),
    [
        ("DATATIER_TEST_POSTGRES_URL", CLOSED_POSTGRES, "needs_postgres"),
        ("DATATIER_TEST_REDIS_URL", CLOSED_REDIS, "needs_redis"),
    ],
    ids=["postgresql", "redis"],
)
def test_unreachable_server_fails_in_ci(tmp_path: Path, variable: str, url: str, test: str) -> None:
    result = run_inner(tmp_path, "-k", test, env={variable: url, "CI": "true"})
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # pytest.fail in a fixture is reported as an error at setup: a failure, never a skip
    assert outcomes(result) == {"error": 1, "deselected": 3}
    assert "CI is set" in output and "127.0.0.1:1" in output
    assert "sekret" not in output
