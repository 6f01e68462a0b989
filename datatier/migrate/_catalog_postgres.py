"""Read a PostgreSQL schema's catalog (pg_catalog) into a :class:`~datatier.migrate._catalog.Catalog`."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from datatier.migrate._catalog import (
    Catalog,
    Check,
    Column,
    EnumType,
    ForeignKey,
    Index,
    IndexColumn,
    PrimaryKey,
    Sequence,
    Table,
    is_ignored_name,
)

__all__ = ["read_postgres_catalog"]

_ACTIONS = {
    "a": "NO ACTION",
    "r": "RESTRICT",
    "c": "CASCADE",
    "n": "SET NULL",
    "d": "SET DEFAULT",
}
_IDENTITY = {"a": "ALWAYS", "d": "BY DEFAULT"}
_INDOPTION_DESC = 1
_INDOPTION_NULLS_FIRST = 2

_TABLES = """
SELECT c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       a.attidentity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num
             ORDER BY k.ord),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num
             ORDER BY k.ord),
       con.confdeltype, con.confupdtype, con.condeferrable, con.condeferred,
       pg_get_constraintdef(con.oid, true)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname = %(schema)s AND con.contype IN ('p', 'f', 'c')
"""

_INDEXES = """
SELECT c.relname, ic.relname, i.indisunique, am.amname,
       pg_get_expr(i.indpred, i.indrelid), {nulls_not_distinct},
       (SELECT con.contype FROM pg_constraint con
        WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
          AND con.contype IN ('u', 'x'))
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND NOT i.indisprimary
"""

_INDEX_COLUMNS = """
SELECT ic.relname, k.n, k.n > i.indnkeyatts, i.indkey[k.n - 1] = 0,
       a.attname, pg_get_indexdef(i.indexrelid, k.n, true),
       i.indoption[k.n - 1], op.opcname, op.opcdefault,
       CASE WHEN i.indcollation[k.n - 1] <> COALESCE(a.attcollation, 0) THEN co.collname END
