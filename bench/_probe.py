"""What the database server did between two samples: statements executed and CPU time of the backends.

``ServerProbe`` watches one database of the run's server from a connection to
another database (``postgres``), so its own queries are never counted:

- statements: the ``calls`` of ``pg_stat_statements``' top-level entries of the
  watched database, split into statements proper and transaction control / session
  commands (``BEGIN``, ``COMMIT``, ``SET``, ``DISCARD`` ...);
- server CPU: CPU time from ``/proc/<pid>/schedstat`` (or ``stat``) of every backend
  connected to the watched database (``pg_stat_activity``); a backend that
  appeared between the samples counts from zero, one that left is lost.

Either is None when the server cannot give it (no ``pg_stat_statements``, or
backends that are not processes of this machine).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

UTILITY = frozenset({
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET",
    "RESET", "SHOW", "DISCARD", "DEALLOCATE", "CLOSE", "UNLISTEN", "LISTEN",
})  # fmt: skip
_LEADING = re.compile(r"(?:\s+|--[^\n]*\n|/\*.*?\*/)*([A-Za-z_]+)", re.DOTALL)
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def leading_keyword(statement: str) -> str:
    """The first word of ``statement`` in upper case, after blanks and comments."""
    match = _LEADING.match(statement)
    return match.group(1).upper() if match else ""


@dataclass(frozen=True)
class ServerSample:
    """Cumulative counters at one moment: calls per statement entry, CPU time per backend."""

    calls: dict[tuple[int, int], tuple[str, int]] | None  # (userid, queryid) -> (text, calls)
    cpu_ns: dict[int, int] | None  # backend pid -> CPU ns so far


@dataclass(frozen=True)
class ServerUsage:
    """What happened between two samples."""

    statements: int | None  # statements proper
    utility: int | None  # transaction control and session commands
    cpu_s: float | None  # CPU seconds of the watched database's backends
    texts: dict[str, int] | None = None  # statement text -> executions (statements proper)


class ServerProbe:
    """Samples ``database`` on the server that ``admin_url`` (another database) connects to."""

    def __init__(
        self, conn: asyncpg.Connection, database: str, statements: bool, cpu: bool
    ) -> None:
        self._conn = conn
        self._database = database
        self._statements = statements
        self._cpu = cpu

    @classmethod
    async def open(
        cls, admin_url: str, database: str, *, statements: bool, cpu: bool
    ) -> ServerProbe:
        """A probe for ``database``; ``statements``/``cpu`` say whether the server can give them."""
        return cls(await asyncpg.connect(admin_url, timeout=10), database, statements, cpu)

    async def close(self) -> None:
        await self._conn.close()

    async def sample(self) -> ServerSample:
        """The counters now."""
        calls = None
        if self._statements:
            rows = await self._conn.fetch(
                "SELECT s.userid::int8 AS u, s.queryid, s.query, s.calls FROM pg_stat_statements s "
                "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 AND s.toplevel",
                self._database,
            )
            calls = {(r["u"], r["queryid"]): (r["query"], r["calls"]) for r in rows}
        cpu_ns = None
        if self._cpu:
            pids = await self._conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 "
                "AND backend_type = 'client backend'",  # not autovacuum workers
                self._database,
            )
            cpu_ns = {}
            for row in pids:
                if (value := process_cpu_ns(row["pid"])) is not None:
                    cpu_ns[row["pid"]] = value
        return ServerSample(calls, cpu_ns)

    @staticmethod
    def usage(before: ServerSample, after: ServerSample) -> ServerUsage:
        """What the server did from ``before`` to ``after``."""
        statements = utility = None
        texts: dict[str, int] | None = None
        if before.calls is not None and after.calls is not None:
            statements = utility = 0
            texts = {}
            for key, (text, calls) in after.calls.items():
                done = calls - before.calls.get(key, (text, 0))[1]
                if done <= 0:
                    continue
                if leading_keyword(text) in UTILITY:
                    utility += done
                else:
                    statements += done
                    texts[text] = texts.get(text, 0) + done
        cpu = None
        if before.cpu_ns is not None and after.cpu_ns is not None:
            spent = sum(t - before.cpu_ns.get(pid, 0) for pid, t in after.cpu_ns.items())
            cpu = spent / 1e9
        return ServerUsage(statements, utility, cpu, texts)


def process_cpu_ns(pid: int) -> int | None:
    """CPU time of process ``pid`` so far, in ns: ``/proc/<pid>/schedstat`` (exact), else the
    user + system ticks of ``/proc/<pid>/stat``; None if neither can be read."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime field 14, stime field 15 (1-based).
    return (int(fields[11]) + int(fields[12])) * 1_000_000_000 // TICKS_PER_SECOND
