"""A PostgreSQL database of the blog schema filled with generated rows, made for one run and dropped after.

``blog_database(size)`` creates ``datatier_bench_<pid>_<hex>`` on the server that
``server_url()`` names, pushes ``datatier/demo/schema.prisma`` with datatier's own
``push``, bulk-loads ``generate_blog(size)`` with COPY, sets the sequences past the
loaded ids, runs ANALYZE, and drops the database (``WITH (FORCE)``) when the block ends.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench._environment import REPO_ROOT
from bench.datagen.blog_gen import BlogData, BlogSize, generate_blog
from datatier.migrate._push import push
from datatier.schema import load_schema

SCHEMA_PATH: Path = REPO_ROOT / "datatier" / "demo" / "schema.prisma"
SERVER_ENV = ("DATATIER_BENCH_POSTGRES_URL", "DATATIER_TEST_POSTGRES_URL")
LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_SEQUENCES = ("Category", "Tag", "Post", "Comment")


class ServerUnavailable(Exception):
    """No PostgreSQL server to load the data into; the message says what was tried."""


@dataclass(frozen=True)
class BlogDatabase:
    """A loaded database: its URL, the rows it holds, and how long making it took."""

    url: str
    data: BlogData
    load_seconds: float


def server_url(env: dict[str, str] | None = None) -> str:
    """``DATATIER_BENCH_POSTGRES_URL``, else ``DATATIER_TEST_POSTGRES_URL``, else the local server."""
    env = dict(os.environ) if env is None else env
    return next((env[name] for name in SERVER_ENV if env.get(name)), LOCAL_SERVER_URL)


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead of the one it names."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


@contextmanager
def blog_database(size: BlogSize, server: str | None = None) -> Iterator[BlogDatabase]:
    """A fresh database of the blog schema holding ``generate_blog(size)``; dropped afterwards."""
    server = server or server_url()
    name = f"datatier_bench_{os.getpid()}_{secrets.token_hex(4)}"
    started = time.perf_counter()
    try:
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ServerUnavailable(f"cannot create a database on {_masked(server)}: {exc}") from exc
    try:
        url = with_database(server, name)
        push(load_schema(SCHEMA_PATH), url)
        data = generate_blog(size)
        asyncio.run(_load(url, data))
        elapsed = time.perf_counter() - started
        print(f"  loaded {name} in {elapsed:.1f} s", file=sys.stderr, flush=True)
        yield BlogDatabase(url, data, elapsed)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server: str, sql: str) -> None:
    conn = await asyncpg.connect(server, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _load(url: str, data: BlogData) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        for table in data.tables:
            await conn.copy_records_to_table(
                table.name, records=table.rows, columns=list(table.columns)
            )
        for name in _SEQUENCES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f'(SELECT coalesce(max("id"), 0) + 1 FROM "{name}"), false)'
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
