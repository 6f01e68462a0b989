"""The migration commands behind the CLI: each takes a ``Project`` and returns a report.

``deploy``, ``status``, ``rollback``, ``reset``, ``resolve``, ``dev``, ``diff`` and
``seed`` never print and never ask: where a question arises (a rename, data
loss) they take the answer as an argument or stop with a ``MigrationError``
that names the flag giving it. The CLI prints the reports.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql as pgsql

from datatier.config import (
    check_provider,
    find_schema,
    load_config,
    mask_url,
    resolve_url,
)
from datatier.drivers import connect_sync, postgres_schema
from datatier.errors import ConfigError, DatatierError
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._catalog_postgres import read_postgres_catalog
from datatier.migrate._catalog_sqlite import read_sqlite_catalog
from datatier.migrate._folders import (
    DOWN_FILE,
    MigrationFolder,
    check_lock,
    migrations_dir,
    read_migrations,
)
from datatier.migrate._history import (
    HistoryRow,
    HistoryStore,
    MigrationError,
    history_store,
    split_sqlite_script,
    who_ran_it,
)
from datatier.schema import Schema, load_schema

__all__ = [
    "DeployReport",
    "DevReport",
    "DiffSource",
    "HistoryState",
    "Project",
    "ResetReport",
    "RollbackReport",
    "StatusReport",
    "analyse",
    "deploy",
    "dev",
    "diff",
    "open_project",
    "parse_rename",
    "read_catalog",
    "replay",
    "reset",
    "resolve",
    "rollback",
    "run_seed",
    "shadow_database",
    "status",
    "wait_for_shadow_drops",
]

SHADOW_URL_ENV = "SHADOW_DATABASE_URL"
EXIT_IN_SYNC, EXIT_PENDING, EXIT_FAILED, EXIT_DIVERGED, EXIT_DRIFT = 0, 2, 3, 4, 5


@dataclass(frozen=True)
class Project:
    """Everything a migration command works on: the schema, its database and its history."""

    schema_path: Path
    schema: Schema
    url: str
    provider: str
    migrations: Path
    shadow_url: str | None = None
    seed: Path | None = None
    cwd: Path = field(default_factory=Path.cwd)

    @property
    def shown_url(self) -> str:
        return mask_url(self.url)

    def folders(self) -> list[MigrationFolder]:
        """The migration folders, after checking ``migration_lock.toml`` agrees with the provider."""
        check_lock(self.migrations, self.provider)
        return read_migrations(self.migrations)


def open_project(
    cwd: Path,
    env: Mapping[str, str],
    *,
    schema: str | None = None,
    url: str | None = None,
    shadow_url: str | None = None,
) -> Project:
    """Load the schema and settle the database URL, provider, shadow database and seed script."""
    config = load_config(cwd, env, schema=schema, url=url)
    path = find_schema(config, cwd)
    loaded = load_schema(path)
    datasource = loaded.datasource
    database_url = resolve_url(config, env, datasource.url if datasource else None, path)
    provider = check_provider(loaded.provider or "sqlite", loaded.is_portable, database_url)
    shadow = shadow_url or env.get(SHADOW_URL_ENV) or None
    if shadow is None and datasource is not None and datasource.shadow_database_url is not None:
        source = datasource.shadow_database_url
        shadow = env.get(source.env) if source.env is not None else source.value
    if shadow is not None and shadow == database_url:
        raise ConfigError(
            "the shadow database URL is the development database's; it must name another, "
            "disposable database (it is emptied on every use)"
        )
    seed = config.extra.get("seed")
    return Project(
        schema_path=path,
        schema=loaded,
        url=database_url,
        provider=provider,
        migrations=migrations_dir(path),
        shadow_url=shadow or None,
        seed=Path(seed) if seed is not None else None,
        cwd=cwd,
    )


# -- the history, judged against the folders ---------------------------------------------


@dataclass(frozen=True)
class HistoryState:
    """The folders on disk against the rows of ``_prisma_migrations``."""

    applied: tuple[str, ...]
    pending: tuple[MigrationFolder, ...]
    failed: tuple[HistoryRow, ...]
    modified: tuple[str, ...]
    missing: tuple[str, ...]
    applied_rows: tuple[HistoryRow, ...]


def analyse(folders: Sequence[MigrationFolder], rows: Sequence[HistoryRow]) -> HistoryState:
    """Which folders are applied, pending or modified; which rows failed or have no folder."""
    from datatier.migrate._folders import matches_checksum

    by_name = {f.name: f for f in folders}
    live = [r for r in rows if r.rolled_back_at is None]
    applied_rows = [r for r in live if r.is_applied]
    failed = [r for r in live if r.is_failed]
    applied_names = {r.migration_name for r in applied_rows}
    modified = [
        r.migration_name
        for r in applied_rows
        if r.migration_name in by_name
        and not matches_checksum(by_name[r.migration_name].up_sql.encode(), r.checksum)
    ]
    missing = [r.migration_name for r in applied_rows if r.migration_name not in by_name]
    started = applied_names | {r.migration_name for r in failed}
    return HistoryState(
        applied=tuple(dict.fromkeys(r.migration_name for r in applied_rows)),
        pending=tuple(f for f in folders if f.name not in started),
        failed=tuple(failed),
        modified=tuple(dict.fromkeys(modified)),
        missing=tuple(dict.fromkeys(missing)),
        applied_rows=tuple(applied_rows),
    )


def _refuse_broken_history(state: HistoryState, command: str) -> None:
    if state.failed:
        names = ", ".join(r.migration_name for r in state.failed)
        first = state.failed[0].migration_name
        raise MigrationError(
            f"`{command}` stopped: migration {names} failed earlier and is recorded as failed "
            "in _prisma_migrations. Fix its migration.sql (on PostgreSQL the failed migration "
            f"left nothing behind), then run `datatier migrate resolve --rolled-back {first}` "
            f"and `datatier migrate deploy` again; if you applied it by hand, run "
            f"`datatier migrate resolve --applied {first}` instead"
        )
    if state.modified:
        names = ", ".join(state.modified)
        raise MigrationError(
            f"`{command}` stopped: migration {names} was edited after it was applied "
            "(its checksum differs from the one in _prisma_migrations), so the history no "
            "longer describes the database. Restore the original migration.sql from version "
            "control and put the change into a new migration (`datatier migrate dev`)"
        )


# -- sessions on the database ------------------------------------------------------------


@contextmanager
def _session(url: str, *, lock: bool = True) -> Iterator[HistoryStore]:
    """A connection to ``url`` as a history store, holding the migration lock while open."""
    conn = connect_sync(url)
    try:
        store = history_store(conn)
        if lock:
            with store.lock():
                yield store
        else:
            yield store
    finally:
        conn.close()


def _apply(store: HistoryStore, folder: MigrationFolder, project: Project | None) -> None:
    """Run ``folder``'s up script (and ``data.py``'s ``up``) and record it; ``MigrationError`` if it fails."""
    who = who_ran_it()
    row_id = store.record_started(folder.name, folder.checksum, f"applied by {who}")
    try:
        if folder.has_data and project is not None:
            _run_with_data(store, folder, project, "up", lambda: store.record_finished(row_id))
        else:
            store.run_script(folder.up_sql, lambda: store.record_finished(row_id))
    except MigrationError as error:
        store.record_failed(row_id, f"applied by {who}; failed: {error.message}")
        undone = (
            "nothing of it was applied"
            if store.provider == "postgresql" or not _outside_transaction(store, folder.up_sql)
            else "it ran outside a transaction, so the statements before the failing one stay applied"
        )
        raise MigrationError(
            f"migration {folder.name} failed: {error.message}\n"
            f"{undone}; it is recorded as failed in _prisma_migrations. Fix it, then run "
            f"`datatier migrate resolve --rolled-back {folder.name}` and deploy again"
        ) from None


def _outside_transaction(store: HistoryStore, script: str) -> bool:
    from datatier.migrate._history import has_transaction_control, needs_foreign_keys_off

    return has_transaction_control(script) or (
        store.provider == "sqlite" and needs_foreign_keys_off(script)
    )


def _run_with_data(
    store: HistoryStore,
    folder: MigrationFolder,
    project: Project,
    direction: str,
    after: Callable[[], None],
) -> None:
    """SQL and ``data.py`` in one transaction of the untyped client; ``after()`` once it committed.

    Up runs the SQL first, then ``up(db)``; down runs ``down(db)`` first, then ``down.sql``.
    ``db`` is the client's open transaction (``datatier.SyncClient``'s ``tx()``), for the
    folder's own ``schema.prisma`` when it holds one, else the project's schema.
    """
    from datatier.client import SyncClient

    script = folder.up_sql if direction == "up" else (folder.down_sql or "")
    if _outside_transaction(store, script):
        raise MigrationError(
            f"{folder.path}: a migration with {folder.data_path.name} cannot also control "
            "transactions or foreign keys itself (BEGIN/COMMIT, PRAGMA foreign_keys): the data "
            "step shares the SQL's transaction. Move the data step to a migration of its own"
        )
    module = _load_data_module(folder)
    step = getattr(module, direction, None)
    if step is None:
        if direction == "down":
            step = _no_data_step
        else:
            raise MigrationError(f"{folder.data_path}: defines no `up(db)` function")
    snapshot = folder.path / "schema.prisma"
    schema = load_schema(snapshot) if snapshot.is_file() else project.schema
    statements = split_sqlite_script(script) if store.provider == "sqlite" else [script]
    client = SyncClient(schema, project.url, pool_size=1)
    try:
        with client, client.tx() as tx:
            if direction == "down":
                step(tx)
            for statement in statements:
                if statement.strip():
                    tx.execute_raw(statement)
            if direction == "up":
                step(tx)
    except DatatierError as error:
        raise MigrationError(f"{error.message} (with {folder.data_path.name})") from None
    except Exception as error:
        raise MigrationError(
            f"{folder.data_path.name} {direction}() raised {type(error).__name__}: {error}"
        ) from None
    after()


def _no_data_step(db: Any) -> None:
    del db


def _load_data_module(folder: MigrationFolder) -> ModuleType:
    module_name = "_datatier_data_" + re.sub(r"\W", "_", folder.name)
    spec = importlib.util.spec_from_file_location(module_name, folder.data_path)
    if spec is None or spec.loader is None:
        raise MigrationError(f"{folder.data_path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        raise MigrationError(
            f"{folder.data_path}: importing it raised {type(error).__name__}: {error}"
        ) from None
    return module


# -- deploy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployReport:
    """What ``deploy`` applied (in order) and how many were applied before."""

    url: str
    applied: tuple[str, ...]
    already_applied: int
    missing: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [
            f"warning: {name} is recorded as applied but its folder is missing"
            for name in self.missing
        ]
        if not self.applied:
            out.append(f"{self.url}: no pending migrations ({self.already_applied} applied)")
        else:
            n = len(self.applied)
            out.append(f"{self.url}: applied {n} migration{'s' if n != 1 else ''}:")
            out.extend(f"  {name}" for name in self.applied)
        return out


def deploy(project: Project) -> DeployReport:
    """Apply the pending migrations in order, each in its own transaction where the database allows.

    Holds PostgreSQL's advisory lock (Prisma's key) meanwhile, so concurrent deploys apply each
    migration once. Refuses while a migration is recorded as failed or an applied one was edited.
    """
    folders = project.folders()
    with _session(project.url) as store:
        return _deploy(store, folders, project)


def _deploy(
    store: HistoryStore, folders: Sequence[MigrationFolder], project: Project | None
) -> DeployReport:
    store.ensure_table()
    state = analyse(folders, store.rows())
    _refuse_broken_history(state, "migrate deploy")
    for folder in state.pending:
        _apply(store, folder, project)
    shown = project.shown_url if project is not None else ""
    return DeployReport(
        shown, tuple(f.name for f in state.pending), len(state.applied), state.missing
    )


# -- status and drift --------------------------------------------------------------------


@dataclass(frozen=True)
class StatusReport:
    """The history's state; ``drift`` is None when it was not checked (or could not be)."""

    url: str
    applied: tuple[str, ...]
    pending: tuple[str, ...]
    failed: tuple[str, ...]
    modified: tuple[str, ...]
    missing: tuple[str, ...]
    drift: tuple[str, ...] | None

    @property
    def exit_code(self) -> int:
        """0 in sync, 2 pending, 3 failed, 4 modified or missing folders, 5 drift (worst first)."""
        if self.failed:
            return EXIT_FAILED
        if self.modified or self.missing:
            return EXIT_DIVERGED
        if self.drift:
            return EXIT_DRIFT
        if self.pending:
            return EXIT_PENDING
        return EXIT_IN_SYNC

    def lines(self) -> list[str]:
        n = len(self.applied)
        out = [f"{self.url}: {n} migration{'s' if n != 1 else ''} applied"]
        for label, names, hint in (
            ("failed", self.failed, "fix it, then `datatier migrate resolve --rolled-back NAME`"),
            ("modified after it was applied", self.modified, "restore it from version control"),
            ("applied but missing from the migrations folder", self.missing, ""),
            ("pending", self.pending, "run `datatier migrate deploy`"),
        ):
            for name in names:
                out.append(f"  {label}: {name}")
            if names and hint:
                out.append(f"    ({hint})")
        if self.drift:
            out.append("  drift: the database differs from what the applied migrations create:")
            out.extend(f"    - {line}" for line in self.drift)
        if self.exit_code == EXIT_IN_SYNC:
            out.append("  database schema is up to date")
        return out


