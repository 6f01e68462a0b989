"""The shadow database: an empty database of the project's kind to replay a history in.

Also reading a database's catalog by URL and emptying a database (``migrate reset``).
"""

from __future__ import annotations

import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql as pgsql

from datatier.config import (
    mask_url,
)
from datatier.drivers import connect_sync, postgres_schema
from datatier.errors import ConfigError, DatatierError
from datatier.migrate._catalog import Catalog
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._folders import (
    MigrationFolder,
)
from datatier.migrate._history import (
    MigrationError,
    history_store,
)
from datatier.schema import Schema

__all__ = [
    "SHADOW_URL_ENV",
    "empty_database",
    "postgres_schema_of",
    "read_catalog",
    "replay",
    "shadow_database",
    "wait_for_shadow_drops",
]

SHADOW_URL_ENV = "SHADOW_DATABASE_URL"


def read_catalog(url: str) -> Catalog:
    """The catalog of the database at ``url`` (its ``?schema=`` on PostgreSQL)."""
    conn = connect_sync(url)
    try:
        if isinstance(conn, sqlite3.Connection):
            return read_sqlite_catalog(conn)
        return read_postgres_catalog(conn, postgres_schema(url))
    finally:
        conn.close()


def postgres_schema_of(url: str) -> str:
    """The database schema a URL works in (``public`` unless ``?schema=``; ignored on SQLite)."""
    return "main" if url.startswith(("file:", "sqlite:")) else postgres_schema(url)


def replay(url: str, folders: Sequence[MigrationFolder]) -> None:
    """Run the up scripts of ``folders`` on the (shadow) database at ``url``, unrecorded."""
    conn = connect_sync(url)
    try:
        store = history_store(conn)
        for folder in folders:
            try:
                store.run_script(folder.up_sql, _nothing)
            except MigrationError as error:
                raise MigrationError(
                    f"migration {folder.name} failed to apply cleanly to the shadow database: "
                    f"{error.message}. Fix the migration (it must apply to an empty database "
                    "after the ones before it)"
                ) from None
    finally:
        conn.close()


def _nothing() -> None:
    return None


@contextmanager
def shadow_database(
    provider: str, *, server_url: str | None, shadow_url: str | None = None
) -> Iterator[str]:
    """The URL of an empty database of ``provider``, for replaying a history.

    SQLite: a file in a temporary folder. PostgreSQL: ``shadow_url`` when given (``shadowDatabaseUrl``,
    ``SHADOW_DATABASE_URL`` or ``--shadow-url``), emptied first; else a new
    ``_datatier_shadow_<random>`` database on ``server_url``'s server, dropped afterwards.
    """
    if provider == "sqlite":
        with tempfile.TemporaryDirectory(prefix="datatier_shadow_") as folder:
            yield f"file:{Path(folder) / 'shadow.db'}"
        return
    if shadow_url is not None:
        if shadow_url == server_url:
            raise ConfigError(
                "the shadow database URL is the development database's; it must name another, "
                "disposable database (it is emptied on every use)"
            )
        empty_database(shadow_url)
        yield shadow_url
        return
    if server_url is None:
        raise ConfigError(
            "replaying migrations on PostgreSQL needs a shadow database: pass --shadow-url "
            f"(or set {SHADOW_URL_ENV}) to an empty database that may be emptied"
        )
    name = f"_datatier_shadow_{secrets.token_hex(6)}"
    admin = _admin(server_url)
    try:
        try:
            admin.execute(pgsql.SQL("CREATE DATABASE {}").format(pgsql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            user = urlsplit(server_url).username or "the connecting role"
            raise MigrationError(
                f"migrate needs a temporary shadow database to replay the migrations in, but "
                f"{user} may not create databases on {mask_url(server_url)}. Either grant it "
                f"(`ALTER ROLE {user} CREATEDB`), or create an empty database for the purpose "
                f'and name it in the datasource (`shadowDatabaseUrl = env("SHADOW_DATABASE_URL")`), '
                f"the {SHADOW_URL_ENV} environment variable or --shadow-url"
            ) from None
    finally:
        admin.close()
    try:
        shadow = _with_database(server_url, name)
        db_schema = postgres_schema(shadow)
        if db_schema != "public":  # the history's objects go where the URL's ?schema= says
            with _admin(shadow) as conn:
                conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(db_schema)))
        yield shadow
    finally:
        # Dropping a database takes a second or more; it runs while the command goes on.
        thread = threading.Thread(target=_drop_database, args=(server_url, name, _drop_errors))
        thread.start()
        _drops.append(thread)


_drops: list[threading.Thread] = []
_drop_errors: list[str] = []


def _drop_database(server_url: str, name: str, errors: list[str]) -> None:
    try:
        admin = _admin(server_url)
        try:
            admin.execute(
                pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(name))
            )
        finally:
            admin.close()
    except (DatatierError, psycopg.Error) as error:
        errors.append(f"the shadow database {name} could not be dropped ({error}); drop it by hand")


def wait_for_shadow_drops() -> list[str]:
    """Wait until the shadow databases given up so far are dropped; what went wrong, if anything."""
    while _drops:
        _drops.pop().join()
    errors = list(_drop_errors)
    _drop_errors.clear()
    return errors


def _admin(url: str) -> psycopg.Connection[Any]:
    conn = connect_sync(url)
    if not isinstance(conn, psycopg.Connection):
        conn.close()
        raise ConfigError(f"{mask_url(url)} is not a PostgreSQL URL")
    conn.autocommit = True
    return conn


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


# -- emptying a database -----------------------------------------------------------------


def empty_database(url: str, schema: Schema | None = None) -> None:
    """Drop every table, view, type and sequence at ``url`` (in ``schema``'s database schemas too)."""
    conn = connect_sync(url)
    try:
        if isinstance(conn, sqlite3.Connection):
            _empty_sqlite(conn)
        else:
            names = dict.fromkeys(
                [
                    postgres_schema(url),
                    *(schema.datasource.schemas if schema and schema.datasource else ()),
                    *(m.schema for m in (schema.models if schema else ()) if m.schema is not None),
                ]
            )
            conn.autocommit = True
            for name in names:
                ident = pgsql.Identifier(name)
                conn.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident))
                conn.execute(pgsql.SQL("CREATE SCHEMA {}").format(ident))
    finally:
        conn.close()


def _empty_sqlite(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        objects = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'table', 'trigger') "
            "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table'"
        ).fetchall()
        for kind, name in objects:
            conn.execute(f'DROP {kind.upper()} IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            conn.execute("DELETE FROM sqlite_sequence")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
