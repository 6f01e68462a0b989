"""Database URLs as drivers need them: Prisma's parameters taken out, the target named for messages.

Prisma's connection URLs carry parameters of its own (``schema``, ``connection_limit``,
``pool_timeout``, ...) that libpq and asyncpg would reject or misread; both the sync and
the async drivers parse URLs here so they agree on what each parameter means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from datatier.config import mask_url
from datatier.errors import ConnectionFailed

__all__ = ["PostgresTarget", "SqliteTarget", "parse_postgres_url", "parse_sqlite_url"]

# Parameters of Prisma's connection URLs that mean nothing to libpq or asyncpg.
_PRISMA_PARAMS = frozenset(
    {
        "schema",
        "connection_limit",
        "pool_timeout",
        "socket_timeout",
        "pgbouncer",
        "statement_cache_size",
        "sslaccept",
        "sslidentity",
        "sslpassword",
    }
)


@dataclass(frozen=True, slots=True)
class PostgresTarget:
    """A PostgreSQL URL split into what the driver library takes and what datatier handles itself.

    ``dsn`` is the URL without Prisma's parameters; ``where`` is ``host:port`` for messages;
    ``connection_limit`` and ``pool_timeout`` are Prisma's pool parameters when the URL has them;
    ``pgbouncer`` is Prisma's ``pgbouncer=true`` (no named prepared statements survive there).
    """

    dsn: str
    schema: str
    where: str
    dbname: str | None
    connection_limit: int | None
    pool_timeout: float | None
    pgbouncer: bool = False


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    """A SQLite URL as a path to open (``None`` for an in-memory database) and how to name it."""

    path: Path | None
    shown: str


def parse_postgres_url(url: str) -> PostgresTarget:
    """Split a ``postgresql://`` URL; ``ConnectionFailed`` when libpq cannot read it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    prisma = dict((k, v) for k, v in query if k in _PRISMA_PARAMS)
    params = [(k, v) for k, v in query if k not in _PRISMA_PARAMS]
    dsn = urlunsplit(parts._replace(query=urlencode(params)))
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as e:
        raise ConnectionFailed(f"invalid PostgreSQL URL {mask_url(url)}: {e}") from None
    dbname = info.get("dbname")
    limit = _positive(url, prisma, "connection_limit")
    return PostgresTarget(
        dsn=dsn,
        schema=prisma.get("schema") or "public",
        where=f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}",
        dbname=str(dbname) if dbname is not None else None,
        connection_limit=max(1, round(limit)) if limit is not None else None,
        # As in Prisma, pool_timeout=0 waits for a free connection as long as it takes.
        pool_timeout=_positive(url, prisma, "pool_timeout", zero_means=math.inf),
        pgbouncer=prisma.get("pgbouncer", "").lower() == "true",
    )


def _positive(
    url: str, params: dict[str, str], name: str, *, zero_means: float | None = None
) -> float | None:
    text = params.get(name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value == 0 and zero_means is not None:
        return zero_means
    if value <= 0:
        raise ConnectionFailed(
            f"invalid PostgreSQL URL {mask_url(url)}: {name}={text!r} is not a positive number"
        )
    return value


def parse_sqlite_url(url: str) -> SqliteTarget:
    """The database a ``file:`` URL names; ``file::memory:`` (or an empty path) is in-memory."""
    _, _, rest = url.partition(":")
    rest = rest.partition("?")[0]
    if rest.startswith("//"):
        rest = rest[2:].partition("/")[2]
        rest = "/" + rest if url.lower().startswith("file:") else rest
    if rest in ("", ":memory:"):
        return SqliteTarget(None, "an in-memory database")
    path = Path(rest)
    if not path.parent.is_dir():
        raise ConnectionFailed(
            f"cannot open SQLite database {path}: directory {path.parent} does not exist"
        )
    return SqliteTarget(path, str(path))