def status(project: Project, *, check_drift: bool = True) -> StatusReport:
    """Applied, pending, failed, modified and missing migrations, and drift (replayed in a shadow)."""
    folders = project.folders()
    with _session(project.url, lock=False) as store:
        state = analyse(folders, store.rows())
        drift: tuple[str, ...] | None = None
        if check_drift and not (state.failed or state.modified or state.missing):
            applied = set(state.applied)
            drift = tuple(_drift(store, [f for f in folders if f.name in applied], project))
    return StatusReport(
        url=project.shown_url,
        applied=state.applied,
        pending=tuple(f.name for f in state.pending),
        failed=tuple(r.migration_name for r in state.failed),
        modified=state.modified,
        missing=state.missing,
        drift=drift,
    )


def _drift(store: HistoryStore, applied: Sequence[MigrationFolder], project: Project) -> list[str]:
    """Differences between the live database and one built from ``applied`` (expected = history)."""
    if applied:
        with _project_shadow(project) as shadow_url:
            replay(shadow_url, applied)
            expected = read_catalog(shadow_url)
    else:
        expected = Catalog(tables=())
    differences = diff_catalogs(expected, store.read_catalog(postgres_schema_of(project.url)))
    wait_for_shadow_drops()  # a shadow left behind is named by the next dev run's warnings
    return differences


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
    with _session(url, lock=False) as store:
        for folder in folders:
            try:
                store.run_script(folder.up_sql, _nothing)
            except MigrationError as error:
                raise MigrationError(
                    f"migration {folder.name} failed to apply cleanly to the shadow database: "
                    f"{error.message}. Fix the migration (it must apply to an empty database "
                    "after the ones before it)"
                ) from None


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
        _empty_database(shadow_url)
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
        yield _with_database(server_url, name)
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


