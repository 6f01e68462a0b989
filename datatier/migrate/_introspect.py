"""``db pull``: read a live database and describe it as a schema.

``pull_schema_text`` connects, snapshots the catalog (the same readers ``db
push`` is judged by) and writes it as schema text; ``introspect`` validates that
text into the IR the schema loader gives, so a database and a schema file can
be compared IR to IR. Objects named ``_prisma_migrations`` or ``_datatier_*``
are never part of the result.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from datatier.config import mask_url, provider_for_url
from datatier.drivers import connect_sync, postgres_schema
from datatier.drivers._url import parse_sqlite_url
from datatier.errors import ConnectionFailed, DatatierError
from datatier.migrate._catalog import Catalog
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._introspect_hints import hints_from_schema
from datatier.migrate._introspect_render import PulledExtension, render_pulled_schema
from datatier.schema import validate_schema_text
from datatier.schema._ir import Schema

__all__ = ["EmptyDatabase", "introspect", "pull_schema_text", "read_catalog"]


class EmptyDatabase(DatatierError):
    """``db pull`` found no tables to describe."""

    code = "empty_database"


_EXTENSIONS = """
SELECT e.extname, n.nspname, e.extversion
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql' ORDER BY e.extname
"""


def read_catalog(
    url: str, schemas: Sequence[str] | None = None
) -> tuple[dict[str, Catalog], tuple[PulledExtension, ...]]:
    """The catalogs of the database at ``url`` by database schema, and its extensions.

    PostgreSQL reads ``schemas`` (default: the URL's ``?schema=``, else ``public``);
    SQLite has one schema, ``main``. Raises ``ConnectionFailed`` when the database
    cannot be reached.
    """
    if provider_for_url(url) == "sqlite":
        target = parse_sqlite_url(url)
        if target.path is not None and not target.path.is_file():
            raise ConnectionFailed(
                f"cannot open SQLite database {target.shown}: the file does not exist"
            )
    conn = connect_sync(url)
    try:
        if isinstance(conn, sqlite3.Connection):
            return {"main": read_sqlite_catalog(conn)}, ()
        try:
            names = list(schemas) if schemas else [postgres_schema(url)]
            catalogs = {name: read_postgres_catalog(conn, name) for name in names}
            rows = conn.execute(_EXTENSIONS).fetchall()
            return catalogs, tuple(PulledExtension(*row) for row in rows)
        finally:
            conn.rollback()
    finally:
        conn.close()


def pull_schema_text(
    url: str,
    *,
    provider: str | None = None,
    schemas: Sequence[str] | None = None,
    existing: Schema | None = None,
) -> str:
    """Schema text (datasource, models, enums, relations) for the database at ``url``.

    ``provider`` defaults to the URL's. ``schemas`` (PostgreSQL) pulls several database
    schemas into one schema, its models and enums marked with ``@@schema``, as the
    datasource's ``schemas`` lists them; by default only the URL's schema is read.
    ``existing`` is a schema that already describes the database: its model, field,
    enum and relation names, ``@updatedAt`` and client-side defaults (``uuid()``)
    are kept, which the database alone cannot tell (Prisma's re-introspection).
    Raises ``ConnectionFailed`` when the database cannot be reached and
    ``EmptyDatabase`` when it holds no tables and no enums.
    """
    provider = provider or provider_for_url(url)
    catalogs, extensions = read_catalog(url, schemas)
    if all(not c.tables and not c.enums for c in catalogs.values()):
        where = mask_url(url)
        if provider == "postgresql":
            where += f" (schema {', '.join(repr(name) for name in catalogs)})"
        raise EmptyDatabase(
            f"the database at {where} has no tables or enums to pull; "
            "check the URL (and its ?schema= on PostgreSQL), or create tables first "
            "(`datatier db push` or `datatier migrate dev`)"
        )
    return render_pulled_schema(
        catalogs,
        provider,
        extensions,
        multi_schema=bool(schemas) and provider == "postgresql",
        hints=hints_from_schema(existing),
    )


def introspect(
    url: str, *, schemas: Sequence[str] | None = None, existing: Schema | None = None
) -> Schema:
    """The database at ``url`` as a validated IR: ``validate_schema_text(pull_schema_text(url))``.

    ``schemas`` and ``existing`` as for :func:`pull_schema_text`.
    """
    text = pull_schema_text(url, schemas=schemas, existing=existing)
    return validate_schema_text(text, "pulled.prisma")
