"""``open_driver``: a database URL to a pooled async driver for that database."""

from __future__ import annotations

from datatier.config import provider_for_url
from datatier.drivers._postgres import PostgresDriver
from datatier.drivers._protocol import Driver
from datatier.drivers._sqlite import SqliteDriver
from datatier.drivers._url import parse_postgres_url, parse_sqlite_url
from datatier.errors import ConfigError

__all__ = ["open_driver"]


async def open_driver(
    url: str,
    *,
    pool_size: int = 10,
    acquire_timeout: float = 10.0,
    statement_timeout: float | None = None,
    connect_timeout: float = 5.0,
) -> Driver:
    """A driver for ``url`` (``postgresql://``, ``postgres://``, ``file:``) with one connection open.

    Prisma's ``connection_limit`` and ``pool_timeout`` URL parameters, when present, win
    over ``pool_size`` and ``acquire_timeout``: whoever wrote them into the URL meant them
    for this database. ``statement_timeout`` (seconds) cancels longer statements with
    ``QueryTimeout``. The first connection is opened here, so a bad URL, password or
    server fails at startup with ``ConnectionFailed``; the others open as they are needed.
    """
    if pool_size < 1:
        raise ConfigError(f"pool_size must be at least 1, not {pool_size}")
    driver = _make_driver(url, pool_size, acquire_timeout, statement_timeout, connect_timeout)
    async with driver.connection():
        pass
    return driver


def _make_driver(
    url: str,
    pool_size: int,
    acquire_timeout: float,
    statement_timeout: float | None,
    connect_timeout: float,
) -> Driver:
    provider = provider_for_url(url)
    if provider == "postgresql":
        target = parse_postgres_url(url)
        return PostgresDriver(
            target,
            pool_size=target.connection_limit or pool_size,
            acquire_timeout=target.pool_timeout or acquire_timeout,
            statement_timeout=statement_timeout,
            connect_timeout=connect_timeout,
        )
    if provider == "sqlite":
        return SqliteDriver(
            parse_sqlite_url(url),
            pool_size=pool_size,
            acquire_timeout=acquire_timeout,
            statement_timeout=statement_timeout,
        )
    raise ConfigError(f"no async driver for {provider} yet; use PostgreSQL or SQLite")