def _project_shadow(project: Project) -> AbstractContextManager[str]:
    return shadow_database(project.provider, server_url=project.url, shadow_url=project.shadow_url)


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


def _empty_database(url: str, schema: Schema | None = None) -> None:
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


# -- reset -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResetReport:
    url: str
    applied: tuple[str, ...]
    seeded: bool

    def lines(self) -> list[str]:
        n = len(self.applied)
        out = [f"{self.url}: dropped everything, applied {n} migration{'s' if n != 1 else ''}"]
        out.extend(f"  {name}" for name in self.applied)
        if self.seeded:
            out.append("ran the seed script")
        return out


def reset(project: Project, *, seed: bool = True) -> ResetReport:
    """Drop all tables and types (``_prisma_migrations`` too), apply every migration, run the seed."""
    folders = project.folders()
    _empty_database(project.url, project.schema)
    with _session(project.url) as store:
        report = _deploy(store, folders, project)
    seeded = seed and run_seed(project, required=False)
    return ResetReport(project.shown_url, report.applied, seeded)


# -- resolve -----------------------------------------------------------------------------


def resolve(project: Project, *, applied: str | None = None, rolled_back: str | None = None) -> str:
    """Mark a failed migration rolled back, or a migration applied by hand as applied; a line to print."""
    if (applied is None) == (rolled_back is None):
        raise MigrationError("resolve needs exactly one of --applied NAME or --rolled-back NAME")
    folders = {f.name: f for f in project.folders()}
    with _session(project.url) as store:
        store.ensure_table()
        state = analyse(list(folders.values()), store.rows())
        if rolled_back is not None:
            rows = [r for r in state.failed if r.migration_name == rolled_back]
            if not rows:
                raise MigrationError(
                    f"{rolled_back} is not recorded as failed; `--rolled-back` only marks a "
                    "failed migration (to undo an applied one, use `datatier migrate rollback`)"
                )
            for row in rows:
                store.record_rolled_back(row.id, f"marked rolled back by {who_ran_it()}")
            return (
                f"{rolled_back} marked as rolled back; `datatier migrate deploy` applies it again"
            )
        assert applied is not None
        folder = folders.get(applied)
        if folder is None:
            raise MigrationError(f"no migration folder {applied} in {project.migrations}")
        if applied in state.applied:
            raise MigrationError(f"{applied} is already recorded as applied")
        for row in state.failed:
            if row.migration_name == applied:
                store.record_rolled_back(
                    row.id, f"superseded by resolve --applied ({who_ran_it()})"
                )
        store.record_applied(folder.name, folder.checksum, f"marked applied by {who_ran_it()}")
        return f"{applied} marked as applied"


