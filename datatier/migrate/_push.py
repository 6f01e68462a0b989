"""``db push``: make a database match the schema, without a migration history.

An empty database gets the schema's DDL in Prisma's order. A database that
differs is introspected, the change planned as ``migrate dev`` plans it and
applied in one transaction (outside one where SQLite must rebuild tables with
foreign keys off); a change that would lose rows that exist stops unless
``accept_data_loss``. Renames are never guessed: a renamed field is a drop and
an add, which the data-loss check catches when the old column holds values.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa

from datatier.config import mask_url, provider_for_url
from datatier.dialects import get_dialect
from datatier.drivers import connect_sync, postgres_schema
from datatier.errors import DatabaseNotEmpty, DatatierError
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._ddl import create_elements, in_schema_order, to_metadata
from datatier.schema._ir import Schema

__all__ = ["DataLossError", "PushReport", "for_provider", "push"]

_SHOWN_DIFFERENCES = 20


@dataclass(frozen=True)
class PushReport:
    """What ``push`` did: ``created`` is False when the database already matched the schema."""

    url: str  # password masked
    provider: str
    created: bool
    changes: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    foreign_keys: tuple[str, ...] = ()
    enums: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the user: what was created, or that nothing changed."""
        if self.changes:
            n = len(self.changes)
            return f"{self.url}: updated to match the schema ({n} change{'s' if n != 1 else ''})"
        if not self.created:
            return f"{self.url}: already in sync with the schema, nothing changed"
        counts = [
            _count(len(self.tables), "table"),
            _count(len(self.indexes), "index", "indexes"),
            _count(len(self.foreign_keys), "foreign key"),
        ]
        if self.enums:
            counts.append(_count(len(self.enums), "enum"))
        return f"{self.url}: created {', '.join(counts)}"


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def push(
    schema: Schema,
    url: str,
    provider: str | None = None,
    *,
    accept_data_loss: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> PushReport:
    """Make the database at ``url`` match ``schema``: create it when empty, else update it.

    ``provider`` defaults to the URL's. Raises ``DataLossError`` (listing what would be
    lost) when the update drops rows or values that exist, unless ``accept_data_loss``;
    ``DatabaseNotEmpty`` when a database with named schemas (``@@schema``) differs;
    ``ConnectionFailed`` when it cannot be reached. On failure nothing is written.
    ``confirm`` (on a terminal) is asked whether to go on despite the data loss.
    """
    provider = provider or provider_for_url(url)
    dialect = get_dialect(provider)
    named_schemas = tuple(
        dict.fromkeys(
            [*(schema.datasource.schemas if schema.datasource else ()), *_model_schemas(schema)]
        )
    )
    metadata = to_metadata(schema, dialect)
    statements = [dialect.compile(e) for e in create_elements(metadata, dialect)]
    report = _report(metadata, mask_url(url), dialect.name, statements)
    conn = connect_sync(url)
    try:
        if isinstance(conn, sqlite3.Connection):
            created = _push_sqlite(conn, statements, report.url)
        elif named_schemas:
            created = _push_postgres_schemas(conn, statements, named_schemas, report.url)
        else:
            created = _push_postgres(conn, statements, postgres_schema(url), report.url)
    except _Differs:
        return _update(schema, url, dialect.name, conn, accept_data_loss, confirm)
    finally:
        conn.close()
    if not created:
        return PushReport(url=report.url, provider=report.provider, created=False)
    return report


def for_provider(schema: Schema, provider: str) -> Schema:
    """``schema`` as run on ``provider``: a portable schema declared for another database
    takes the provider its URL picks, so it compares with what introspection reads back."""
    datasource = schema.datasource
    if datasource is None or datasource.provider == provider or not schema.is_portable:
        return schema
    return dataclasses.replace(
        schema, datasource=dataclasses.replace(datasource, provider=provider)
    )


class _Differs(Exception):
    """The database is not empty and differs from the schema: ``push`` updates it."""


class DataLossError(DatatierError):
    """``db push`` would drop rows or values that exist; nothing was changed."""

    code = "data_loss"


def _update(
    schema: Schema,
    url: str,
    provider: str,
    conn: psycopg.Connection[Any] | sqlite3.Connection,
    accept_data_loss: bool,
    confirm: Callable[[str], bool] | None,
) -> PushReport:
    """Plan the change from the live database (introspected) to ``schema`` and apply it."""
    from datatier.migrate._history import history_store
    from datatier.migrate._introspect import EmptyDatabase, introspect
    from datatier.migrate._plan import plan_migration

    try:
        # The schema lends what the database cannot show (relation names, client-side
        # defaults), so only real differences are planned.
        schemas = list(schema.datasource.schemas) if schema.datasource is not None else []
        live: Schema | None = introspect(url, schemas=schemas or None, existing=schema)
    except EmptyDatabase:
        live = None
    plan = plan_migration(live, for_provider(schema, provider), provider)
    shown = mask_url(url)
    if plan.is_empty:
        return PushReport(url=shown, provider=provider, created=False)
    store = history_store(conn)
    losses = store.data_losses(plan.data_loss)
    risk = f"db push would lose data in {shown}:\n" + "\n".join(f"  - {x}" for x in losses)
    if (
        losses
        and not accept_data_loss
        and (confirm is None or not confirm(f"{risk}\nPush anyway?"))
    ):
        raise DataLossError(
            f"{risk}\nNothing was changed. Pass --accept-data-loss to push anyway, or use "
            "`datatier migrate dev` to write a migration you can edit (renames keep data there)"
        )
    try:
        store.run_script(plan.up_sql, lambda: None)
    except DatatierError as error:
        raise DatatierError(f"db push failed, nothing was changed: {error.message}") from None
    return PushReport(
        url=shown,
        provider=provider,
        created=False,
        changes=tuple(plan.summary),
        statements=(plan.up_sql,),
    )


def _report(metadata: sa.MetaData, url: str, provider: str, statements: list[str]) -> PushReport:
    tables = list(metadata.tables.values())
    return PushReport(
        url=url,
        provider=provider,
        created=True,
        tables=tuple(t.name for t in tables),
        indexes=tuple(str(i.name) for t in tables for i in in_schema_order(t.indexes)),
        foreign_keys=tuple(
            str(fk.name) for t in tables for fk in in_schema_order(t.foreign_key_constraints)
        ),
        enums=tuple(str(getattr(e, "name", e)) for e in metadata.info.get("enums", [])),
        statements=tuple(statements),
    )


def _push_postgres(
    conn: psycopg.Connection[Any], statements: list[str], db_schema: str, url: str
) -> bool:
    actual = read_postgres_catalog(conn, db_schema)
    conn.rollback()
    if _is_empty(actual):
        prologue = (
            [] if db_schema == "public" else [f"CREATE SCHEMA IF NOT EXISTS {_ident(db_schema)}"]
        )
        _run_postgres(conn, prologue + statements)
        return True
    scratch = f"_datatier_push_{uuid.uuid4().hex[:12]}"
    with conn.transaction(force_rollback=True):
        conn.execute(f"CREATE SCHEMA {_ident(scratch)}".encode())
        # The database's own schema stays on the path for types of installed extensions.
        conn.execute(f"SET LOCAL search_path TO {_ident(scratch)}, {_ident(db_schema)}".encode())
        _run_postgres(conn, statements)
        expected = _unqualify(read_postgres_catalog(conn, scratch), db_schema)
    _refuse_unless_same(expected, actual, url)
    return False


def _push_postgres_schemas(
    conn: psycopg.Connection[Any], statements: list[str], db_schemas: tuple[str, ...], url: str
) -> bool:
    """``push`` for a schema whose models live in named database schemas (``@@schema``).

    The expected catalog comes from running the DDL inside a transaction that is rolled
    back, with the existing schemas renamed out of the way for its duration.
    """
    actual = {name: read_postgres_catalog(conn, name) for name in db_schemas}
    conn.rollback()
    if all(_is_empty(c) for c in actual.values()):
        _run_postgres(conn, statements)
        return True
    with conn.transaction(force_rollback=True):
        existing = {
            row[0]
            for row in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (list(db_schemas),)
            )
        }
        for name in sorted(existing):
            scratch = f"_datatier_push_{uuid.uuid4().hex[:12]}"
            conn.execute(f"ALTER SCHEMA {_ident(name)} RENAME TO {_ident(scratch)}".encode())
        _run_postgres(conn, statements)
        expected = {name: read_postgres_catalog(conn, name) for name in db_schemas}
    differences = [
        f"schema {_ident(name)}: {d}"
        for name in db_schemas
        for d in diff_catalogs(expected[name], actual[name])
    ]
    if differences:
        raise DatabaseNotEmpty(_not_empty_message(url, differences))
    return False


