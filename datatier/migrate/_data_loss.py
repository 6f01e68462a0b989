"""Row checks for a migration: one ``SELECT COUNT(*)`` per risky change, run before applying it.

A check's count is above zero exactly when applying the change would lose data
(a dropped table or column that holds values, a value that does not survive a
type change, an enum value still in use) or fail on the rows present (a
required column added to a non-empty table, NULLs in a column made required,
duplicates under a new unique index or primary key, rows a new foreign key
would orphan). Checks name tables and columns as they are *before* the
migration. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from datatier.dialects import Dialect
from datatier.migrate._diff_state import ColumnState, DatabaseState, ForeignKeyState, TableState
from datatier.migrate._ops import (
    AddColumn,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    AlterTable,
    CreateIndex,
    DropColumn,
    DropTable,
    Operation,
    RecreateColumn,
    RecreateEnum,
    RedefineTables,
)

__all__ = ["DataLossCheck", "data_loss_checks"]


@dataclass(frozen=True)
class DataLossCheck:
    """``sql`` is a ``SELECT COUNT(*)`` whose count is > 0 when applying would lose data or fail;
    ``message`` says which change and why, as Prisma's migration warnings do."""

    sql: str
    message: str


def data_loss_checks(
    ops: Sequence[Operation], old: DatabaseState, dialect: Dialect
) -> list[DataLossCheck]:
    """The checks for ``ops``; ``old`` is the state before them (after confirmed renames)."""
    return list(_Checks(old, dialect).run(ops))