# -- rollback ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackReport:
    url: str
    rolled_back: tuple[str, ...]

    def lines(self) -> list[str]:
        if not self.rolled_back:
            return [f"{self.url}: nothing to roll back"]
        n = len(self.rolled_back)
        return [
            f"{self.url}: rolled back {n} migration{'s' if n != 1 else ''} (newest first):",
            *(f"  {name}" for name in self.rolled_back),
        ]


def rollback(
    project: Project,
    *,
    steps: int | None = None,
    to: str | None = None,
    accept_data_loss: bool = False,
) -> RollbackReport:
    """Undo the newest ``steps`` applied migrations (default 1), or all applied after ``to``.

    Runs each ``down.sql`` (after ``data.py``'s ``down``) in its own transaction and sets
    ``rolled_back_at`` on its history row, which Prisma then ignores: the migration counts as
    pending again for both tools. Stops before changing anything when a ``down.sql`` would
    drop a table or column holding rows, unless ``accept_data_loss``.
    """
    if steps is not None and to is not None:
        raise MigrationError("give either --steps or --to, not both")
    if steps is not None and steps < 1:
        raise MigrationError(f"--steps must be at least 1, not {steps}")
    folders = {f.name: f for f in project.folders()}
    with _session(project.url) as store:
        state = analyse(list(folders.values()), store.rows())
        _refuse_broken_history(state, "migrate rollback")
        rows = list(state.applied_rows)
        if to is not None:
            names = [r.migration_name for r in rows]
            if to not in names:
                raise MigrationError(
                    f"--to {to}: no such applied migration; applied: {', '.join(names) or 'none'}"
                )
            targets = rows[names.index(to) + 1 :]
        else:
            targets = rows[-(steps or 1) :] if rows else []
        targets.reverse()
        undo = []
        for row in targets:
            folder = folders.get(row.migration_name)
            if folder is None or folder.down_sql is None:
                raise MigrationError(
                    f"{row.migration_name} has no {DOWN_FILE}"
                    + ("" if folder else " (its folder is missing)")
                    + f"; write {DOWN_FILE} by hand to roll it back. Nothing was rolled back"
                )
            undo.append((row, folder))
        if not accept_data_loss:
            losses = [
                f"{folder.name}: {loss}"
                for _, folder in undo
                for loss in down_data_loss(store, folder.down_sql or "")
            ]
            if losses:
                raise MigrationError(
                    "rolling back would lose data:\n"
                    + "\n".join(f"  - {loss}" for loss in losses)
                    + "\nNothing was rolled back. Back the data up, then run again with "
                    "--accept-data-loss"
                )
        done = []
        for row, folder in undo:
            _undo(store, row, folder, project)
            done.append(folder.name)
    return RollbackReport(project.shown_url, tuple(done))


