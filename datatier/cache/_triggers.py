"""Database triggers that record change events for writes made outside datatier (PostgreSQL).

With triggers, a row written by psql or another service lands in the outbox exactly as one
written by datatier's engine: ``create``/``update``/``delete`` with the row's key text for
model tables (an update that changes the key records the old key too), and ``link`` for
both rows of an implicit many-to-many join table row. The relay stamps them within its
poll interval and every process's cache hears them.

Installed on request (``datatier db push --cache-triggers``, ``datatier migrate dev|deploy
--cache-triggers``, or ``[cache] external_writes = true``), and reinstalled by those
commands whenever they find them installed, so they follow the schema. Every function and
trigger is named ``_datatier_change_*``: drift checks, ``db pull`` and catalog comparisons
ignore ``_datatier_`` objects. While they are installed the engine records nothing itself
(``ChangeBus.external_triggers``), or every write would be recorded twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from datatier.drivers import Connection, SyncConnection
from datatier.query._changes import OUTBOX_TABLE, outbox_ddl
from datatier.query._model_info import SchemaInfo
from datatier.schema._ir import Field, Schema

__all__ = [
    "TriggerPlan",
    "apply_triggers_sync",
    "drop_triggers_sql",
    "plan_triggers",
    "sync_triggers",
    "triggers_installed",
    "triggers_installed_sync",
]

PREFIX = "_datatier_change_"

# Key types whose JSON from PostgreSQL's to_json is the same text as key_text() of the
# value the engine decodes (ints, strings, UUIDs as strings, enums, booleans).
_EXACT_TYPES = frozenset({"Int", "BigInt", "String", "Boolean"})

_INSTALLED_SQL = (
    "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
    " WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal"
    " AND t.tgname LIKE '\\_datatier\\_change\\_%' LIMIT 1"
)


@dataclass(frozen=True, slots=True)
class TriggerPlan:
    """The statements that (re)install the triggers, the models left without one (their
    key type has no exact SQL spelling; writes to them outside datatier go unseen) and the
    tables that do not exist (yet)."""

    statements: tuple[str, ...]
    skipped: tuple[str, ...]
    missing: tuple[str, ...] = ()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _name(table: str) -> str:
    # Identifiers stop at 63 bytes; a long table name keeps a readable head and a hash.
    name = PREFIX + table
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.blake2b(table.encode(), digest_size=4).hexdigest()
    return f"{PREFIX}{table.encode()[:36].decode(errors='ignore')}_{digest}"


def _exact(field: Field) -> bool:
    return field.kind == "enum" or field.type in _EXACT_TYPES


def _key(row: str, columns: Sequence[str]) -> str:
    parts = " || ',' || ".join(f"to_json({row}.{_ident(c)})::text" for c in columns)
    return f"'[' || {parts} || ']'"


def _function(schema: str, name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {_ident(schema)}.{_ident(name)}() RETURNS trigger"
        f" LANGUAGE plpgsql AS $datatier$\nBEGIN\n{body}  RETURN NULL;\nEND\n$datatier$"
    )


def _trigger(schema: str, table_schema: str, table: str, name: str, events: str) -> list[str]:
    target = f"{_ident(table_schema)}.{_ident(table)}"
    return [
        f"DROP TRIGGER IF EXISTS {_ident(name)} ON {target}",
        f"CREATE TRIGGER {_ident(name)} AFTER {events} ON {target} FOR EACH ROW"
        f" EXECUTE FUNCTION {_ident(schema)}.{_ident(name)}()",
    ]


def plan_triggers(
    schema: Schema, db_schema: str, present: Callable[[str, str], bool] | None = None
) -> TriggerPlan:
    """Statements installing a trigger on every model table and implicit many-to-many join
    table of ``schema`` (the outbox and the functions live in ``db_schema``). With
    ``present`` (database schema, table) -> bool, tables it denies are left out and named
    in ``missing`` (migrations that have not created them yet)."""
    info = SchemaInfo(schema)
    missing: list[str] = []

    def absent(table_schema: str, table: str) -> bool:
        if present is None or present(table_schema, table):
            return False
        missing.append(table)
        return True

    outbox = f'{_ident(db_schema)}.{_ident(OUTBOX_TABLE)} ("model", "op", "key")'
    # The outbox, created in the connection's schema (the search path) if missing.
    statements = list(outbox_ddl("postgresql"))
    skipped: list[str] = []
    for model in info.models.values():
        if model.model.is_view or not model.key_fields:
            continue
        if not all(_exact(model.scalars[f]) for f in model.key_fields):
            skipped.append(model.name)
            continue
        if absent(model.model.schema or db_schema, model.model.db_name):
            continue
        name = _name(model.model.db_name)
        old, new = _key("OLD", model.key_columns), _key("NEW", model.key_columns)
        label = _literal(model.name)
        body = (
            "  IF TG_OP = 'INSERT' THEN\n"
            f"    INSERT INTO {outbox} VALUES ({label}, 'create', {new});\n"
            "  ELSIF TG_OP = 'DELETE' THEN\n"
            f"    INSERT INTO {outbox} VALUES ({label}, 'delete', {old});\n"
            "  ELSE\n"
            f"    INSERT INTO {outbox} VALUES ({label}, 'update', {new});\n"
            f"    IF {old} IS DISTINCT FROM {new} THEN\n"
            f"      INSERT INTO {outbox} VALUES ({label}, 'update', {old});\n"
            "    END IF;\n"
            "  END IF;\n"
        )
        statements.append(_function(db_schema, name, body))
        statements += _trigger(
            db_schema,
            model.model.schema or db_schema,
            model.model.db_name,
            name,
            "INSERT OR UPDATE OR DELETE",
        )
    for join in schema.join_tables:
        if absent(join.schema or db_schema, join.table):
            continue
        name = _name(join.table)
        a, b = _literal(join.model_a), _literal(join.model_b)
        body = ""
        for row, when in (("NEW", "TG_OP <> 'DELETE'"), ("OLD", "TG_OP <> 'INSERT'")):
            body += (
                f"  IF {when} THEN\n"
                f"    INSERT INTO {outbox} VALUES ({a}, 'link', {_key(row, ['A'])}),"
                f" ({b}, 'link', {_key(row, ['B'])});\n"
                "  END IF;\n"
            )
        statements.append(_function(db_schema, name, body))
        statements += _trigger(
            db_schema, join.schema or db_schema, join.table, name, "INSERT OR UPDATE OR DELETE"
        )
    return TriggerPlan(tuple(statements), tuple(skipped), tuple(missing))


def drop_triggers_sql() -> str:
    """A DO block dropping every ``_datatier_change_*`` function in the current schema,
    and with it (CASCADE) every trigger that runs one."""
    return (
        "DO $datatier$ DECLARE f regprocedure; BEGIN"
        " FOR f IN SELECT p.oid::regprocedure FROM pg_proc p"
        " WHERE p.pronamespace = current_schema()::regnamespace"
        " AND p.proname LIKE '\\_datatier\\_change\\_%' LOOP"
        " EXECUTE 'DROP FUNCTION ' || f || ' CASCADE'; END LOOP; END $datatier$"
    )


def apply_triggers_sync(conn: SyncConnection, schema: Schema, db_schema: str) -> TriggerPlan:
    """Drop the installed triggers and install those of ``schema``, in one transaction on a
    PostgreSQL connection from ``connect_sync``; the plan that was applied."""

    def present(table_schema: str, table: str) -> bool:
        row = conn.execute(
            "SELECT to_regclass(quote_ident(%s) || '.' || quote_ident(%s))",
            [table_schema, table],
        ).fetchone()
        return row is not None and row[0] is not None

    # psycopg opened a transaction for any earlier read; inside one, transaction() would be
    # a savepoint and nothing would be committed.
    conn.commit()
    with conn.transaction():  # type: ignore[union-attr]
        plan = plan_triggers(schema, db_schema, present)
        conn.execute(drop_triggers_sql())
        for statement in plan.statements:
            conn.execute(statement)
    return plan


def triggers_installed_sync(conn: SyncConnection) -> bool:
    """Whether change triggers are installed in the connection's schema (PostgreSQL)."""
    return conn.execute(_INSTALLED_SQL).fetchone() is not None


