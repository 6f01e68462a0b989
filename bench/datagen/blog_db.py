"""The blog dataset in PostgreSQL (and SQLite), loaded once and reused while generator and size match.

``blog_database(size)`` gives a database ``datatier_bench_blog_<posts>`` on the run's
server (``bench._server``) holding ``generate_blog(size)``. A marker table
``_datatier_bench_meta`` records the generator version, seed, size and a hash of the
schema; when they match, the database is reused as it is (a full load takes about
30 s), else it is dropped and loaded again: datatier's ``push`` creates the tables,
COPY (``copy_records_to_table``) fills them, the sequences move past the loaded ids,
and ANALYZE runs.

Write workloads touch only what ``reset_writes`` owns: a writer user (sorted after
every generated e-mail), ``WRITE_POSTS`` posts of that user dated in 2000 with status
DRAFT (so no read workload can see them), and categories whose slug starts with
``bench-``. ``reset_writes`` puts that back to the same state; it runs when the
database is opened and closed and after each write workload, so writes never grow
the dataset or disturb the reads.

``blog_sqlite(size)`` is the same dataset in a SQLite file for the embedded workloads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench._environment import REPO_ROOT
from bench._server import PostgresServer, ServerUnavailable, postgres_server, with_database
from bench.datagen._load import META_TABLE, ensure_database
from bench.datagen.blog_gen import SEED, BlogSize, generate_blog
from datatier.migrate._push import push
from datatier.schema import load_schema

__all__ = [
    "GENERATOR_VERSION",
    "META_TABLE",
    "SCHEMA_PATH",
    "WRITER_EMAIL",
    "WRITER_ID",
    "WRITE_POSTS",
    "BlogDatabase",
    "ServerUnavailable",
    "blog_database",
    "blog_sqlite",
    "reset_writes",
    "with_database",
]

SCHEMA_PATH: Path = REPO_ROOT / "datatier" / "demo" / "schema.prisma"
GENERATOR_VERSION = 3  # bump when generate_blog's rows or the loading change
WRITER_ID = "ffffffff-0000-4000-8000-00000000beef"
WRITER_EMAIL = "zz-bench-writer@example.com"
WRITE_POSTS = 100
WRITE_CATEGORY_PREFIX = "bench-"
_OLD = dt.datetime(2000, 1, 1)
# The list workloads order every post by date. The schema has no index for that, so
# without this one every subject would spend its time in the same sort of 100,000
# rows and the run would measure the database, not the subjects. Every subject reads
# the same database, so each gets the index.
BENCH_INDEXES = ('CREATE INDEX "bench_Post_createdAt_idx" ON "Post" ("createdAt")',)


@dataclass(frozen=True)
class BlogDatabase:
    """A loaded database: its URL, its size, whether it was reused, and the write workloads' rows."""

    url: str
    size: BlogSize
    load_seconds: float
    reused: bool = False
    write_post_ids: tuple[int, ...] = ()


def marker(size: BlogSize, schema_text: str) -> dict[str, str]:
    """What ``_datatier_bench_meta`` holds for ``size``: reuse needs every value equal."""
    return {
        "generator_version": str(GENERATOR_VERSION),
        "seed": str(SEED),
        "size": json.dumps([size.users, size.posts, size.comments, size.tags, size.categories]),
        "schema_sha256": hashlib.sha256(schema_text.encode()).hexdigest(),
    }


def database_name(size: BlogSize) -> str:
    """``datatier_bench_blog_<posts>``: one database per size on a server."""
    return f"datatier_bench_blog_{size.posts}"


@contextmanager
def blog_database(
    size: BlogSize, server: PostgresServer | str | None = None
) -> Iterator[BlogDatabase]:
    """The blog database of ``size`` on ``server`` (a URL, or the run's server when None), writes reset."""
    if server is None:
        with postgres_server() as found, blog_database(size, found) as database:
            yield database
        return
    admin = server if isinstance(server, str) else server.url
    started = time.perf_counter()
    want = marker(size, SCHEMA_PATH.read_text(encoding="utf-8"))
    url, reused = ensure_database(
        admin,
        database_name(size),
        SCHEMA_PATH,
        want,
        lambda: generate_blog(size).tables,
        BENCH_INDEXES,
    )
    ids = asyncio.run(reset_writes(url))
    elapsed = time.perf_counter() - started
    how = "reused" if reused else "loaded"
    print(f"  {how} {database_name(size)} in {elapsed:.1f} s", file=sys.stderr, flush=True)
    try:
        yield BlogDatabase(url, size, elapsed, reused, ids)
    finally:
        asyncio.run(reset_writes(url))