def _undo(store: HistoryStore, row: HistoryRow, folder: MigrationFolder, project: Project) -> None:
    note = f"rolled back by {who_ran_it()}"

    def record() -> None:
        store.record_rolled_back(row.id, note)

    try:
        if folder.has_data:
            _run_with_data(store, folder, project, "down", record)
        else:
            store.run_script(folder.down_sql or "", record)
    except MigrationError as error:
        raise MigrationError(
            f"rolling back {folder.name} failed: {error.message}\n"
            f"its {DOWN_FILE} was rolled back where the database allows; "
            "the migration is still recorded as applied"
        ) from None


_QUALIFIED = r'((?:"(?:[^"]|"")+"\.)?"(?:[^"]|"")+"|`[^`]+`|\w+)'
_DROP_TABLE = re.compile(rf"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?{_QUALIFIED}", re.I | re.M)
_ALTER_TABLE = re.compile(rf"^\s*ALTER\s+TABLE\s+(?:ONLY\s+)?{_QUALIFIED}(.*)", re.I | re.S)
_DROP_COLUMN = re.compile(rf"DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?{_QUALIFIED}", re.I)
_COPY = re.compile(
    rf"^\s*INSERT\s+INTO\s+{_QUALIFIED}\s*\(([^)]*)\)\s*SELECT\s+(.*?)\s+FROM\s+{_QUALIFIED}",
    re.I | re.S,
)


