"""A normalized snapshot of a database catalog, and the differences between two snapshots.

The snapshot is what ``db push`` is judged by: datatier's database must have the
same catalog as the one Prisma's migration engine builds from the same schema.
Every collection is kept in a canonical order (columns stay in table order,
everything else is sorted), so ``expected == actual`` means "same catalog" and
:func:`diff_catalogs` says, one line per difference, where they part.

The readers live beside this module: ``_catalog_postgres.read_postgres_catalog``
and ``_catalog_sqlite.read_sqlite_catalog``. Objects that datatier owns (names
starting ``_datatier_``), Prisma's ``_prisma_migrations`` and SQLite's own
``sqlite_*`` tables are never part of a snapshot.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "Catalog",
    "Check",
    "Column",
    "EnumType",
    "ForeignKey",
    "Index",
    "IndexColumn",
    "PrimaryKey",
    "Sequence",
    "Table",
    "diff_catalogs",
    "is_ignored_name",
]

REFERENTIAL_ACTIONS = ("CASCADE", "RESTRICT", "NO ACTION", "SET NULL", "SET DEFAULT")


def is_ignored_name(name: str) -> bool:
    """Whether a database object with this name is left out of every snapshot."""
    return (
        name.startswith("_datatier_")
        or name == "_prisma_migrations"
        or name.lower().startswith("sqlite_")
    )


def _set(obj: object, attr: str, value: object) -> None:
    # Canonical ordering is applied once, at construction, on a frozen instance.
    object.__setattr__(obj, attr, value)


@dataclass(frozen=True)
class Column:
    """One column. ``type`` is ``format_type()`` on PostgreSQL, the declared type uppercased on SQLite.

    ``default`` is the default expression as the database prints it back
    (``nextval('"Post_id_seq"'::regclass)``, ``'USER'::"Role"``, ``CURRENT_TIMESTAMP``).
    ``identity`` is ``"ALWAYS"``/``"BY DEFAULT"`` (PostgreSQL identity columns),
    ``generated`` the generation expression (PostgreSQL) or ``"VIRTUAL"``/``"STORED"``
    (SQLite, whose pragmas do not expose the expression), ``collation`` a
    non-default collation (PostgreSQL only), ``autoincrement`` whether this is
    SQLite's ``INTEGER PRIMARY KEY AUTOINCREMENT`` column.
    """

    name: str
    type: str
    nullable: bool
    default: str | None = None
    identity: str | None = None
    generated: str | None = None
    collation: str | None = None
    autoincrement: bool = False


@dataclass(frozen=True)
class PrimaryKey:
    """The primary key: constraint name (``None`` where the database keeps none) and columns in key order."""

    name: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class IndexColumn:
    """One key of an index: a column name, or an expression's text when ``expression`` is set.

    ``nulls`` is ``"FIRST"``/``"LAST"`` only where it differs from the default
    for the sort direction; ``opclass`` only when not the type's default
    operator class; ``collation`` only when not the column's own.
    """

    name: str
    expression: bool = False
    descending: bool = False
    nulls: str | None = None
    opclass: str | None = None
    collation: str | None = None

    def render(self) -> str:
        """This key as it would appear inside ``CREATE INDEX ... (...)``."""
        parts = [self.name if self.expression else _quote(self.name)]
        if self.collation is not None:
            parts.append(f"COLLATE {_quote(self.collation)}")
        if self.opclass is not None:
            parts.append(self.opclass)
        if self.descending:
            parts.append("DESC")
        if self.nulls is not None:
            parts.append(f"NULLS {self.nulls}")
        return " ".join(parts)


@dataclass(frozen=True)
class Index:
    """An index other than the primary key's.

    ``constraint`` is ``"UNIQUE"`` or ``"EXCLUDE"`` when the index backs a table
    constraint rather than being a ``CREATE INDEX`` of its own: Prisma creates
    unique *indexes*, and a unique *constraint* is a different catalog.
    ``method`` is the access method on PostgreSQL (``btree``, ``gin``, ...) and
    ``None`` on SQLite; ``include`` holds PostgreSQL ``INCLUDE`` columns.
    """

    name: str
    columns: tuple[IndexColumn, ...]
    unique: bool = False
    constraint: str | None = None
    method: str | None = None
    include: tuple[str, ...] = ()
    predicate: str | None = None
    nulls_not_distinct: bool = False


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key; actions are ``CASCADE``, ``RESTRICT``, ``NO ACTION``, ``SET NULL`` or ``SET DEFAULT``.

    ``ref_table`` is schema-qualified (``other.Table``) only when it lives in
    another schema than the table; ``ref_columns`` are always spelled out, even
    where SQLite's DDL left them implicit.
    """

    name: str | None
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False

    def sort_key(self) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
        """Canonical position among a table's foreign keys."""
        return (self.name or "", self.columns, self.ref_table, self.ref_columns)


@dataclass(frozen=True)
class Check:
    """A CHECK constraint (PostgreSQL only) with its definition as ``pg_get_constraintdef`` prints it."""

    name: str
    definition: str


@dataclass(frozen=True)
class Table:
    """A table; ``columns`` in table order, everything else sorted by name.

    ``options`` holds table options that change behaviour (SQLite ``STRICT``,
    ``WITHOUT ROWID``).
    """

    name: str
    columns: tuple[Column, ...]
    primary_key: PrimaryKey | None = None
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "columns", tuple(self.columns))
        _set(self, "indexes", tuple(sorted(self.indexes, key=lambda i: i.name)))
        _set(self, "foreign_keys", tuple(sorted(self.foreign_keys, key=ForeignKey.sort_key)))
        _set(self, "checks", tuple(sorted(self.checks, key=lambda c: c.name)))
        _set(self, "options", tuple(sorted(self.options)))

    def column(self, name: str) -> Column:
        """The column called ``name``; ``KeyError`` if there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def index(self, name: str) -> Index:
        """The index called ``name``; ``KeyError`` if there is none."""
        for idx in self.indexes:
            if idx.name == name:
                return idx
        raise KeyError(name)


@dataclass(frozen=True)
class EnumType:
    """A PostgreSQL enum type with its labels in declaration (sort) order."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Sequence:
    """A PostgreSQL sequence; ``owned_by`` is ``table.column`` for SERIAL and identity sequences."""

    name: str
    data_type: str
    start: int
    increment: int
    min_value: int
    max_value: int
    cycle: bool
    owned_by: str | None