async def triggers_installed(conn: Connection, provider: str) -> bool:
    """Whether change-event triggers are installed in the connection's schema."""
    if provider != "postgresql":
        return False
    return await conn.fetch_one(_INSTALLED_SQL) is not None


def sync_triggers(url: str, schema: Schema, *, requested: bool) -> list[str]:
    """After ``db push`` / ``migrate``: install the triggers when ``requested``, reinstall them
    when they are installed already (so they follow the schema); the lines to print."""
    from datatier.config import provider_for_url
    from datatier.drivers import connect_sync, postgres_schema
    from datatier.errors import ConfigError

    if provider_for_url(url) != "postgresql":
        if requested:
            raise ConfigError(
                "--cache-triggers needs PostgreSQL (SQLite has no other writers to watch);"
                " leave the flag out or [cache] external_writes = false"
            )
        return []
    conn = connect_sync(url)
    try:
        if not (requested or triggers_installed_sync(conn)):
            return []
        plan = apply_triggers_sync(conn, schema, postgres_schema(url))
    finally:
        conn.close()
    tables = sum(1 for s in plan.statements if s.startswith("CREATE TRIGGER"))
    lines = [f"Cache triggers: {tables} table(s) record their changes for the cache"]
    if plan.missing:
        lines.append(
            "  warning: no trigger for the missing table(s) "
            + ", ".join(plan.missing)
            + "; run the command again once they exist"
        )
    if plan.skipped:
        lines.append(
            "  warning: no trigger for "
            + ", ".join(plan.skipped)
            + " (key type without an exact key text); their writes outside datatier stay unseen"
        )
    return lines