def down_data_loss(store: HistoryStore, script: str) -> list[str]:
    """What a rollback script would destroy, judged by the rows present now.

    Tables dropped while they hold rows, and columns dropped while they hold values (a
    SQLite copy-table sequence loses the columns it does not copy). Objects missing from the
    database count as empty.
    """
    statements = split_sqlite_script(script)
    copied: dict[str, str] = {}
    for statement in statements:
        match = _COPY.match(_strip_comments(statement))
        if match:
            copied[_unquote(match.group(4))] = match.group(3)
    losses = []
    for statement in statements:
        text = _strip_comments(statement)
        drop = _DROP_TABLE.match(text)
        if drop:
            table = drop.group(1)
            if _unquote(table) in copied:
                kept = {_unquote(c.strip()) for c in copied[_unquote(table)].split(",")}
                for column in _columns(store, table):
                    if column not in kept:
                        losses.extend(_column_loss(store, table, _quote(column)))
            else:
                rows = store.count(f"SELECT COUNT(*) FROM {table}")
                if rows:
                    losses.append(
                        f"drops table {table} holding {rows} row{'s' if rows != 1 else ''}"
                    )
            continue
        alter = _ALTER_TABLE.match(text)
        if alter:
            for column in _DROP_COLUMN.findall(alter.group(2)):
                losses.extend(_column_loss(store, alter.group(1), column))
    return losses


def _column_loss(store: HistoryStore, table: str, column: str) -> list[str]:
    rows = store.count(f"SELECT COUNT(*) FROM {table} WHERE {column} IS NOT NULL")
    if not rows:
        return []
    return [f"drops column {column} of {table}, which holds {rows} value{'s' if rows != 1 else ''}"]


def _columns(store: HistoryStore, table: str) -> list[str]:
    if store.provider != "sqlite":
        return []
    try:
        return [r[1] for r in store.execute(f"PRAGMA table_info({table})")]
    except sqlite3.Error:
        return []


def _strip_comments(statement: str) -> str:
    return re.sub(r"--[^\n]*\n?", "", statement).strip()


def _unquote(name: str) -> str:
    name = name.strip()
    if name.startswith('"') and name.endswith('"'):
        return name[1:-1].replace('""', '"')
    return name.strip("`")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- seed --------------------------------------------------------------------------------


def run_seed(project: Project, *, required: bool = True) -> bool:
    """Run the configured seed script with ``DATABASE_URL`` set; False when none is configured.

    ``required``: no configured script is an error (``db seed``) rather than nothing to do.
    """
    if project.seed is None:
        if required:
            raise ConfigError(
                'no seed script configured: add `seed = "prisma/seed.py"` (a Python file using '
                "the client) to datatier.toml or to [tool.datatier] in pyproject.toml"
            )
        return False
    if not project.seed.is_file():
        raise ConfigError(f"seed script {project.seed} does not exist (the `seed` setting)")
    env = {**os.environ, "DATABASE_URL": project.url}
    result = subprocess.run(
        [sys.executable, str(project.seed)], cwd=project.cwd, env=env, check=False
    )
    if result.returncode != 0:
        raise DatatierError(f"seed script {project.seed} failed with exit code {result.returncode}")
    return True


# -- dev ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DevReport:
    """What ``dev`` did: the folder it wrote (None when the schema and history agree)."""

    url: str
    folder: Path | None
    summary: tuple[str, ...]
    applied: tuple[str, ...]
    created_only: bool = False
    seeded: bool = False
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"warning: {w}" for w in self.warnings]
        if self.applied and (self.folder is None or self.applied != (self.folder.name,)):
            pending = [n for n in self.applied if self.folder is None or n != self.folder.name]
            out.append(f"applied pending migrations: {', '.join(pending)}")
        if self.folder is None:
            out.append(f"{self.url}: already in sync with the schema, no migration created")
        else:
            verb = "created" if self.created_only else "created and applied"
            out.append(f"{verb} {self.folder}:")
            out.extend(f"  - {line}" for line in self.summary)
            if self.created_only:
                out.append(
                    "edit it if needed, then apply it with `datatier migrate dev` or `deploy`"
                )
        if self.seeded:
            out.append("ran the seed script")
        return out


def parse_rename(text: str) -> tuple[str | None, str, str]:
    """``Table.old=new`` (a column) or ``old=new`` (a table), database names: (table, old, new)."""
    left, eq, new = text.partition("=")
    table, dot, old = left.rpartition(".")
    if not eq or not new.strip() or not old.strip() or (dot and not table.strip()):
        raise MigrationError(
            f"--rename {text!r}: write Table.oldColumn=newColumn for a column or "
            "OldTable=NewTable for a table (database names, as the migration shows them)"
        )
    return (table.strip() or None, old.strip(), new.strip())


