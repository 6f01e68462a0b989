"""datatier's pytest fixtures: ``pg_url``, ``redis_url``, ``sqlite_url``, the contract fixture ``sql_backend``,
and ``counted_pg_url`` with ``server_statements`` for counting the statements a database executed.

Servers are looked for once per session (per xdist worker); each test gets a
fresh database. ``CI=true`` turns a missing server from a skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.harness.backends import CAPABILITIES, Backend
from tests.harness.databases import fresh_postgres_database, fresh_redis_database
from tests.harness.servers import Server, find_postgres, find_redis
from tests.harness.statements import (
    PostgresStatementCounter,
    SqliteStatementCounter,
    StatementCounter,
    find_counted_postgres,
)

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "postgres: needs a PostgreSQL server",
        "redis: needs a Redis server",
        "requires(*capabilities): run the sql_backend test only on backends with these capabilities",
    ):
        config.addinivalue_line("markers", line)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Mark tests by the servers they use, so `-m "not postgres"` works without remembering to mark.
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "pg_url" in names or "counted_pg_url" in names:
            item.add_marker(pytest.mark.postgres)
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="session")
def postgres_server() -> Server:
    """The session's PostgreSQL server (or what was tried); tests use ``pg_url``."""
    return find_postgres(os.environ)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    """The session's Redis server (or what was tried); tests use ``redis_url``."""
    with ExitStack() as stack:
        yield find_redis(os.environ, stack)


@pytest.fixture
def pg_url(postgres_server: Server) -> Iterator[str]:
    """URL of a new, empty PostgreSQL database of this test's own, dropped afterwards."""
    with fresh_postgres_database(postgres_server.require()) as url:
        yield url


@pytest.fixture
def redis_url(redis_server: Server) -> Iterator[str]:
    """URL of a Redis logical database (1..15) no other test holds meanwhile, empty at start and flushed after."""
    with fresh_redis_database(redis_server.require()) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """``file:<tmp_path>/test.db``, a SQLite database file of this test's own (created on first connect)."""
    return f"file:{tmp_path}/test.db"


@pytest.fixture(params=SQL_BACKENDS)
def sql_backend(request: pytest.FixtureRequest) -> Backend:
    """Each SQL database in turn (ids ``sqlite``, ``postgresql``), with a fresh database.

    ``@pytest.mark.requires("enums")`` skips the backends that lack a capability.
    """
    provider: str = request.param
    fixture = "sqlite_url" if provider == "sqlite" else "pg_url"
    backend = Backend(provider, request.getfixturevalue(fixture), CAPABILITIES[provider])
    for marker in request.node.iter_markers("requires"):
        backend.require(*marker.args)
    return backend


@pytest.fixture(scope="session")
def counted_postgres_server() -> Iterator[Server]:
    """The session's PostgreSQL with ``pg_stat_statements`` (or what was tried); tests use ``counted_pg_url``."""
    with ExitStack() as stack:
        yield find_counted_postgres(os.environ, stack)


@pytest.fixture
def counted_pg_url(counted_postgres_server: Server) -> Iterator[str]:
    """URL of a new, empty database of this test's own on the counted server (see ``server_statements``)."""
    server_url = counted_postgres_server.require()
    with fresh_postgres_database(server_url) as url:
        yield url
        # Its entries would otherwise stay after the drop and crowd pg_stat_statements for later tests.
        PostgresStatementCounter(server_url, url).reset()


@pytest.fixture
def server_statements(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], StatementCounter]:
    """``server_statements(url)``: a counter, already reset, of the statements the database at ``url`` executes.

    ``url`` is a ``counted_pg_url`` (counted by ``pg_stat_statements``) or a
    SQLite ``file:`` URL or path (counted by SQLite's trace hook on connections
    opened from now on in this process).
    """

    def counter_for(url: str) -> StatementCounter:
        counter: StatementCounter
        if url.startswith(("postgresql://", "postgres://")):
            server: Server = request.getfixturevalue("counted_postgres_server")
            counter = PostgresStatementCounter(server.require(), url)
        else:
            sqlite_counter = SqliteStatementCounter(url.removeprefix("file:").partition("?")[0])
            sqlite_counter.install(monkeypatch)
            counter = sqlite_counter
        counter.reset()
        return counter

    return counter_for
