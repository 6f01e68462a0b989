"""Database URLs as the drivers read them: Prisma's parameters understood, the rest passed on."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from datatier.drivers._url import parse_postgres_url, parse_sqlite_url
from datatier.errors import ConnectionFailed


def test_prisma_parameters_are_taken_out_of_the_dsn() -> None:
    target = parse_postgres_url(
        "postgresql://u:pw@db.example:6543/app?schema=tenant&connection_limit=4"
        "&pool_timeout=0&pgbouncer=true&sslmode=require"
    )
    assert target.dsn == "postgresql://u:pw@db.example:6543/app?sslmode=require"
    assert (target.schema, target.where, target.dbname) == ("tenant", "db.example:6543", "app")
    assert (target.connection_limit, target.pool_timeout, target.pgbouncer) == (4, math.inf, True)


def test_defaults_without_parameters() -> None:
    target = parse_postgres_url("postgres://localhost/app")
    assert (target.schema, target.where, target.connection_limit, target.pool_timeout) == (
        "public",
        "localhost:5432",
        None,
        None,
    )
    assert not target.pgbouncer


@pytest.mark.parametrize(
    "param", ["connection_limit=0", "connection_limit=many", "pool_timeout=-1"]
)
def test_bad_pool_parameters_are_named(param: str) -> None:
    with pytest.raises(
        ConnectionFailed, match=param.partition("=")[0] + r".*not a positive number"
    ):
        parse_postgres_url(f"postgresql://localhost/app?{param}")


def test_sqlite_urls(tmp_path: Path) -> None:
    assert parse_sqlite_url(f"file:{tmp_path}/dev.db").path == tmp_path / "dev.db"
    assert parse_sqlite_url("file::memory:").path is None
    assert (
        parse_sqlite_url(f"file:{tmp_path}/dev.db?connection_limit=1").path == tmp_path / "dev.db"
    )
    with pytest.raises(ConnectionFailed, match="does not exist"):
        parse_sqlite_url(f"file:{tmp_path}/missing/dev.db")
