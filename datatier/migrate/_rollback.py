"""``migrate rollback``: run ``down.sql`` files newest first, guarding the data they would drop."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from datatier.migrate._commands import (
    Project,
    analyse,
    refuse_broken_history,
    run_with_data,
    session,
)
from datatier.migrate._folders import (
    DOWN_FILE,
    MigrationFolder,
)
from datatier.migrate._history import (
    HistoryRow,
    HistoryStore,
    MigrationError,
    split_sqlite_script,
    who_ran_it,
)

__all__ = [
    "RollbackReport",
    "down_data_loss",
    "rollback",
]

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
    confirm: Callable[[str], bool] | None = None,
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
    with session(project.url) as store:
        state = analyse(list(folders.values()), store.rows())
        refuse_broken_history(state, "migrate rollback")
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
            risk = "rolling back would lose data:\n" + "\n".join(f"  - {x}" for x in losses)
            if losses and (confirm is None or not confirm(f"{risk}\nRoll back anyway?")):
                raise MigrationError(
                    f"{risk}\nNothing was rolled back. Back the data up, then run again with "
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
            run_with_data(store, folder, project, "down", record)
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