def dev(
    project: Project,
    name: str,
    *,
    create_only: bool = False,
    accept_data_loss: bool = False,
    renames: Sequence[str] = (),
    confirm: Callable[[str], bool] | None = None,
    seed: bool = True,
) -> DevReport:
    """Write the migration from the history's schema to the project's, and apply it.

    Applies pending migrations first, replays the history into a shadow database, refuses
    on drift (the development database differs from its history), plans the change, and
    stops before writing anything when a possible rename is unanswered (``confirm`` asks on
    a terminal; otherwise ``--rename``) or when the change would lose rows that exist
    (unless ``accept_data_loss`` or ``create_only``). A fresh database gets the seed.
    """
    try:
        report = _dev(
            project,
            name,
            create_only=create_only,
            accept_data_loss=accept_data_loss,
            renames=renames,
            confirm=confirm,
            seed=seed,
        )
    finally:
        left_behind = wait_for_shadow_drops()
    if left_behind:
        report = dataclasses.replace(report, warnings=(*report.warnings, *left_behind))
    return report


def _dev(
    project: Project,
    name: str,
    *,
    create_only: bool = False,
    accept_data_loss: bool = False,
    renames: Sequence[str] = (),
    confirm: Callable[[str], bool] | None = None,
    seed: bool = True,
) -> DevReport:
    from datatier.migrate._plan import plan_migration

    folders = project.folders()
    with _session(project.url) as store:
        store.ensure_table()
        rows = store.rows()
        db_schema = postgres_schema_of(project.url)
        # `and` short-circuits: with a history the catalog is not read twice.
        fresh = not rows and _is_empty_catalog(store.read_catalog(db_schema))
        state = analyse(folders, rows)
        _refuse_broken_history(state, "migrate dev")
        if state.missing:
            raise MigrationError(
                f"migration {', '.join(state.missing)} is applied to the database but missing "
                f"from {project.migrations}; restore it from version control, or start over with "
                "`datatier migrate reset`"
            )
        applied = _deploy(store, folders, project).applied if state.pending else ()
        before: Schema | None = None
        if folders:
            with _project_shadow(project) as shadow_url:
                replay(shadow_url, folders)
                _refuse_drift(read_catalog(shadow_url), store.read_catalog(db_schema))
                before = _introspect_or_none(shadow_url)
        else:
            _refuse_drift(Catalog(tables=()), store.read_catalog(db_schema))
        confirmed = _confirmed_renames(project, before, renames)
        plan = plan_migration(before, project.schema, project.provider, renames=confirmed)
        open_candidates = [c for c in plan.rename_candidates if c not in confirmed]
        if open_candidates and confirm is not None:
            chosen = [c for c in open_candidates if confirm(f"Did you rename {c.describe()}?")]
            if chosen:
                confirmed = [*confirmed, *chosen]
                plan = plan_migration(before, project.schema, project.provider, renames=confirmed)
            open_candidates = [c for c in plan.rename_candidates if c not in confirmed]
        warnings: list[str] = []
        if open_candidates:
            listed = "\n".join(
                f"  - {c.describe()}  (--rename {_rename_flag(c)})" for c in open_candidates
            )
            if not create_only:
                raise MigrationError(
                    "the change drops and adds objects that may be renames:\n"
                    f"{listed}\nSay which are renames with --rename (once per rename), or pass "
                    "--create-only to write the migration as drop-and-add for editing. Nothing "
                    "was written"
                )
            warnings.append(f"written as drop-and-add, edit if these are renames:\n{listed}")
        if plan.is_empty and not create_only:
            return DevReport(project.shown_url, None, (), applied)
        losses = store.data_losses(plan.data_loss)
        if losses and not (accept_data_loss or create_only):
            raise MigrationError(
                "the migration would lose data that exists in the development database:\n"
                + "\n".join(f"  - {loss}" for loss in losses)
                + "\nNothing was written. Pass --accept-data-loss to go on, or --create-only "
                "to write the migration without applying it (and edit it)"
            )
        warnings.extend(losses if create_only else ())
        from datatier.migrate._folders import write_lock, write_migration

        folder = write_migration(project.migrations, name, plan.up_sql, plan.down_sql)
        write_lock(project.migrations, project.provider)
        if create_only:
            return DevReport(
                project.shown_url,
                folder.path,
                tuple(plan.summary),
                applied,
                True,
                False,
                tuple(warnings),
            )
        _apply(store, folder, project)
    seeded = fresh and seed and run_seed(project, required=False)
    return DevReport(
        project.shown_url,
        folder.path,
        tuple(plan.summary),
        (*applied, folder.name),
        seeded=seeded,
        warnings=tuple(warnings),
    )


def _refuse_drift(expected: Catalog, actual: Catalog) -> None:
    drift = diff_catalogs(expected, actual)
    if drift:
        raise MigrationError(
            "drift: the database differs from what its migrations create:\n"
            + "\n".join(f"  - {line}" for line in drift[:20])
            + "\nmigrate dev plans from the history, so it stops here. Run "
            "`datatier migrate reset` to rebuild the database from the migrations (this "
            "drops its data), or write the difference into a migration by hand"
        )


