"""``plan_migration``: the migration between two schemas, both ways, as Prisma would write it.

The plan holds the operations, the SQL of ``migration.sql`` (up) and
``down.sql`` (the reverse plan), a one-line summary per change, the row checks
that tell whether applying either way would lose data or fail, and the
dropped/added pairs that could be renames (applied as renames only when passed
back in ``renames``). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from datatier.dialects import Dialect, get_dialect
from datatier.errors import DatatierError, ProviderMismatch
from datatier.migrate._data_loss import DataLossCheck, data_loss_checks
from datatier.migrate._diff import Rename, apply_renames, diff_states, rename_candidates
from datatier.migrate._diff_state import DatabaseState, database_state
from datatier.migrate._ops import DropTable, Operation, RedefineTables
from datatier.migrate._render_migration import MigrationRenderer
from datatier.schema._ir import Schema

__all__ = [
    "DataLossCheck",
    "InvalidRename",
    "MigrationPlan",
    "MigrationStep",
    "RenameCandidate",
    "plan_migration",
]

EMPTY_MIGRATION = "-- This is an empty migration.\n"


class InvalidRename(DatatierError):
    """A rename passed to ``plan_migration`` does not match the two schemas."""

    code = "invalid_rename"


@dataclass(frozen=True)
class RenameCandidate:
    """A dropped and an added table (``kind="table"``) or column of ``table`` that could be one
    renamed object; database names. Pass it back in ``renames`` to rename instead of drop/add."""

    kind: Literal["table", "column"]
    old: str
    new: str
    table: str | None = None  # the table (its name after the migration) for a column
    schema: str | None = None

    def describe(self) -> str:
        """``column "User"."name" -> "fullName"`` and the like."""
        if self.kind == "table":
            return f'table "{self.old}" -> "{self.new}"'
        return f'column "{self.table}"."{self.old}" -> "{self.new}"'

    def reversed(self) -> RenameCandidate:
        return RenameCandidate(self.kind, self.new, self.old, self.table, self.schema)


@dataclass(frozen=True)
class MigrationStep:
    """One step of the script: ``kind`` is its ``-- Kind`` header, ``sql`` its statements."""

    kind: str
    description: str
    sql: str


@dataclass(frozen=True)
class MigrationPlan:
    """What ``before -> after`` takes on one provider; see the module docstring."""

    provider: str
    steps: tuple[MigrationStep, ...]
    up_sql: str
    down_sql: str
    summary: list[str]
    data_loss: tuple[DataLossCheck, ...]
    down_data_loss: tuple[DataLossCheck, ...]
    rename_candidates: tuple[RenameCandidate, ...]
    needs_foreign_keys_off: bool
    down_needs_foreign_keys_off: bool
    down_steps: tuple[MigrationStep, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.steps


def plan_migration(
    before: Schema | None,
    after: Schema,
    provider: str,
    *,
    renames: Sequence[RenameCandidate] = (),
) -> MigrationPlan:
    """The plan that turns ``before``'s database (None: an empty one) into ``after``'s on ``provider``.

    Raises ``ProviderMismatch`` when the schemas are for different providers (or
    ``provider`` is another one and a schema is not portable) and ``InvalidRename``
    when a confirmed rename does not name a dropped and an added object.
    """
    dialect = get_dialect(provider)
    _check_providers(before, after, dialect.name)
    old = database_state(before, dialect)
    new = database_state(after, dialect)
    confirmed = [_to_rename(r) for r in renames]
    _check_renames(old, new, confirmed)
    reverse = [
        Rename(r.kind, r.new, r.old, r.table and _old_table(r.table, confirmed), r.schema)
        for r in confirmed
    ]
    renamed_old, _ = apply_renames(old, confirmed)
    up_ops = diff_states(old, new, dialect, confirmed)
    renamed_new, _ = apply_renames(new, reverse)
    down_ops = diff_states(new, old, dialect, reverse)
    renderer = MigrationRenderer(dialect)
    up_steps = tuple(_step(op, renderer) for op in up_ops)
    down_steps = tuple(_step(op, renderer) for op in down_ops)
    up_checks = tuple(_unique_checks(data_loss_checks(up_ops, renamed_old, dialect)))
    down_checks = tuple(_unique_checks(data_loss_checks(down_ops, renamed_new, dialect)))
    taken = {(r.kind, r.old, r.new, r.table) for r in confirmed}
    candidates = tuple(
        RenameCandidate(r.kind, r.old, r.new, r.table, r.schema)
        for r in rename_candidates(renamed_old, new)
        if (r.kind, r.old, r.new, r.table) not in taken
    )
    return MigrationPlan(
        provider=dialect.name,
        steps=up_steps,
        up_sql=_script(up_steps, up_checks),
        down_sql=_script(down_steps, down_checks),
        summary=[s.description for s in up_steps],
        data_loss=up_checks,
        down_data_loss=down_checks,
        rename_candidates=candidates,
        needs_foreign_keys_off=_needs_foreign_keys_off(up_ops, dialect),
        down_needs_foreign_keys_off=_needs_foreign_keys_off(down_ops, dialect),
        down_steps=down_steps,
    )


def _check_providers(before: Schema | None, after: Schema, provider: str) -> None:
    def normal(name: str | None) -> str | None:
        return "postgresql" if name == "postgres" else name

    old, new = normal(before.provider if before else None), normal(after.provider)
    if old is not None and new is not None and old != new:
        raise ProviderMismatch(
            f"cannot plan a migration from a {old} schema to a {new} schema: both schemas must "
            "use the same datasource provider (a database cannot change provider; migrate a "
            "fresh database of the new provider instead)"
        )
    for label, schema in (("the old", before), ("the new", after)):
        if schema is None or normal(schema.provider) in (None, provider):
            continue
        if not schema.is_portable:
            raise ProviderMismatch(
                f"{label} schema is for {schema.provider} and uses provider-specific types "
                f"(@db.*, scalar lists or Unsupported), so it cannot be planned for {provider}: "
                f"plan for {schema.provider}, or remove those types"
            )


def _to_rename(candidate: RenameCandidate) -> Rename:
    return Rename(candidate.kind, candidate.old, candidate.new, candidate.table, candidate.schema)


def _old_table(table: str, renames: Sequence[Rename]) -> str:
    """A column rename's table as named before the table renames (for the reverse plan)."""
    return next((r.old for r in renames if r.kind == "table" and r.new == table), table)