@dataclass(frozen=True)
class Catalog:
    """Everything compared about one database schema, in canonical order."""

    tables: tuple[Table, ...]
    enums: tuple[EnumType, ...] = ()
    sequences: tuple[Sequence, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "tables", tuple(sorted(self.tables, key=lambda t: t.name)))
        _set(self, "enums", tuple(sorted(self.enums, key=lambda e: e.name)))
        _set(self, "sequences", tuple(sorted(self.sequences, key=lambda s: s.name)))

    def table(self, name: str) -> Table:
        """The table called ``name``; ``KeyError`` if there is none."""
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


# --- comparison -------------------------------------------------------------

T = TypeVar("T")


def diff_catalogs(expected: Catalog, actual: Catalog) -> list[str]:
    """Human-readable differences between two catalogs, one per line; empty when they are equal.

    Lines read ``<where>: <what> <expected> != <actual>``, for example
    ``table "Post": column "views": type integer != bigint``.
    """
    out: list[str] = []
    _diff_keyed(out, "", "table", expected.tables, actual.tables, _name, _diff_table)
    _diff_keyed(out, "", "enum", expected.enums, actual.enums, _name, _diff_fields)
    _diff_keyed(out, "", "sequence", expected.sequences, actual.sequences, _name, _diff_fields)
    return out


def _name(obj: Any) -> str:
    name: str = obj.name
    return name


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fk_key(fk: ForeignKey) -> str:
    if fk.name is not None:
        return fk.name
    return f"({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)})"


def _diff_keyed(
    out: list[str],
    where: str,
    kind: str,
    expected: Iterable[T],
    actual: Iterable[T],
    key: Callable[[T], str],
    compare: Callable[[list[str], str, T, T], None],
) -> None:
    exp = {key(item): item for item in expected}
    act = {key(item): item for item in actual}
    missing = [k for k in exp if k not in act]
    unexpected = [k for k in act if k not in exp]
    for k in list(missing):
        # A definition that only changed its name reads better as one line.
        for u in unexpected:
            if _same_but_name(exp[k], act[u]):
                out.append(f"{where}{kind} {_quote(k)} renamed to {_quote(u)}")
                missing.remove(k)
                unexpected.remove(u)
                break
    for k in exp:
        if k in missing:
            out.append(f"{where}{kind} {_quote(k)} missing")
        elif k in act:
            compare(out, f"{where}{kind} {_quote(k)}: ", exp[k], act[k])
    out.extend(f"{where}unexpected {kind} {_quote(u)}" for u in unexpected)


def _same_but_name(a: object, b: object) -> bool:
    if type(a) is not type(b) or not dataclasses.is_dataclass(a) or isinstance(a, type):
        return False
    return dataclasses.replace(a, name=getattr(b, "name")) == b  # noqa: B009


def _diff_table(out: list[str], where: str, exp: Table, act: Table) -> None:
    _diff_keyed(out, where, "column", exp.columns, act.columns, _name, _diff_fields)
    act_names = {c.name for c in act.columns}
    exp_names = {c.name for c in exp.columns}
    exp_order = [c.name for c in exp.columns if c.name in act_names]
    act_order = [c.name for c in act.columns if c.name in exp_names]
    if exp_order != act_order:
        out.append(f"{where}column order {_render(exp_order)} != {_render(act_order)}")
    _diff_primary_key(out, where, exp.primary_key, act.primary_key)
    _diff_keyed(out, where, "index", exp.indexes, act.indexes, _name, _diff_fields)
    _diff_keyed(
        out, where, "foreign key", exp.foreign_keys, act.foreign_keys, _fk_key, _diff_fields
    )
    _diff_keyed(out, where, "check", exp.checks, act.checks, _name, _diff_fields)
    if exp.options != act.options:
        out.append(f"{where}options {_render(exp.options)} != {_render(act.options)}")


def _diff_primary_key(
    out: list[str], where: str, exp: PrimaryKey | None, act: PrimaryKey | None
) -> None:
    if exp is None and act is None:
        return
    if act is None:
        out.append(f"{where}primary key {_render(exp)} missing")
    elif exp is None:
        out.append(f"{where}unexpected primary key {_render(act)}")
    else:
        _diff_fields(out, f"{where}primary key ", exp, act)


def _diff_fields(out: list[str], where: str, exp: Any, act: Any) -> None:
    for field in dataclasses.fields(exp):
        a, b = getattr(exp, field.name), getattr(act, field.name)
        if a == b:
            continue
        if field.name == "nullable":
            out.append(f"{where}{'NULL' if a else 'NOT NULL'} != {'NULL' if b else 'NOT NULL'}")
        else:
            out.append(f"{where}{field.name.replace('_', ' ')} {_render(a)} != {_render(b)}")


def _render(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, PrimaryKey):
        name = "" if value.name is None else f"{_quote(value.name)} "
        return f"{name}{_render(value.columns)}"
    if isinstance(value, cabc.Sequence) and not isinstance(value, str):
        items = [v.render() if isinstance(v, IndexColumn) else str(v) for v in value]
        return "(" + ", ".join(items) + ")"
    return str(value)