async def reset_writes(url: str) -> tuple[int, ...]:
    """Put the write workloads' rows back: the writer, its ``WRITE_POSTS`` posts, no ``bench-`` categories.

    Returns the ids of the writer's posts (new ids each time: the sequence moves on).
    """
    conn = await asyncpg.connect(url, timeout=10)
    try:
        async with conn.transaction():
            # Comment.parentId has no index, so deleting a comment with its foreign-key
            # triggers scans every comment (ON DELETE SET NULL of the replies): thousands of
            # write-workload comments took tens of minutes. The writer's comments are
            # nobody's parent, so they go without triggers.
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute('DELETE FROM "Comment" WHERE "authorId" = $1', WRITER_ID)
            # The upsert workload's categories hold no posts either (Post.categoryId has no
            # index: each one would scan every post for its ON DELETE SET NULL).
            await conn.execute(
                'DELETE FROM "Category" WHERE "slug" LIKE $1', WRITE_CATEGORY_PREFIX + "%"
            )
            await conn.execute("SET LOCAL session_replication_role = origin")
            # Tag links of the writer's posts go with them (ON DELETE CASCADE).
            await conn.execute('DELETE FROM "Post" WHERE "authorId" = $1', WRITER_ID)
            await conn.execute(
                'INSERT INTO "users" ("id", "email", "name", "role", "createdAt", "updatedAt") '
                "VALUES ($1, $2, 'Bench Writer', 'USER', $3, $3) ON CONFLICT DO NOTHING",
                WRITER_ID,
                WRITER_EMAIL,
                _OLD,
            )
            rows = await conn.fetch(
                'INSERT INTO "Post" ("authorId", "title", "content", "status", "views", '
                '"createdAt", "updatedAt") '
                "SELECT $1, 'write target ' || n, 'text', 'DRAFT', 0, $2, $2 "
                'FROM generate_series(1, $3) AS n RETURNING "id"',
                WRITER_ID,
                _OLD,
                WRITE_POSTS,
            )
    finally:
        await conn.close()
    return tuple(sorted(row["id"] for row in rows))


# -- SQLite -------------------------------------------------------------------------------


def sqlite_path(size: BlogSize, folder: Path) -> Path:
    """Where the SQLite copy of ``size`` lives in ``folder``."""
    return folder / f"blog-{size.posts}.db"


def blog_sqlite(size: BlogSize, folder: Path) -> Path:
    """A SQLite file in ``folder`` holding ``generate_blog(size)``, reused while its marker matches."""
    path = sqlite_path(size, folder)
    want = marker(size, SCHEMA_PATH.read_text(encoding="utf-8"))
    if path.is_file() and _sqlite_marker(path) == want:
        return path
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    push(load_schema(SCHEMA_PATH), f"file:{path}")
    data = generate_blog(size)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        with conn:
            for table in data.tables:
                marks = ", ".join("?" * len(table.columns))
                columns = ", ".join(f'"{c}"' for c in table.columns)
                conn.executemany(
                    f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})',
                    (tuple(map(_sqlite_value, row)) for row in table.rows),
                )
            conn.execute(f'CREATE TABLE "{META_TABLE}" ("key" TEXT PRIMARY KEY, "value" TEXT)')
            conn.executemany(f'INSERT INTO "{META_TABLE}" VALUES (?, ?)', list(want.items()))
            for statement in BENCH_INDEXES:
                conn.execute(statement)
        conn.execute("ANALYZE")
    finally:
        conn.close()
    print(f"  loaded {path} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return path


def _sqlite_marker(path: Path) -> dict[str, str] | None:
    conn = sqlite3.connect(path)
    try:
        rows: Sequence[tuple[str, str]] = conn.execute(
            f'SELECT "key", "value" FROM "{META_TABLE}"'
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return dict(rows)


def _sqlite_value(value: Any) -> Any:
    """DateTime as datatier (and Prisma 7) store it on SQLite: ISO text with milliseconds, UTC."""
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+00:00"
    return value
