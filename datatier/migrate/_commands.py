"""The migration commands behind the CLI: each takes a ``Project`` and returns a report.

This module holds the project, the history judged against the folders, applying one
migration (with its data step), and ``deploy``, ``status``, ``reset``, ``resolve`` and
the seed; ``_dev`` (``dev``, ``diff``) and ``_rollback`` build on it. No command prints
or asks: where a question arises (a rename, data loss) it takes the answer as an
argument or stops with a ``MigrationError`` that names the flag giving it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from datatier.config import (
    check_provider,
    find_schema,
    load_config,
    mask_url,
    resolve_url,
)
from datatier.drivers import connect_sync
from datatier.errors import ConfigError, DatatierError
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._folders import (
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
from datatier.migrate._shadow import (
    SHADOW_URL_ENV,
    empty_database,
    postgres_schema_of,
    read_catalog,
    replay,
    shadow_database,
    wait_for_shadow_drops,
)
from datatier.schema import Schema, load_schema

__all__ = [
    "DeployReport",
    "HistoryState",
    "Project",
    "ResetReport",
    "StatusReport",
    "analyse",
    "apply_migration",
    "deploy",
    "deploy_with",
    "open_project",
    "project_shadow",
    "refuse_broken_history",
    "reset",
    "resolve",
    "run_seed",
    "run_with_data",
    "session",
    "status",
]

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


def refuse_broken_history(state: HistoryState, command: str) -> None:
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
def session(url: str, *, lock: bool = True) -> Iterator[HistoryStore]:
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


def apply_migration(store: HistoryStore, folder: MigrationFolder, project: Project | None) -> None:
    """Run ``folder``'s up script (and ``data.py``'s ``up``) and record it; ``MigrationError`` if it fails."""
    who = who_ran_it()
    row_id = store.record_started(folder.name, folder.checksum, f"applied by {who}")
    try:
        if folder.has_data and project is not None:
            run_with_data(store, folder, project, "up", lambda: store.record_finished(row_id))
        else:
            store.run_script(folder.up_sql, lambda: store.record_finished(row_id))
    except MigrationError as error:
        store.record_failed(row_id, f"applied by {who}; failed: {error.message}")
        undone = (
            "it runs outside a single transaction (its own BEGIN/COMMIT or PRAGMA foreign_keys), "
            "so what it committed before the failing statement stays applied"
            if _outside_transaction(store, folder.up_sql)
            else "nothing of it was applied"
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


def run_with_data(
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
    with session(project.url) as store:
        return deploy_with(store, folders, project)


def deploy_with(
    store: HistoryStore, folders: Sequence[MigrationFolder], project: Project | None
) -> DeployReport:
    store.ensure_table()
    state = analyse(folders, store.rows())
    refuse_broken_history(state, "migrate deploy")
    for folder in state.pending:
        apply_migration(store, folder, project)
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
    errors: tuple[str, ...] = ()  # the recorded error of each failed migration, in order

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
            if names is self.failed:
                out.extend(f"    error: {error}" for error in self.errors if error)
            if names and hint:
                out.append(f"    ({hint})")
        if self.drift:
            out.append("  drift: the database differs from what the applied migrations create:")
            out.extend(f"    - {line}" for line in self.drift)
        if self.exit_code == EXIT_IN_SYNC:
            out.append("  database schema is up to date")
        return out


def _recorded_error(logs: str | None) -> str:
    """The database's message from a failed migration's ``logs`` (its first line)."""
    _, found, error = (logs or "").partition("failed: ")
    return error.strip().splitlines()[0] if found and error.strip() else ""


def status(project: Project, *, check_drift: bool = True) -> StatusReport:
    """Applied, pending, failed, modified and missing migrations, and drift (replayed in a shadow)."""
    folders = project.folders()
    with session(project.url, lock=False) as store:
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
        errors=tuple(_recorded_error(r.logs) for r in state.failed),
        modified=state.modified,
        missing=state.missing,
        drift=drift,
    )


def project_shadow(project: Project) -> AbstractContextManager[str]:
    """The shadow database for ``project`` (see ``shadow_database``)."""
    return shadow_database(project.provider, server_url=project.url, shadow_url=project.shadow_url)


def _drift(store: HistoryStore, applied: Sequence[MigrationFolder], project: Project) -> list[str]:
    """Differences between the live database and one built from ``applied`` (expected = history)."""
    if applied:
        with project_shadow(project) as shadow_url:
            replay(shadow_url, applied)
            expected = read_catalog(shadow_url)
    else:
        expected = Catalog(tables=())
    differences = diff_catalogs(expected, store.read_catalog(postgres_schema_of(project.url)))
    wait_for_shadow_drops()  # a shadow left behind is named by the next dev run's warnings
    return differences


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
    empty_database(project.url, project.schema)
    with session(project.url) as store:
        report = deploy_with(store, folders, project)
    seeded = seed and run_seed(project, required=False)
    return ResetReport(project.shown_url, report.applied, seeded)


# -- resolve -----------------------------------------------------------------------------


def resolve(project: Project, *, applied: str | None = None, rolled_back: str | None = None) -> str:
    """Mark a failed migration rolled back, or a migration applied by hand as applied; a line to print."""
    if (applied is None) == (rolled_back is None):
        raise MigrationError("resolve needs exactly one of --applied NAME or --rolled-back NAME")
    folders = {f.name: f for f in project.folders()}
    with session(project.url) as store:
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