def _model_schemas(schema: Schema) -> list[str]:
    return [m.schema for m in schema.models if m.schema is not None] + [
        e.schema for e in schema.enums if e.schema is not None
    ]


def _unqualify(catalog: Catalog, db_schema: str) -> Catalog:
    """Column types from ``db_schema`` (extension types such as citext) named as read from there."""
    prefixes = (f"{db_schema}.", f"{_ident(db_schema)}.")

    def strip(type_: str) -> str:
        for prefix in prefixes:
            if type_.startswith(prefix):
                return type_[len(prefix) :]
        return type_

    tables = [
        dataclasses.replace(
            t, columns=tuple(dataclasses.replace(c, type=strip(c.type)) for c in t.columns)
        )
        for t in catalog.tables
    ]
    return dataclasses.replace(catalog, tables=tuple(tables))


def _run_postgres(conn: psycopg.Connection[Any], statements: list[str]) -> None:
    """All of ``statements`` in one transaction (a savepoint inside an open one)."""
    with conn.transaction():
        for statement in statements:
            try:
                conn.execute(statement.encode())
            except psycopg.Error as e:
                raise _apply_failed(statement, str(e)) from None


def _push_sqlite(conn: sqlite3.Connection, statements: list[str], url: str) -> bool:
    actual = read_sqlite_catalog(conn)
    if _is_empty(actual):
        conn.execute("BEGIN")
        try:
            _run_sqlite(conn, statements)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return True
    scratch = sqlite3.connect(":memory:", isolation_level=None)
    try:
        _run_sqlite(scratch, statements)
        expected = read_sqlite_catalog(scratch)
    finally:
        scratch.close()
    _refuse_unless_same(expected, actual, url)
    return False