def _is_empty_catalog(catalog: Catalog) -> bool:
    return not catalog.tables and not catalog.enums


def _introspect_or_none(url: str) -> Schema | None:
    from datatier.migrate._introspect import EmptyDatabase, introspect

    try:
        return introspect(url)
    except EmptyDatabase:
        return None


def _rename_flag(candidate: Any) -> str:
    if candidate.kind == "table":
        return f"{candidate.old}={candidate.new}"
    return f"{candidate.table}.{candidate.old}={candidate.new}"


def _confirmed_renames(
    project: Project, before: Schema | None, renames: Sequence[str]
) -> list[Any]:
    """``--rename`` texts as the planner's rename candidates; an unknown one lists the candidates."""
    if not renames:
        return []
    from datatier.migrate._plan import RenameCandidate, plan_migration

    candidates = plan_migration(before, project.schema, project.provider).rename_candidates
    chosen: list[RenameCandidate] = []
    for text in renames:
        table, old, new = parse_rename(text)
        kind = "column" if table is not None else "table"
        match = [
            c
            for c in candidates
            if c.kind == kind
            and c.old == old
            and c.new == new
            and (table is None or c.table == table)
        ]
        if not match:
            known = ", ".join(_rename_flag(c) for c in candidates) or "none"
            raise MigrationError(
                f"--rename {text}: not a dropped and an added {kind} of the same shape in this "
                f"change; possible renames: {known}"
            )
        chosen.append(match[0])
    return chosen


# -- diff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffSource:
    """One side of ``migrate diff``: ``kind`` is empty, schema, migrations or url."""

    kind: str
    value: str | None = None

    def describe(self) -> str:
        return self.kind if self.value is None else f"{self.kind} {self.value}"


def diff(
    source: DiffSource,
    target: DiffSource,
    *,
    shadow_url: str | None = None,
    server_url: str | None = None,
) -> Any:
    """The ``MigrationPlan`` from ``source``'s database to ``target``'s.

    The provider comes from the schemas, URLs or ``migration_lock.toml`` involved (they must
    agree). A ``migrations`` side on PostgreSQL replays into ``shadow_url`` (emptied), or
    into a temporary database on ``server_url``'s server.
    """
    from datatier.migrate._plan import plan_migration

    provider = _diff_provider([source, target])
    before = _diff_side(source, provider, shadow_url, server_url)
    after = _diff_side(target, provider, shadow_url, server_url)
    return plan_migration(before, after or _empty_schema(provider), provider)


def _empty_schema(provider: str) -> Schema:
    from datatier.schema import validate_schema_text

    return validate_schema_text(
        f'datasource db {{\n  provider = "{provider}"\n}}\n', "empty.prisma"
    )


def _diff_provider(sides: Sequence[DiffSource]) -> str:
    from datatier.migrate._folders import read_lock

    found: dict[str, str] = {}
    for side in sides:
        if side.kind == "schema" and side.value is not None:
            schema = load_schema(Path(side.value))
            if schema.provider:
                found[side.describe()] = _canonical(schema.provider)
        elif side.kind == "url" and side.value is not None:
            from datatier.config import provider_for_url

            found[side.describe()] = provider_for_url(side.value)
        elif side.kind == "migrations" and side.value is not None:
            locked = read_lock(Path(side.value))
            if locked:
                found[side.describe()] = _canonical(locked)
    providers = set(found.values())
    if len(providers) > 1:
        listed = ", ".join(f"{where}: {p}" for where, p in found.items())
        raise ConfigError(f"migrate diff: the two sides are for different databases ({listed})")
    if not providers:
        raise ConfigError(
            "migrate diff: no side names a database provider; use a schema, a URL or a "
            "migrations folder with migration_lock.toml"
        )
    return providers.pop()


def _canonical(provider: str) -> str:
    return "postgresql" if provider == "postgres" else provider


def _diff_side(
    side: DiffSource, provider: str, shadow_url: str | None, server_url: str | None
) -> Schema | None:
    if side.kind == "empty":
        return None
    assert side.value is not None
    if side.kind == "schema":
        return load_schema(Path(side.value))
    if side.kind == "url":
        return _introspect_or_none(side.value)
    if side.kind == "migrations":
        folders = read_migrations(Path(side.value))
        if not folders:
            return None
        with shadow_database(provider, server_url=server_url, shadow_url=shadow_url) as url:
            replay(url, folders)
            return _introspect_or_none(url)
    raise ConfigError(f"migrate diff: unknown source {side.kind!r}")