FROM pg_index i
CROSS JOIN LATERAL generate_series(1, i.indnatts) AS k(n)
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1]
LEFT JOIN pg_opclass op ON op.oid = i.indclass[k.n - 1]
LEFT JOIN pg_collation co ON co.oid = i.indcollation[k.n - 1]
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p') AND NOT i.indisprimary
ORDER BY ic.relname, k.n
"""

_ENUMS = """
SELECT t.typname, ARRAY(SELECT e.enumlabel FROM pg_enum e
                        WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %(schema)s AND t.typtype = 'e'
"""

_SEQUENCES = """
SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement,
       s.seqmin, s.seqmax, s.seqcycle, oc.relname, oa.attname
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class oc ON oc.oid = d.refobjid
LEFT JOIN pg_attribute oa ON oa.attrelid = d.refobjid AND oa.attnum = d.refobjsubid
WHERE n.nspname = %(schema)s
"""


def read_postgres_catalog(conn: psycopg.Connection[Any], schema: str = "public") -> Catalog:
    """Snapshot the tables, enums and sequences of ``schema`` through a psycopg 3 connection.

    Type names and defaults are printed with ``schema`` as the only schema on
    the search path, so two databases compare equal whatever their settings;
    the connection's search path is restored afterwards.
    """
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT current_setting('search_path')")
        saved = _one(cur.fetchone())
        cur.execute("SELECT set_config('search_path', quote_ident(%s), false)", (schema,))
        try:
            return _read(cur, schema, conn.info.server_version)
        finally:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
                cur.execute("SELECT set_config('search_path', %s, false)", (saved,))


def _one(row: tuple[Any, ...] | None) -> Any:
    assert row is not None
    return row[0]


def _read(cur: psycopg.Cursor[tuple[Any, ...]], schema: str, version: int) -> Catalog:
    params = {"schema": schema}

    def rows(query: str) -> list[tuple[Any, ...]]:
        cur.execute(query.encode(), params)
        return [row for row in cur.fetchall() if not is_ignored_name(row[0])]

    names = [row[0] for row in rows(_TABLES)]
    columns: dict[str, list[Column]] = defaultdict(list)
    for table, name, type_, notnull, default, identity, generated, collation in rows(_COLUMNS):
        columns[table].append(
            Column(
                name=name,
                type=type_,
                nullable=not notnull,
                default=default,
                identity=_IDENTITY.get(identity),
                generated=generated,
                collation=collation,
            )
        )

    pkeys: dict[str, PrimaryKey] = {}
    fkeys: dict[str, list[ForeignKey]] = defaultdict(list)
    checks: dict[str, list[Check]] = defaultdict(list)
    for row in rows(_CONSTRAINTS):
        table, name, kind, cols, ref_schema, ref_table, ref_cols = row[:7]
        if kind == "p":
            pkeys[table] = PrimaryKey(name, tuple(cols))
        elif kind == "c":
            checks[table].append(Check(name, row[11]))
        else:
            fkeys[table].append(
                ForeignKey(
                    name=name,
                    columns=tuple(cols),
                    ref_table=ref_table if ref_schema == schema else f"{ref_schema}.{ref_table}",
                    ref_columns=tuple(ref_cols),
                    on_delete=_ACTIONS[row[7]],
                    on_update=_ACTIONS[row[8]],
                    deferrable=row[9],
                    initially_deferred=row[10],
                )
            )

    keys: dict[str, list[IndexColumn]] = defaultdict(list)
    included: dict[str, list[str]] = defaultdict(list)
    cur.execute(_INDEX_COLUMNS.encode(), params)
    for (
        index,
        _,
        is_include,
        is_expr,
        attname,
        text,
        option,
        opclass,
        opc_default,
        coll,
    ) in cur.fetchall():
        if is_include:
            included[index].append(attname if not is_expr else text)
            continue
        descending = bool(option & _INDOPTION_DESC)
        nulls_first = bool(option & _INDOPTION_NULLS_FIRST)
        keys[index].append(
            IndexColumn(
                name=text if is_expr else attname,
                expression=is_expr,
                descending=descending,
                nulls=None if nulls_first == descending else ("FIRST" if nulls_first else "LAST"),
                opclass=None if opc_default else opclass,
                collation=coll,
            )
        )

    nnd = "i.indnullsnotdistinct" if version >= 150000 else "false"
    indexes: dict[str, list[Index]] = defaultdict(list)
    for table, name, unique, method, predicate, nulls_nd, contype in rows(
        _INDEXES.format(nulls_not_distinct=nnd)
    ):
        indexes[table].append(
            Index(
                name=name,
                columns=tuple(keys[name]),
                unique=unique,
                constraint={"u": "UNIQUE", "x": "EXCLUDE"}.get(contype),
                method=method,
                include=tuple(included[name]),
                predicate=predicate,
                nulls_not_distinct=nulls_nd,
            )
        )

    tables = [
        Table(
            name=name,
            columns=tuple(columns[name]),
            primary_key=pkeys.get(name),
            indexes=tuple(indexes[name]),
            foreign_keys=tuple(fkeys[name]),
            checks=tuple(checks[name]),
        )
        for name in names
    ]
    enums = [EnumType(name, tuple(values)) for name, values in rows(_ENUMS)]
    sequences = [
        Sequence(
            name=name,
            data_type=data_type,
            start=start,
            increment=increment,
            min_value=min_value,
            max_value=max_value,
            cycle=cycle,
            owned_by=None if owner is None else f"{owner}.{column}",
        )
        for name, data_type, start, increment, min_value, max_value, cycle, owner, column in rows(
            _SEQUENCES
        )
        if owner is None or not is_ignored_name(owner)
    ]
    return Catalog(tables=tuple(tables), enums=tuple(enums), sequences=tuple(sequences))
