"""``migrate dev`` (plan the schema's change from the replayed history, write it, apply it) and ``migrate diff``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datatier.errors import ConfigError
from datatier.migrate._catalog import Catalog, diff_catalogs
from datatier.migrate._commands import (
    Project,
    analyse,
    apply_migration,
    deploy_with,
    project_shadow,
    refuse_broken_history,
    run_seed,
    session,
)
from datatier.migrate._folders import (
    canonical_provider,
    read_migrations,
)
from datatier.migrate._history import (
    MigrationError,
)
from datatier.migrate._push import for_provider
from datatier.migrate._shadow import (
    postgres_schema_of,
    read_catalog,
    replay,
    shadow_database,
    wait_for_shadow_drops,
)
from datatier.schema import Schema, load_schema

__all__ = [
    "DevReport",
    "DiffSource",
    "dev",
    "diff",
    "parse_rename",
]

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
        report = _dev(project, name, create_only, accept_data_loss, renames, confirm, seed)
    finally:
        left_behind = wait_for_shadow_drops()
    if left_behind:
        report = dataclasses.replace(report, warnings=(*report.warnings, *left_behind))
    return report


def _dev(
    project: Project,
    name: str,
    create_only: bool,
    accept_data_loss: bool,
    renames: Sequence[str],
    confirm: Callable[[str], bool] | None,
    seed: bool,
) -> DevReport:
    from datatier.migrate._plan import plan_migration

    folders = project.folders()
    with session(project.url) as store:
        store.ensure_table()
        rows = store.rows()
        db_schema = postgres_schema_of(project.url)
        # `and` short-circuits: with a history the catalog is not read twice.
        fresh = not rows and _is_empty_catalog(store.read_catalog(db_schema))
        state = analyse(folders, rows)
        refuse_broken_history(state, "migrate dev")
        if state.missing:
            raise MigrationError(
                f"migration {', '.join(state.missing)} is applied to the database but missing "
                f"from {project.migrations}; restore it from version control, or start over with "
                "`datatier migrate reset`"
            )
        applied = deploy_with(store, folders, project).applied if state.pending else ()
        before: Schema | None = None
        if folders:
            with project_shadow(project) as shadow_url:
                replay(shadow_url, folders)
                _refuse_drift(read_catalog(shadow_url), store.read_catalog(db_schema))
                before = _introspect_or_none(
                    shadow_url, _schemas(project.schema), existing=project.schema
                )
        else:
            _refuse_drift(Catalog(tables=()), store.read_catalog(db_schema))
        confirmed = _confirmed_renames(project, before, renames)
        plan = plan_migration(
            before,
            for_provider(project.schema, project.provider),
            project.provider,
            renames=confirmed,
        )
        declined: list[Any] = []  # answered "no" on the terminal: a drop and an add
        while confirm is not None:
            asked = [c for c in plan.rename_candidates if c not in confirmed and c not in declined]
            if not asked:
                break
            chosen = [c for c in asked if confirm(f"Did you rename {c.describe()}?")]
            declined.extend(c for c in asked if c not in chosen)
            if not chosen:
                break
            confirmed = [*confirmed, *chosen]
            plan = plan_migration(
                before,
                for_provider(project.schema, project.provider),
                project.provider,
                renames=confirmed,
            )
        open_candidates = [
            c for c in plan.rename_candidates if c not in confirmed and c not in declined
        ]
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
            listed = "\n".join(f"  - {loss}" for loss in losses)
            risk = (
                f"the migration would lose data that exists in the development database:\n{listed}"
            )
            if confirm is None or not confirm(f"{risk}\nApply it anyway?"):
                raise MigrationError(
                    f"{risk}\nNothing was written. Pass --accept-data-loss to go on, or "
                    "--create-only to write the migration without applying it (and edit it)"
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
        apply_migration(store, folder, project)
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


def _introspect_or_none(
    url: str, schemas: Sequence[str] = (), existing: Schema | None = None
) -> Schema | None:
    """The database at ``url`` as a schema (``schemas``: the database schemas to read), or
    None when empty. ``existing`` lends the names and client-side details a database cannot
    show (relation fields, ``uuid()`` defaults, ``@updatedAt``), so they plan no change."""
    from datatier.migrate._introspect import EmptyDatabase, introspect

    try:
        return introspect(url, schemas=list(schemas) or None, existing=existing)
    except EmptyDatabase:
        return None


def _schemas(schema: Schema) -> tuple[str, ...]:
    """The database schemas a multi-schema datasource lists (``schemas = [...]``); none otherwise."""
    return schema.datasource.schemas if schema.datasource is not None else ()


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

    candidates = plan_migration(
        before, for_provider(project.schema, project.provider), project.provider
    ).rename_candidates
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
    portable: dict[str, str] = {}  # a portable schema runs where the other side is
    for side in sides:
        if side.kind == "schema" and side.value is not None:
            schema = load_schema(Path(side.value))
            if schema.provider:
                into = portable if schema.is_portable else found
                into[side.describe()] = canonical_provider(schema.provider)
        elif side.kind == "url" and side.value is not None:
            from datatier.config import provider_for_url

            found[side.describe()] = provider_for_url(side.value)
        elif side.kind == "migrations" and side.value is not None:
            locked = read_lock(Path(side.value))
            if locked:
                found[side.describe()] = canonical_provider(locked)
    providers = set(found.values()) or set(portable.values())
    if len(providers) > 1:
        found = found or portable
        listed = ", ".join(f"{where}: {p}" for where, p in found.items())
        raise ConfigError(f"migrate diff: the two sides are for different databases ({listed})")
    if not providers:
        raise ConfigError(
            "migrate diff: no side names a database provider; use a schema, a URL or a "
            "migrations folder with migration_lock.toml"
        )
    return providers.pop()


def _diff_side(
    side: DiffSource, provider: str, shadow_url: str | None, server_url: str | None
) -> Schema | None:
    if side.kind == "empty":
        return None
    assert side.value is not None
    if side.kind == "schema":
        return for_provider(load_schema(Path(side.value)), provider)
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
