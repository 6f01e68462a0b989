"""A fresh database per test: a new PostgreSQL database, or a Redis logical database no one else holds."""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

__all__ = ["REDIS_DATABASES", "fresh_postgres_database", "fresh_redis_database", "with_database"]

# Database 0 is left alone: it is where people keep their own data on a shared server.
REDIS_DATABASES = range(1, 16)


def with_database(url: str, name: str) -> str:
    """``url`` with its path (the database name or number) replaced by ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create ``datatier_t_<random hex>`` on the server, yield its URL, drop it (forcibly) afterwards."""
    name = f"datatier_t_{secrets.token_hex(8)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def fresh_redis_database(server_url: str, *, wait: float = 120.0) -> Iterator[str]:
    """Hold one of databases 1..15 of the server, flushed before and after, and yield its URL.

    The hold is an exclusive file lock per server and number, so tests in other
    xdist workers (or other test runs on the same machine) never share a database.
    """
    lock_fd, number = _lock_redis_database(server_url, wait)
    try:
        url = with_database(server_url, str(number))
        _flush(url)
        try:
            yield url
        finally:
            _flush(url)
    finally:
        fcntl.flock(lock_fd, fcntl.LOCK_UN)
        os.close(lock_fd)


def _lock_redis_database(server_url: str, wait: float) -> tuple[int, int]:
    lock_dir = Path(tempfile.gettempdir()) / "datatier-redis-locks"
    lock_dir.mkdir(exist_ok=True)
    address = urlsplit(server_url).netloc.rpartition("@")[2] or "localhost"
    prefix = re.sub(r"[^A-Za-z0-9]+", "_", address)
    deadline = time.monotonic() + wait
    while True:
        for number in REDIS_DATABASES:
            fd = os.open(lock_dir / f"{prefix}-{number}.lock", os.O_CREAT | os.O_RDWR, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd, number
        if time.monotonic() > deadline:
            raise TimeoutError(f"all Redis databases 1..15 on {address} stayed in use for {wait:.0f}s")
        time.sleep(0.05)


def _flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
