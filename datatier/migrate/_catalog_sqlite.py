"""Read a SQLite database's catalog (pragmas and ``sqlite_master``) into a :class:`~datatier.migrate._catalog.Catalog`.

SQLite's pragmas give columns, keys, indexes and foreign keys, but no
constraint names, no AUTOINCREMENT flag and no expression text; those come from
the stored ``CREATE`` statements, read by a small tokenizer that only looks at
constraint names, ``AUTOINCREMENT``, index key expressions and partial-index
predicates. Not compared on SQLite: CHECK constraints, generation expressions
(only VIRTUAL/STORED), foreign-key deferrability, and primary-key and UNIQUE
constraint names unless written as ``CONSTRAINT "name" PRIMARY KEY`` (unique
constraints are named by SQLite's ``sqlite_autoindex_<table>_<n>``).
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from datatier.migrate._catalog import (
    Catalog,
    Column,
    ForeignKey,
    Index,
    IndexColumn,
    PrimaryKey,
    Table,
    is_ignored_name,
)

__all__ = ["read_sqlite_catalog"]

_Rows = Callable[..., list[tuple[Any, ...]]]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|--[^\n]*|/\*.*?(?:\*/|$))
    | (?P<ident>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    | (?P<string>'(?:[^']|'')*')
    | (?P<word>[\w$.]+)
    | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    text: str
    kind: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""

    @property
    def value(self) -> str:
        """The identifier this token spells, without quotes."""
        if self.kind == "ident":
            quote = self.text[0]
            body = self.text[1:-1]
            return body if quote == "[" else body.replace(quote * 2, quote)
        if self.kind == "string":
            return self.text[1:-1].replace("''", "'")
        return self.text


def _tokenize(sql: str) -> list[_Token]:
    return [
        _Token(m.group(), m.lastgroup or "", m.start(), m.end())
        for m in _TOKEN.finditer(sql)
        if m.lastgroup != "space"
    ]


def _split_parenthesized(tokens: list[_Token], open_at: int) -> tuple[list[list[_Token]], int]:
    """Split the items of the list opened by ``tokens[open_at] == '('`` at top-level commas."""
    items: list[list[_Token]] = [[]]
    depth = 0
    for i in range(open_at + 1, len(tokens)):
        tok = tokens[i]
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            if depth == 0:
                return items, i
            depth -= 1
        elif tok.text == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(tok)
    return items, len(tokens)


def _first_open(tokens: list[_Token]) -> int:
    return next(i for i, tok in enumerate(tokens) if tok.text == "(")


@dataclass
class _TableSql:
    """What the pragmas do not tell about a table, as read from its CREATE TABLE text."""

    pk_name: str | None = None
    autoincrement: bool = False
    fk_names: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)
    """(constraint name, columns, referenced table) of each named foreign key."""


def _parse_create_table(sql: str) -> _TableSql:
    try:
        return _parse_table_items(_tokenize(sql))
    except (IndexError, StopIteration):  # not a plain column list (CREATE TABLE ... AS SELECT)
        return _TableSql()


def _parse_table_items(tokens: list[_Token]) -> _TableSql:
    parsed = _TableSql()
    parsed.autoincrement = any(tok.upper == "AUTOINCREMENT" for tok in tokens)
    items, _ = _split_parenthesized(tokens, _first_open(tokens))
    for item in items:
        if not item:
            continue
        words = [tok.upper for tok in item]
        is_constraint = words[0] in {"CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK"}
        for i, word in enumerate(words[:-2]):
            if word != "CONSTRAINT":
                continue
            name, follows = item[i + 1].value, words[i + 2]
            if follows == "PRIMARY":
                parsed.pk_name = name
            elif follows == "FOREIGN" and is_constraint:
                cols, close = _split_parenthesized(item, i + 4)
                ref = item[close + 2].value
                parsed.fk_names.append((name, tuple(c[0].value for c in cols), ref))
            elif follows == "REFERENCES" and not is_constraint:
                parsed.fk_names.append((name, (item[0].value,), item[i + 3].value))
    return parsed


def _parse_create_index(sql: str) -> tuple[list[str], str | None]:
    """Key texts (whitespace collapsed, without ASC/DESC/COLLATE) and the WHERE predicate."""
    tokens = _tokenize(sql)
    items, close = _split_parenthesized(tokens, _first_open(tokens))
    keys: list[str] = []
    for item in items:
        end = len(item)
        while end > 1 and item[end - 1].upper in {"ASC", "DESC"}:
            end -= 1
        if end > 2 and item[end - 2].upper == "COLLATE":
            end -= 2
        keys.append(_collapse(sql[item[0].start : item[end - 1].end]))
    predicate = None
    if close + 1 < len(tokens) and tokens[close + 1].upper == "WHERE":
        predicate = _collapse(sql[tokens[close + 1].end :].strip().rstrip(";"))
    return keys, predicate


def _collapse(text: str) -> str:
    return " ".join(text.split())


def read_sqlite_catalog(conn: sqlite3.Connection) -> Catalog:
    """Snapshot the tables of the ``main`` database of a sqlite3 connection (SQLite 3.37+)."""
    cur = conn.cursor()
    cur.row_factory = None  # whatever the connection's factory, rows here are tuples

    def rows(query: str, *args: Any) -> list[tuple[Any, ...]]:
        cur.execute(query, args)
        return list(cur.fetchall())

    master = {
        (kind, name): sql
        for kind, name, sql in rows("SELECT type, name, sql FROM main.sqlite_master")
    }
    tables = []
    for name, strict, without_rowid in rows(
        "SELECT name, strict, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table'"
        " ORDER BY name"
    ):
        if is_ignored_name(name):
            continue
        options = (("STRICT",) if strict else ()) + (("WITHOUT ROWID",) if without_rowid else ())
        tables.append(_read_table(rows, name, master[("table", name)] or "", master, options))
    return Catalog(tables=tuple(tables))


def _read_table(
    rows: _Rows,
    name: str,
    sql: str,
    master: dict[tuple[str, str], str | None],
    options: tuple[str, ...],
) -> Table:
    parsed = _parse_create_table(sql)
    info = rows(
        'SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?, ?)',
        name,
        "main",
    )
    pk_cols = tuple(row[0] for row in sorted(info, key=lambda row: row[4]) if row[4])
    autoinc_col = pk_cols[0] if parsed.autoincrement and len(pk_cols) == 1 else None
    columns = tuple(
        Column(
            name=col,
            type=_collapse(type_ or "").upper(),
            nullable=not notnull,
            default=dflt,
            generated={2: "VIRTUAL", 3: "STORED"}.get(hidden),
            autoincrement=col == autoinc_col,
        )
        for col, type_, notnull, dflt, _, hidden in info
    )
    primary_key = PrimaryKey(parsed.pk_name, pk_cols) if pk_cols else None
    return Table(
        name=name,
        columns=columns,
        primary_key=primary_key,
        indexes=tuple(_read_indexes(rows, name, master)),
        foreign_keys=tuple(_read_foreign_keys(rows, name, parsed)),
        options=options,
    )


def _read_indexes(
    rows: _Rows, table: str, master: dict[tuple[str, str], str | None]
) -> list[Index]:
    indexes = []
    for name, unique, origin, partial in rows(
        'SELECT name, "unique", origin, partial FROM pragma_index_list(?, ?)', table, "main"
    ):
        if origin == "pk":
            continue  # the primary key's own index is described by Table.primary_key
        sql = master.get(("index", name))
        try:
            texts, predicate = _parse_create_index(sql) if sql else ([], None)
        except (IndexError, StopIteration):
            texts, predicate = [], None
        keys = []
        for seqno, cid, col, desc, coll in rows(
            'SELECT seqno, cid, name, "desc", coll FROM pragma_index_xinfo(?, ?) WHERE key ORDER BY seqno',
            name,
            "main",
        ):
            is_expr = cid == -2
            keys.append(
                IndexColumn(
                    name=texts[seqno] if is_expr and seqno < len(texts) else (col or "rowid"),
                    expression=is_expr,
                    descending=bool(desc),
                    collation=None if coll in (None, "BINARY") else coll,
                )
            )
        indexes.append(
            Index(
                name=name,
                columns=tuple(keys),
                unique=bool(unique),
                constraint="UNIQUE" if origin == "u" else None,
                predicate=predicate if partial else None,
            )
        )
    return indexes


def _read_foreign_keys(rows: _Rows, table: str, parsed: _TableSql) -> list[ForeignKey]:
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows(
        'SELECT id, seq, "table", "from", "to", on_update, on_delete'
        " FROM pragma_foreign_key_list(?, 'main') ORDER BY id, seq",
        table,
    ):
        grouped[row[0]].append(row)
    unnamed = list(parsed.fk_names)
    fks = []
    for parts in grouped.values():
        ref_table, on_update, on_delete = parts[0][2], parts[0][5], parts[0][6]
        columns = tuple(p[3] for p in parts)
        ref_columns = tuple(p[4] for p in parts)
        if any(c is None for c in ref_columns):  # REFERENCES t without columns: t's primary key
            ref_info = rows(
                "SELECT name, pk FROM pragma_table_info(?, 'main') WHERE pk ORDER BY pk", ref_table
            )
            ref_columns = tuple(r[0] for r in ref_info)
        name = None
        for candidate in unnamed:
            cand_name, cand_cols, cand_ref = candidate
            if [c.lower() for c in cand_cols] == [c.lower() for c in columns] and (
                cand_ref.lower() == ref_table.lower()
            ):
                name = cand_name
                unnamed.remove(candidate)
                break
        fks.append(
            ForeignKey(
                name=name,
                columns=columns,
                ref_table=ref_table,
                ref_columns=ref_columns,
                on_delete=on_delete,
                on_update=on_update,
            )
        )
    return fks