def _run_sqlite(conn: sqlite3.Connection, statements: list[str]) -> None:
    for statement in statements:
        try:
            conn.execute(statement)
        except sqlite3.Error as e:
            raise _apply_failed(statement, str(e)) from None


def _apply_failed(statement: str, error: str) -> DatatierError:
    first_line = statement.splitlines()[0]
    reason = error.strip().splitlines()[0] if error.strip() else "unknown error"
    return DatatierError(f"db push failed, nothing was changed: {reason} (in `{first_line}`)")


def _is_empty(catalog: Catalog) -> bool:
    return not catalog.tables and not catalog.enums


def _refuse_unless_same(expected: Catalog, actual: Catalog, url: str) -> None:
    del url
    if diff_catalogs(expected, actual):
        raise _Differs


def _not_empty_message(url: str, differences: Sequence[str]) -> str:
    shown = [f"  - {d}" for d in differences[:_SHOWN_DIFFERENCES]]
    if len(differences) > _SHOWN_DIFFERENCES:
        shown.append(f"  ... and {len(differences) - _SHOWN_DIFFERENCES} more")
    n = len(differences)
    return "\n".join(
        [
            f"the database at {url} is not empty and differs from the schema "
            f"({n} difference{'s' if n != 1 else ''}; expected = schema, actual = database):",
            *shown,
            "db push cannot update a database whose models live in named schemas (@@schema) "
            "yet: change it with migrations (`datatier migrate dev`), or push to a fresh database.",
        ]
    )


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