class _Checks:
    def __init__(self, old: DatabaseState, dialect: Dialect) -> None:
        self.old = old
        self.dialect = dialect
        self.quote: Callable[[str], str] = dialect.sa_dialect.identifier_preparer.quote

    def source(self, table: TableState) -> str:
        """The table as named before the migration."""
        return ".".join(self.quote(p) for p in (table.schema, table.source) if p is not None)

    def run(self, ops: Sequence[Operation]) -> Iterator[DataLossCheck]:
        for op in ops:
            if isinstance(op, DropTable):
                yield DataLossCheck(
                    f"SELECT COUNT(*) FROM {self.source(op.table)}",
                    f"You are about to drop the `{op.table.source}` table. If the table is not "
                    "empty, all the data it contains will be lost.",
                )
            elif isinstance(op, AlterTable):
                yield from self._alter_table(op)
            elif isinstance(op, RedefineTables):
                for before, after in op.tables:
                    yield from self._redefine(before, after)
            elif isinstance(op, CreateIndex) and op.index.unique:
                table = self.old.tables.get(op.table.key)
                if table is not None:
                    yield from self._unique(table, op.index.columns, "unique index")
            elif isinstance(op, AddForeignKey):
                table = self.old.tables.get(op.table.key)
                if table is not None:
                    yield from self._orphans(table, op.foreign_key)
            elif isinstance(op, RecreateEnum):
                yield from self._enum_values(op)

    # -- columns -----------------------------------------------------------------

    def _alter_table(self, op: AlterTable) -> Iterator[DataLossCheck]:
        before = self.old.tables[op.table.key]
        # A key on recreated columns holds their new values: what the old ones were is moot.
        recreated = {c.after.name for c in op.changes if isinstance(c, RecreateColumn)}
        for change in op.changes:
            if isinstance(change, DropColumn):
                yield self._dropped_column(before, change.column)
            elif isinstance(change, AddColumn):
                yield from self._added_column(before, change.column)
            elif isinstance(change, RecreateColumn):
                old_column = before.columns[change.before.name]
                yield DataLossCheck(
                    f"SELECT COUNT(*) FROM {self.source(before)} WHERE "
                    f"{self.quote(old_column.source)} IS NOT NULL",
                    f"The `{old_column.source}` column on the `{before.source}` table would be "
                    f"dropped and recreated ({change.before.type} to {change.after.type} has no "
                    "cast). This will lead to data loss.",
                )
                yield from self._added_column(before, change.after)
            elif isinstance(change, AlterColumn):
                yield from self._altered_column(before, change.before, change.after)
            elif isinstance(change, AddPrimaryKey) and not recreated & set(change.columns):
                yield from self._unique(before, change.columns, "primary key", nulls=True)

    def _redefine(self, before: TableState, after: TableState) -> Iterator[DataLossCheck]:
        for name, column in before.columns.items():
            target = after.columns.get(name)
            if target is None:
                yield self._dropped_column(before, column)
            else:
                yield from self._altered_column(before, column, target)
        for name, column in after.columns.items():
            if name not in before.columns:
                yield from self._added_column(before, column)
        new_key = (after.primary_key or (None, ()))[1]
        if new_key and new_key != (before.primary_key or (None, ()))[1]:
            yield from self._unique(before, new_key, "primary key", nulls=True)
        old_unique = {i.definition for i in before.indexes.values() if i.unique}
        for index in after.indexes.values():
            if index.unique and index.definition not in old_unique:
                yield from self._unique(before, index.columns, "unique index")
        old_fks = {fk.definition for fk in before.foreign_keys.values()}
        for fk in after.foreign_keys.values():
            if fk.definition not in old_fks:
                yield from self._orphans(before, fk)

    def _dropped_column(self, table: TableState, column: ColumnState) -> DataLossCheck:
        return DataLossCheck(
            f"SELECT COUNT(*) FROM {self.source(table)} WHERE {self.quote(column.source)} IS NOT NULL",
            f"You are about to drop the column `{column.source}` on the `{table.source}` table. "
            "All the data in the column will be lost.",
        )

    def _added_column(self, table: TableState, column: ColumnState) -> Iterator[DataLossCheck]:
        if column.nullable or column.default is not None or column.autoincrement:
            return
        yield DataLossCheck(
            f"SELECT COUNT(*) FROM {self.source(table)}",
            f"Added the required column `{column.name}` to the `{table.source}` table without a "
            "default value. This is not possible if the table is not empty.",
        )

    def _altered_column(
        self, table: TableState, old: ColumnState, new: ColumnState
    ) -> Iterator[DataLossCheck]:
        column = self.quote(old.source)
        if old.nullable and not new.nullable and self.dialect.null_blocks_required(new.default):
            yield DataLossCheck(
                f"SELECT COUNT(*) FROM {self.source(table)} WHERE {column} IS NULL",
                f"Made the column `{old.source}` on table `{table.source}` required, but there "
                "are existing NULL values.",
            )
        if old.type != new.type:
            lost = self.dialect.cast_loses_value(column, old.element.type, new.element.type)
            if lost is not None:
                yield DataLossCheck(
                    f"SELECT COUNT(*) FROM {self.source(table)} WHERE {column} IS NOT NULL "
                    f"AND ({lost})",
                    f"You are about to alter the column `{old.source}` on the `{table.source}` "
                    f"table: the data in that column will be cast from `{old.type}` to "
                    f"`{new.type}`, and some values do not fit.",
                )

    # -- keys --------------------------------------------------------------------

    def _unique(
        self, table: TableState, columns: Sequence[str], what: str, *, nulls: bool = False
    ) -> Iterator[DataLossCheck]:
        sources = [table.columns[c].source for c in columns if c in table.columns]
        if len(sources) != len(columns):
            return  # a new column takes part: its values come from its default
        names = [self.quote(c) for c in sources]
        listed = ", ".join(names)
        not_null = " AND ".join(f"{n} IS NOT NULL" for n in names)
        duplicates = (
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.source(table)} WHERE {not_null} "
            f"GROUP BY {listed} HAVING COUNT(*) > 1) AS duplicates"
        )
        shown = ",".join(sources)
        if nulls:
            any_null = " OR ".join(f"{n} IS NULL" for n in names)
            duplicates = (
                f"SELECT ({duplicates}) + (SELECT COUNT(*) FROM {self.source(table)} "
                f"WHERE {any_null})"
            )
        yield DataLossCheck(
            duplicates,
            f"A {what} covering the columns `[{shown}]` on the table `{table.source}` will be "
            "added. If there are existing duplicate values, this will fail.",
        )

    def _orphans(self, table: TableState, fk: ForeignKeyState) -> Iterator[DataLossCheck]:
        if any(c not in table.columns for c in fk.columns):
            return
        link = fk.definition[:3]
        if any(old.definition[:3] == link for old in table.foreign_keys.values()):
            return  # the same link existed before (only its actions change)
        local = [self.quote(table.columns[c].source) for c in fk.columns]
        child = self.source(table)
        where = " AND ".join(f"{child}.{c} IS NOT NULL" for c in local)
        parent = self.old.tables.get(fk.ref_table)
        if parent is not None and all(c in parent.columns for c in fk.ref_columns):
            remote = [self.quote(parent.columns[c].source) for c in fk.ref_columns]
            source = self.source(parent)
            match = " AND ".join(
                f"{source}.{r} = {child}.{c}" for r, c in zip(remote, local, strict=True)
            )
            where += f" AND NOT EXISTS (SELECT 1 FROM {source} WHERE {match})"
        yield DataLossCheck(
            f"SELECT COUNT(*) FROM {child} WHERE {where}",
            f"The foreign key `{fk.name}` on `{table.source}` will be added, but existing rows "
            "reference rows that do not exist. Applying it will fail.",
        )

    def _enum_values(self, op: RecreateEnum) -> Iterator[DataLossCheck]:
        removed = ", ".join("'" + v.replace("'", "''") + "'" for v in op.removed)
        for use in op.usages:
            if use.dropped:
                continue  # its values go with it (see the drop's own check)
            table = ".".join(
                self.quote(p) for p in (use.table[0], use.source_table) if p is not None
            )
            column = self.quote(use.source_column)
            test = (
                f"{column}::text[] && ARRAY[{removed}]::text[]"
                if use.is_array
                else f"{column}::text IN ({removed})"
            )
            yield DataLossCheck(
                f"SELECT COUNT(*) FROM {table} WHERE {test}",
                f"The values [{','.join(op.removed)}] on the enum `{op.enum.name}` will be "
                f"removed. If these variants are still used in the database, this will fail "
                f"(column `{use.source_column}` of `{use.source_table}`).",
            )
