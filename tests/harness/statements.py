"""Counting the SQL statements a database executed, from the database's own records, not datatier's hooks.

PostgreSQL: ``pg_stat_statements`` in a cluster the harness starts for the
session (``shared_preload_libraries`` cannot be changed on a running server),
or the server ``DATATIER_TEST_COUNTED_POSTGRES_URL`` names. SQLite: SQLite's
trace hook, installed on every connection this process opens to the file.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pytest

from datatier.config import mask_url
from tests.harness.servers import Server, _first_line

__all__ = [
    "COUNTED_POSTGRES_ENV",
    "SESSION_COMMANDS",
    "TRANSACTION_CONTROL",
    "UTILITY",
    "PostgresStatementCounter",
    "SqliteStatementCounter",
    "StatementCounter",
    "find_counted_postgres",
    "leading_keyword",
]

COUNTED_POSTGRES_ENV = "DATATIER_TEST_COUNTED_POSTGRES_URL"
KIND = "PostgreSQL with pg_stat_statements"

# Statements a driver or connection pool adds around the ones the code asked for (PRAGMA is SQLite's SET).
TRANSACTION_CONTROL = frozenset(
    {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"}
)
SESSION_COMMANDS = frozenset({"SET", "RESET", "SHOW", "DISCARD", "DEALLOCATE", "PRAGMA"})
UTILITY = TRANSACTION_CONTROL | SESSION_COMMANDS

_COMMENT = re.compile(r"\s+|--[^\n]*(\n|$)|/\*.*?\*/", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_]+")


def leading_keyword(statement: str) -> str:
    """The first word of ``statement`` in upper case, after leading blanks and comments (``""`` if none)."""
    position = 0
    while match := _COMMENT.match(statement, position):
        position = match.end()
    word = _WORD.match(statement, position)
    return word.group().upper() if word else ""


class StatementCounter(ABC):
    """Statements one database executed since ``reset()``, as that database recorded them.

    ``statements()`` and ``count()`` leave out those whose leading keyword is in
    ``exclude``: by default ``UTILITY`` (transaction control and session
    commands: ``BEGIN``, ``COMMIT``, ``SET``, ``PRAGMA`` ...); ``exclude=()`` keeps all.
    """

    @abstractmethod
    def reset(self) -> None:
        """Forget every statement recorded so far."""

    @abstractmethod
    def executed(self) -> list[str]:
        """Every statement recorded since ``reset()``, one entry per execution."""

    def statements(self, *, exclude: Collection[str] = UTILITY) -> list[str]:
        """The statements since ``reset()``, one entry per execution, without those ``exclude`` names."""
        excluded = {word.upper() for word in exclude}
        return [text for text in self.executed() if leading_keyword(text) not in excluded]

    def count(self, *, exclude: Collection[str] = UTILITY) -> int:
        """How many statements were executed since ``reset()``, not counting those ``exclude`` names."""
        return len(self.statements(exclude=exclude))


class PostgresStatementCounter(StatementCounter):
    """Executions in one database of a ``pg_stat_statements`` server: the sum of ``calls`` of its top-level entries.

    It reads from ``server_url``'s database (never the counted one), so its own
    queries are never counted. Statements run inside functions (not top level)
    and statements that failed are not counted. Texts are normalized (constants
    become ``$1``) and come sorted, not in execution order. A query run through
    the extended protocol inside a transaction is recorded when its portal
    closes (the next query, or the transaction's end): count after commit.
    """

    def __init__(self, server_url: str, database_url: str) -> None:
        self._server_url = server_url
        self._database = unquote(urlsplit(database_url).path.lstrip("/"))
        self._evictions = 0

    def reset(self) -> None:
        with self._connect() as conn:
            oid = self._oid(conn)
            conn.execute("SELECT pg_stat_statements_reset(0, %s, 0)", (oid,))
            self._evictions = self._evicted(conn)

    def executed(self) -> list[str]:
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT query, calls FROM pg_stat_statements WHERE dbid = %s AND toplevel ORDER BY query",
                (self._oid(conn),),
            ).fetchall()
            if self._evicted(conn) != self._evictions:
                # Evicted entries take their calls with them: refuse to report a number that may be short.
                raise RuntimeError(
                    "pg_stat_statements evicted entries since reset(); counts would be short"
                )
        return [query for query, calls in rows for _ in range(calls)]

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self._server_url, autocommit=True)

    def _oid(self, conn: psycopg.Connection[tuple[Any, ...]]) -> int:
        row = conn.execute(
            "SELECT oid FROM pg_database WHERE datname = %s", (self._database,)
        ).fetchone()
        if row is None:
            raise LookupError(
                f"database {self._database!r} is not on the counted server {mask_url(self._server_url)}"
                " (use the counted_pg_url fixture)"
            )
        oid: int = row[0]
        return oid

    @staticmethod
    def _evicted(conn: psycopg.Connection[tuple[Any, ...]]) -> int:
        row = conn.execute("SELECT dealloc FROM pg_stat_statements_info").fetchone()
        return int(row[0]) if row else 0


class SqliteStatementCounter(StatementCounter):
    """Statements SQLite began on any connection this process opens to one database file after ``install``.

    The texts come from SQLite's trace hook (``set_trace_callback``), in
    execution order, with bound values filled in. Connections opened before
    ``install``, or whose trace callback the code replaces, are not counted;
    nor are other processes. A statement that fires a trigger is reported
    again for each trigger program (CPython gives the outer statement's text).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.path.realpath(path)
        self._lock = threading.Lock()
        self._seen: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap ``sqlite3.connect`` (and ``sqlite3.dbapi2.connect``, which SQLAlchemy calls) until ``monkeypatch`` undoes it."""
        original: Callable[..., sqlite3.Connection] = sqlite3.connect

        def connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn = original(database, *args, **kwargs)
            if self._path in _candidate_paths(database):
                conn.set_trace_callback(self._record)
            return conn

        monkeypatch.setattr(sqlite3, "connect", connect)
        monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()

    def executed(self) -> list[str]:
        with self._lock:
            return list(self._seen)

    def _record(self, statement: str) -> None:
        with self._lock:
            self._seen.append(statement)


def _candidate_paths(database: Any) -> set[str]:
    # Whether the URI flag is on is not known here; a name read both ways can only over-match a `file:` name.
    if isinstance(database, bytes):
        database = os.fsdecode(database)
    if not isinstance(database, str | os.PathLike) or database == ":memory:":
        return set()
    name = os.fspath(database)
    paths = {os.path.realpath(name)}
    if name.startswith("file:"):
        paths.add(os.path.realpath(unquote(urlsplit(name).path)))
    return paths


def find_counted_postgres(env: Mapping[str, str], stack: ExitStack) -> Server:
    """``DATATIER_TEST_COUNTED_POSTGRES_URL``, else a cluster started here with ``pg_stat_statements`` preloaded.

    The cluster is stopped and its directory removed when ``stack`` closes.
    """
    explicit = env.get(COUNTED_POSTGRES_ENV)
    if explicit:
        try:
            _enable_statement_stats(explicit)
        except (psycopg.Error, RuntimeError) as exc:
            return Server(
                KIND, None, (f"{COUNTED_POSTGRES_ENV}={mask_url(explicit)}: {_first_line(exc)}",)
            )
        return Server(KIND, explicit)
    tried: list[str] = []
    for bindir in _server_bindirs():
        if not _has_statement_stats(bindir):
            tried.append(f"{bindir}: no pg_stat_statements library beside it")
            continue
        try:
            return Server(KIND, _start_cluster(bindir, stack), tuple(tried))
        except Exception as exc:  # any failure to start is reported, whatever it was
            tried.append(f"{bindir}: {type(exc).__name__}: {_first_line(exc)}")
    if not tried:
        tried.append(
            "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin, PATH, pip package pgserver)"
        )
    return Server(KIND, None, tuple(tried))


def _server_bindirs() -> Iterator[Path]:
    """Directories holding ``initdb`` and ``pg_ctl``: Debian's newest first, then PATH's, then pgserver's (imported only if reached)."""
    seen: set[Path] = set()

    def candidates() -> Iterator[Path]:
        yield from sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        on_path = shutil.which("pg_ctl")
        if on_path:
            yield Path(on_path).resolve().parent
        try:
            from pgserver._commands import POSTGRES_BIN_PATH
        except ImportError:
            return
        yield Path(POSTGRES_BIN_PATH)

    for bindir in map(Path.resolve, candidates()):
        if bindir not in seen and (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            seen.add(bindir)
            yield bindir


def _has_statement_stats(bindir: Path) -> bool:
    # Debian keeps extension libraries in <version>/lib, a source build or pgserver in lib/postgresql.
    lib = bindir.parent / "lib"
    return any((d / "pg_stat_statements.so").is_file() for d in (lib, lib / "postgresql"))


def _start_cluster(bindir: Path, stack: ExitStack) -> str:
    """initdb a cluster in a new temporary directory, start it on a free 127.0.0.1 port, return its URL."""
    root = Path(tempfile.mkdtemp(prefix="datatier-counted-pg-"))
    stack.callback(shutil.rmtree, root, ignore_errors=True)
    user = _unprivileged_user()
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    data, log = root / "data", root / "server.log"
    _run(user, root, bindir / "initdb", "-D", str(data), "-U", "postgres", "--auth=trust",
         "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "shared_preload_libraries = 'pg_stat_statements'\n"
            "pg_stat_statements.track = all\n"
            "pg_stat_statements.max = 10000\n"
            "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "shared_buffers = 32MB\nmax_connections = 50\n"
        )
    for _attempt in range(3):
        port = _free_port()
        started = _run(user, root, bindir / "pg_ctl", "start", "-w", "-t", "30", "-D", str(data),
                       "-l", str(log), "-o", f"-p {port}", check=False)  # fmt: skip
        if started.returncode == 0:
            break
        if "could not bind" not in _tail(log):  # only a port taken meanwhile is worth another try
            raise RuntimeError(f"pg_ctl start failed: {_tail(log) or started.stderr.strip()}")
    else:
        raise RuntimeError(f"no free port after 3 tries: {_tail(log)}")
    stack.callback(_run, user, root, bindir / "pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(data),
                   check=False)  # fmt: skip
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    _enable_statement_stats(url)
    return url


def _enable_statement_stats(url: str) -> None:
    """Create the extension in ``url``'s database if missing; raise unless the server preloads it."""
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        row = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
        if row is None or "pg_stat_statements" not in row[0]:
            # Checked before CREATE EXTENSION, so a server that cannot count is left as it was.
            raise RuntimeError(
                "the server does not preload pg_stat_statements (shared_preload_libraries)"
            )
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT count(*) FROM pg_stat_statements")


def _unprivileged_user() -> pwd.struct_passwd | None:
    """``None`` when not root; as root, the ``postgres`` user the server must run as (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root and there is no 'postgres' user to run the server as"
        ) from None


def _run(
    user: pwd.struct_passwd | None, cwd: Path, *command: str | Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    ids: dict[str, Any] = (
        {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    )
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60, check=False, **ids,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()}"
        )
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(lines[-3:])