def _check_renames(old: DatabaseState, new: DatabaseState, renames: Sequence[Rename]) -> None:
    tables = {r.old: r.new for r in renames if r.kind == "table"}
    for r in renames:
        if r.kind == "table":
            if (r.schema, r.old) not in old.tables or (r.schema, r.old) in new.tables:
                raise InvalidRename(
                    f'cannot rename table "{r.old}": the old schema must have it and the new one '
                    "must not (pass one of the plan's rename_candidates)"
                )
            if (r.schema, r.new) not in new.tables or (r.schema, r.new) in old.tables:
                raise InvalidRename(
                    f'cannot rename table "{r.old}" to "{r.new}": the new schema must have '
                    f'"{r.new}" and the old one must not'
                )
        elif r.kind == "column":
            if r.table is None:
                raise InvalidRename(f'renaming column "{r.old}" needs its table')
            source = next((o for o, n in tables.items() if n == r.table), r.table)
            before = old.tables.get((r.schema, source))
            after = new.tables.get((r.schema, r.table))
            if before is None or after is None:
                raise InvalidRename(
                    f'cannot rename a column of table "{r.table}": both schemas must have the '
                    "table (rename the table too, or pass one of the plan's rename_candidates)"
                )
            if r.old not in before.columns or r.old in after.columns:
                raise InvalidRename(
                    f'cannot rename column "{r.table}"."{r.old}": the old schema must have it '
                    "and the new one must not"
                )
            if r.new not in after.columns or r.new in before.columns:
                raise InvalidRename(
                    f'cannot rename column "{r.table}"."{r.old}" to "{r.new}": the new schema '
                    f'must have "{r.new}" and the old one must not'
                )
        else:
            raise InvalidRename(f"unknown rename kind {r.kind!r}: use 'table' or 'column'")


def _step(op: Operation, renderer: MigrationRenderer) -> MigrationStep:
    return MigrationStep(kind=op.kind, description=op.describe(), sql=renderer.render(op))


def _unique_checks(checks: Sequence[DataLossCheck]) -> list[DataLossCheck]:
    return list(dict.fromkeys(checks))


def _needs_foreign_keys_off(ops: Sequence[Operation], dialect: Dialect) -> bool:
    return not dialect.alters_tables_in_place and any(
        isinstance(op, (RedefineTables, DropTable)) for op in ops
    )


def _script(steps: Sequence[MigrationStep], checks: Sequence[DataLossCheck]) -> str:
    """migration.sql: Prisma's warnings block, then each step under its ``-- Kind`` header."""
    if not steps:
        return EMPTY_MIGRATION
    parts: list[str] = []
    if checks:
        warnings = "\n".join(f"  - {c.message}" for c in checks)
        parts.append(f"/*\n  Warnings:\n\n{warnings}\n\n*/")
    parts.extend(f"-- {s.kind}\n{s.sql}" for s in steps)
    return "\n\n".join(parts) + "\n"
