"""Compare two database states and list the operations that turn one into the other.

The decisions follow Prisma's migration engine: a changed column is altered in
place where a cast exists and dropped and added where none does (PostgreSQL);
on a database that cannot alter tables in place (SQLite) a table whose
columns, key or foreign keys change is rebuilt; an index whose definition is
unchanged but whose name changed is renamed. Renames of tables and columns are
applied only when confirmed; otherwise each dropped/added pair that could be
one is reported as a candidate. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from datatier.dialects import Dialect
from datatier.migrate._diff_state import (
    DatabaseState,
    ForeignKeyState,
    IndexState,
    TableKey,
    TableState,
    rename_column,
    rename_table,
)
from datatier.migrate._ops import (
    STEP_ORDER,
    AddColumn,
    AddEnumValues,
    AddForeignKey,
    AddPrimaryKey,
    AlterColumn,
    AlterExtension,
    AlterTable,
    ColumnChange,
    CreateEnum,
    CreateExtension,
    CreateIndex,
    CreateSchema,
    CreateTable,
    DropColumn,
    DropEnum,
    DropForeignKey,
    DropIndex,
    DropPrimaryKey,
    DropTable,
    EnumUsage,
    Operation,
    RecreateColumn,
    RecreateEnum,
    RedefineIndex,
    RedefineTables,
    RenameColumn,
    RenameForeignKey,
    RenameIndex,
    RenamePrimaryKey,
    RenameTable,
)

__all__ = ["Rename", "apply_renames", "diff_states", "rename_candidates"]


@dataclass(frozen=True)
class Rename:
    """A confirmed rename in database names: a table (``table`` is None) or a column of ``table``."""

    kind: Literal["table", "column"]
    old: str
    new: str
    table: str | None = None
    schema: str | None = None


def apply_renames(
    state: DatabaseState, renames: Sequence[Rename]
) -> tuple[DatabaseState, list[Operation]]:
    """``state`` as it is after the confirmed ``renames`` (tables first, then columns, whose
    ``table`` is the table's new name), and the operations that rename."""
    ops: list[Operation] = []
    for rename in renames:
        if rename.kind == "table":
            key: TableKey = (rename.schema, rename.old)
            serials = tuple(c.name for c in state.tables[key].columns.values() if c.autoincrement)
            ops.append(RenameTable(key, rename.new, serials))
            state = rename_table(state, key, rename.new)
    for rename in renames:
        if rename.kind == "column":
            assert rename.table is not None
            key = (rename.schema, rename.table)
            serial = state.tables[key].columns[rename.old].autoincrement
            ops.append(RenameColumn(key, rename.old, rename.new, serial))
            state = rename_column(state, key, rename.old, rename.new)
    return state, ops


def diff_states(
    old: DatabaseState, new: DatabaseState, dialect: Dialect, renames: Sequence[Rename] = ()
) -> list[Operation]:
    """The operations, in Prisma's step order, that turn ``old`` into ``new``."""
    old, ops = apply_renames(old, renames)
    differ = _Differ(old, new, dialect)
    ops.extend(differ.run())
    # Prisma's order: by step kind, then by the table's place in the schema (the old schema's
    # for what is dropped, the new one's for the rest), then as generated.
    rank = {kind: i for i, kind in enumerate(dict.fromkeys(k.kind for k in STEP_ORDER))}
    old_place = {key: i for i, key in enumerate(old.tables)}
    new_place = {key: i for i, key in enumerate(new.tables)}

    def order(op: Operation) -> tuple[int, int]:
        table = getattr(op, "table", None)
        if not isinstance(table, TableState):
            return rank[op.kind], -1
        places = old_place if op.kind.startswith("Drop") else new_place
        return rank[op.kind], places.get(table.key, old_place.get(table.key, -1))

    return sorted(ops, key=order)


def rename_candidates(old: DatabaseState, new: DatabaseState) -> list[Rename]:
    """Dropped/added pairs that could be renames: columns of one type in one table, or
    tables with the same columns (names and types)."""
    out: list[Rename] = []
    dropped = [t for k, t in old.tables.items() if k not in new.tables]
    created = [t for k, t in new.tables.items() if k not in old.tables]
    for before in dropped:
        for after in created:
            if before.schema == after.schema and _shape(before) == _shape(after):
                out.append(Rename("table", before.name, after.name, schema=before.schema))
    for key, after in new.tables.items():
        before_table = old.tables.get(key)
        if before_table is None:
            continue
        gone = [c for n, c in before_table.columns.items() if n not in after.columns]
        added = [c for n, c in after.columns.items() if n not in before_table.columns]
        for a in gone:
            for b in added:
                if (a.type, a.is_array) == (b.type, b.is_array):
                    out.append(Rename("column", a.name, b.name, table=key[1], schema=key[0]))
    return out


def _shape(table: TableState) -> frozenset[tuple[str, str]]:
    return frozenset((c.name, c.type) for c in table.columns.values())


class _Differ:
    def __init__(self, old: DatabaseState, new: DatabaseState, dialect: Dialect) -> None:
        self.old, self.new, self.dialect = old, new, dialect
        self.ops: list[Operation] = []
        self.common = [k for k in new.tables if k in old.tables]
        self.rebuilt: set[TableKey] = set()
        # Columns whose values are dropped and re-added, or retyped: keys touching them are remade.
        self.remade_columns: set[tuple[TableKey, str]] = set()
        self.key_changed: set[TableKey] = set()

    def run(self) -> list[Operation]:
        self._schemas()
        self._extensions()
        self._enums()
        dropped = [t for k, t in self.old.tables.items() if k not in self.new.tables]
        for table in dropped:
            self._drop_table(table)
        for key in self.common:
            self._columns(self.old.tables[key], self.new.tables[key])
        for key in self.common:
            self._indexes(self.old.tables[key], self.new.tables[key])
        for key in self.common:
            self._foreign_keys(self.old.tables[key], self.new.tables[key])
        for key, table in self.new.tables.items():
            if key not in self.old.tables:
                self._create_table(table)
        if self.rebuilt:
            pairs = tuple(
                (self.old.tables[k], self.new.tables[k]) for k in self.common if k in self.rebuilt
            )
            self.ops.append(RedefineTables(pairs))
            # As Prisma does: with a rebuild, the indexes of dropped tables go first.
            for table in dropped:
                self.ops.extend(DropIndex(table, i) for i in table.indexes.values())
        return self.ops

    # -- schemas and enums -------------------------------------------------------

    def _schemas(self) -> None:
        known = {k[0] for k in self.old.tables} | {k[0] for k in self.old.enums}
        wanted = {k[0] for k in self.new.tables} | {k[0] for k in self.new.enums}
        for name in sorted(s for s in wanted - known if s is not None):
            self.ops.append(CreateSchema(name))

    def _extensions(self) -> None:
        # As Prisma does, an extension no longer listed stays installed (objects may use it).
        old, new = self.old.extensions, self.new.extensions
        for name, extension in sorted(new.items()):
            before = old.get(name)
            if before is None:
                self.ops.append(CreateExtension(extension))
            elif (before.schema, before.version) != (extension.schema, extension.version):
                self.ops.append(AlterExtension(before, extension))

    def _enums(self) -> None:
        if not self.dialect.supports_enums:
            return
        for key, enum in self.new.enums.items():
            before = self.old.enums.get(key)
            if before is None:
                self.ops.append(CreateEnum(enum))
                continue
            removed = tuple(v for v in before.values if v not in enum.values)
            added = tuple(v for v in enum.values if v not in before.values)
            if removed:
                usages = tuple(self._enum_usages(key))
                self.ops.append(RecreateEnum(enum, removed, added, usages))
            elif added:
                self.ops.append(AddEnumValues(enum, added))
        for key, enum in self.old.enums.items():
            if key not in self.new.enums:
                self.ops.append(DropEnum(enum))

    def _enum_usages(self, enum_key: tuple[str | None, str]) -> Iterable[EnumUsage]:
        # Enum names are unique across database schemas (Prisma requires it), so any table may use it.
        for key, table in self.old.tables.items():
            after = self.new.tables.get(key)
            for column in table.columns.values():
                if column.enum != enum_key[1]:
                    continue
                target = after.columns.get(column.name) if after is not None else None
                yield EnumUsage(
                    table=key,
                    column=column.name,
                    is_array=column.is_array,
                    had_default=column.default is not None,
                    new_default=target.default if target is not None else None,
                    source_table=table.source,
                    source_column=column.source,
                    dropped=target is None or target.enum != enum_key[1],
                )
                self.remade_columns.add((key, column.name))

    # -- tables ------------------------------------------------------------------

    def _drop_table(self, table: TableState) -> None:
        if not self.dialect.inline_foreign_keys:
            self.ops.extend(DropForeignKey(table, fk) for fk in table.foreign_keys.values())
        self.ops.append(DropTable(table))

    def _create_table(self, table: TableState) -> None:
        self.ops.append(CreateTable(table))
        self.ops.extend(CreateIndex(table, i) for i in table.indexes.values())
        if not self.dialect.inline_foreign_keys:
            self.ops.extend(AddForeignKey(table, fk) for fk in table.foreign_keys.values())

    def _columns(self, before: TableState, after: TableState) -> None:
        changes: list[ColumnChange] = []
        dropped = [c for n, c in before.columns.items() if n not in after.columns]
        # Prisma adds new columns in the order of their names.
        added = sorted(
            (c for n, c in after.columns.items() if n not in before.columns), key=lambda c: c.name
        )
        altered: list[ColumnChange] = []
        for name, column in after.columns.items():
            old = before.columns.get(name)
            if old is None or old.same_definition(column):
                continue
            if old.type != column.type and not self.dialect.can_cast_column(
                old.element.type, column.element.type
            ):
                altered.append(RecreateColumn(old, column))
                self.remade_columns.add((after.key, name))
            else:
                altered.append(AlterColumn(old, column))
                if old.type != column.type:
                    self.remade_columns.add((after.key, name))
        old_key = (before.primary_key or (None, ()))[1]
        pk_changed = old_key != (after.primary_key or (None, ()))[1]
        # Dropping a key column drops the key: it is added again after the column.
        pk_changed = pk_changed or any(
            isinstance(c, RecreateColumn) and c.after.name in old_key for c in altered
        )
        if not self.dialect.alters_tables_in_place:
            in_place = not dropped and not altered and not pk_changed
            in_place = in_place and all(self.dialect.can_add_column(c.element) for c in added)
            in_place = in_place and self._same_foreign_keys(before, after)
            if not in_place:
                self.rebuilt.add(after.key)
            elif added:
                self.ops.append(AlterTable(after, tuple(AddColumn(c) for c in added)))
            return
        if pk_changed:
            self.key_changed.add(after.key)
            if before.primary_key is not None:
                changes.append(DropPrimaryKey(before.primary_key[0]))
        changes.extend(DropColumn(c) for c in dropped)
        changes.extend(AddColumn(c) for c in added)
        changes.extend(altered)
        if pk_changed and after.primary_key is not None:
            changes.append(AddPrimaryKey(*after.primary_key))
        if changes:
            self.ops.append(AlterTable(after, tuple(changes)))
        if (
            not pk_changed
            and before.primary_key is not None
            and after.primary_key is not None
            and before.primary_key[0] != after.primary_key[0]
            and before.primary_key[0] is not None
            and after.primary_key[0] is not None
        ):
            self.ops.append(RenamePrimaryKey(after, before.primary_key[0], after.primary_key[0]))

    def _same_foreign_keys(self, before: TableState, after: TableState) -> bool:
        old = {n: fk.definition for n, fk in before.foreign_keys.items()}
        return old == {n: fk.definition for n, fk in after.foreign_keys.items()}

    # -- indexes -----------------------------------------------------------------

    def _indexes(self, before: TableState, after: TableState) -> None:
        if after.key in self.rebuilt:
            return  # the rebuild creates every index of the new table
        remade = {c for k, c in self.remade_columns if k == after.key and self._recreated(k, c)}
        gone: list[IndexState] = []
        new: list[IndexState] = []
        for name, index in before.indexes.items():
            target = after.indexes.get(name)
            if target is None:
                gone.append(index)
            elif target.definition != index.definition or remade & set(index.columns):
                gone.append(index)
                new.append(target)
        new.extend(i for n, i in after.indexes.items() if n not in before.indexes)
        for index in list(gone):
            twin = next(
                (i for i in new if i.definition == index.definition and i.name != index.name),
                None,
            )
            if twin is None or remade & set(index.columns):
                continue
            gone.remove(index)
            new.remove(twin)
            if self.dialect.renames_indexes:
                self.ops.append(RenameIndex(after, index, twin))
            else:
                self.ops.append(RedefineIndex(after, index, twin))
        self.ops.extend(DropIndex(before, i) for i in gone)
        self.ops.extend(CreateIndex(after, i) for i in new)

    def _recreated(self, key: TableKey, column: str) -> bool:
        for op in self.ops:
            if (
                isinstance(op, AlterTable)
                and op.table.key == key
                and any(
                    isinstance(c, RecreateColumn) and c.after.name == column for c in op.changes
                )
            ):
                return True
        return False

    # -- foreign keys --------------------------------------------------------------

    def _foreign_keys(self, before: TableState, after: TableState) -> None:
        if self.dialect.inline_foreign_keys:
            return  # part of the table: a change rebuilds it (see _columns)
        gone: list[ForeignKeyState] = []
        new: list[ForeignKeyState] = []
        for name, fk in before.foreign_keys.items():
            target = after.foreign_keys.get(name)
            if target is None:
                gone.append(fk)
            elif target.definition != fk.definition or self._keys_remade(after.key, fk):
                gone.append(fk)
                new.append(target)
        new.extend(fk for n, fk in after.foreign_keys.items() if n not in before.foreign_keys)
        for fk in list(gone):
            twin = next(
                (f for f in new if f.definition == fk.definition and f.name != fk.name), None
            )
            if twin is None or self._keys_remade(after.key, fk):
                continue
            gone.remove(fk)
            new.remove(twin)
            self.ops.append(RenameForeignKey(after, fk.name, twin.name))
        self.ops.extend(DropForeignKey(before, fk) for fk in gone)
        self.ops.extend(AddForeignKey(after, fk) for fk in new)

    def _keys_remade(self, key: TableKey, fk: ForeignKeyState) -> bool:
        """Whether a column at either end of ``fk`` changes type, or the referenced key is rebuilt."""
        if any((key, c) in self.remade_columns for c in fk.columns):
            return True
        if any((fk.ref_table, c) in self.remade_columns for c in fk.ref_columns):
            return True
        return fk.ref_table in self.key_changed or self._referenced_index_remade(fk)

    def _referenced_index_remade(self, fk: ForeignKeyState) -> bool:
        for op in self.ops:
            if (
                isinstance(op, DropIndex)
                and op.table.key == fk.ref_table
                and set(op.index.columns) == set(fk.ref_columns)
            ):
                return True
        return False
