"""The PostgreSQL server a run measures: one that counts statements (``pg_stat_statements``), ours when we can.

``postgres_server()`` picks, first found wins:

1. ``DATATIER_BENCH_POSTGRES_URL``: used as it is. Statements are counted only if
   it preloads ``pg_stat_statements``; server CPU only if its backends are
   processes of this machine.
2. ``DATATIER_TEST_POSTGRES_URL``, else ``postgresql://postgres@127.0.0.1:5432/postgres``,
   if it preloads ``pg_stat_statements`` and its backends run here.
3. A private cluster: initdb'd once into ``$DATATIER_BENCH_PGDATA`` (default
   ``/var/tmp/datatier-bench-<uid>/pgdata``), kept between runs so the loaded data
   is reused, started on a free loopback port for the run and stopped after it
   (unless it was already running, then it is left running). Settings in
   ``CLUSTER_SETTINGS``; it needs PostgreSQL's server binaries with the
   ``pg_stat_statements`` library beside them.
4. The server of 2 even though it cannot count, saying so in its notes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

BENCH_URL_ENV = "DATATIER_BENCH_POSTGRES_URL"
PGDATA_ENV = "DATATIER_BENCH_PGDATA"
FALLBACK_ENV = "DATATIER_TEST_POSTGRES_URL"
LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# One server process per database; durability is not what the suite measures, so commits do not
# wait for the WAL flush (a shared machine's disk would otherwise dominate every write).
CLUSTER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "top",
    "pg_stat_statements.max": "10000",
    "shared_buffers": "512MB",
    "max_connections": "200",
    "synchronous_commit": "off",
    "jit": "off",
    "timezone": "'UTC'",
}


class ServerUnavailable(Exception):
    """No PostgreSQL server for the run; the message says everything that was tried."""


@dataclass(frozen=True)
class PostgresServer:
    """The run's server: an admin URL (database ``postgres``) and what can be measured on it."""

    url: str
    origin: str  # where it came from, for the report's conditions
    version: str
    counts_statements: bool
    local_backends: bool  # backends are processes here, so /proc gives their CPU time
    settings: dict[str, str]
    notes: tuple[str, ...] = ()

    def database_url(self, database: str) -> str:
        """The server's URL pointing at ``database``."""
        return with_database(self.url, database)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for the report's conditions."""
        return {
            "origin": self.origin,
            "url": masked(self.url),
            "version": self.version,
            "counts_statements": self.counts_statements,
            "server_cpu": self.local_backends,
            "settings": self.settings,
            "notes": list(self.notes),
        }


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database`` instead of the one it names."""
    return urlunsplit(urlsplit(url)._replace(path="/" + database))


def masked(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


@contextmanager
def postgres_server(env: dict[str, str] | None = None) -> Iterator[PostgresServer]:
    """The run's server (see the module docstring); a cluster started here is stopped afterwards."""
    env = dict(os.environ) if env is None else env
    tried: list[str] = []
    if explicit := env.get(BENCH_URL_ENV):
        yield _probe(explicit, f"${BENCH_URL_ENV}", tried)
        return
    fallback = env.get(FALLBACK_ENV) or LOCAL_SERVER_URL
    origin = f"${FALLBACK_ENV}" if env.get(FALLBACK_ENV) else "local server"
    try:
        local: PostgresServer | None = _probe(fallback, origin, [])
    except ServerUnavailable as exc:
        local = None
        tried.append(str(exc).removeprefix("no PostgreSQL server; tried: "))
    if local is not None and local.counts_statements and local.local_backends:
        yield local
        return
    if local is not None:
        tried.append(f"{origin}: not used first, it cannot count statements or server CPU")
    try:
        cluster = PrivateCluster.find(Path(env.get(PGDATA_ENV) or default_pgdata()))
        url, started = cluster.start()
    except ServerUnavailable as exc:
        tried.append(str(exc))
    else:
        try:
            yield _probe(url, f"private cluster in {cluster.data}", tried)
        finally:
            if started:
                cluster.stop()
        return
    if local is None:
        raise ServerUnavailable("no PostgreSQL server; tried: " + "; ".join(tried))
    yield replace(local, notes=(*tried, *local.notes))


def default_pgdata() -> Path:
    """``/var/tmp/datatier-bench-<uid>/pgdata``: outlives a reboot-free week, readable by ``postgres``."""
    return Path("/var/tmp") / f"datatier-bench-{os.getuid()}" / "pgdata"


def _probe(url: str, origin: str, tried: list[str]) -> PostgresServer:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            preload = str(conn.execute("SHOW shared_preload_libraries").fetchone()[0])  # type: ignore[index]
            counts = "pg_stat_statements" in preload
            notes = list(tried)
            if counts:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            else:
                notes.append(
                    f"{origin} does not preload pg_stat_statements: statements are not counted"
                )
            pid = int(conn.execute("SELECT pg_backend_pid()").fetchone()[0])  # type: ignore[index]
            local = _is_postgres_process(pid)
            if not local:
                notes.append("the server's backends are not processes here: no server CPU time")
            names = ("shared_buffers", "synchronous_commit", "max_connections", "jit", "fsync")
            settings = {
                name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
                for name in names
            }
    except (psycopg.Error, OSError) as exc:
        tried.append(f"{origin} ({masked(url)}): {str(exc).strip().splitlines()[0]}")
        raise ServerUnavailable("no PostgreSQL server; tried: " + "; ".join(tried)) from exc
    return PostgresServer(url, origin, version, counts, local, settings, tuple(notes))


def _is_postgres_process(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(" ", 2)[1] == "(postgres)"
    except OSError:
        return False


@dataclass(frozen=True)
class PrivateCluster:
    """A cluster directory of our own and the server binaries that run it."""

    data: Path
    bindir: Path

    @classmethod
    def find(cls, data: Path) -> PrivateCluster:
        """The cluster at ``data`` with the newest server binaries that have ``pg_stat_statements``."""
        for bindir in _bindirs():
            lib = bindir.parent / "lib"
            if any((d / "pg_stat_statements.so").is_file() for d in (lib, lib / "postgresql")):
                return cls(data, bindir)
        raise ServerUnavailable(
            "private cluster: no PostgreSQL server binaries with pg_stat_statements "
            "(looked in /usr/lib/postgresql/*/bin and beside pg_ctl on PATH)"
        )

    def start(self) -> tuple[str, bool]:
        """Create the cluster if needed and start it; its URL and whether this call started it."""
        running = self._running_port()
        if running is not None:
            return _url(running), False
        if not (self.data / "PG_VERSION").is_file():
            self._initdb()
        log = self.data.parent / "server.log"
        for _attempt in range(3):
            port = _free_port()
            done = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l",
                             str(log), "-o", f"-p {port}")  # fmt: skip
            if done.returncode == 0:
                print(f"  started PostgreSQL in {self.data} on port {port}", file=sys.stderr)
                return _url(port), True
        raise ServerUnavailable(f"private cluster: pg_ctl start failed: {_tail(log)}")

    def stop(self) -> None:
        """Stop the cluster (fast shutdown)."""
        self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.data))

    def _running_port(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.is_file() or self._run("pg_ctl", "status", "-D", str(self.data)).returncode:
            return None
        lines = pidfile.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None

    def _initdb(self) -> None:
        if self.data.exists():
            shutil.rmtree(self.data)  # a half-made cluster from an interrupted initdb
        self.data.parent.mkdir(parents=True, exist_ok=True)
        user = _server_user()
        if user is not None:
            os.chown(self.data.parent, user.pw_uid, user.pw_gid)
        done = self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                         "--encoding=UTF8", "--locale=C")  # fmt: skip
        if done.returncode != 0:
            raise ServerUnavailable(f"private cluster: initdb failed: {done.stderr.strip()[-300:]}")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# datatier bench\n")
            conf.writelines(f"{key} = {value}\n" for key, value in CLUSTER_SETTINGS.items())

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        user = _server_user()
        ids: dict[str, Any] = (
            {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        )
        return subprocess.run(
            [str(self.bindir / program), *args], cwd=self.data.parent if self.data.parent.is_dir()
            else "/", stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
            check=False, **ids,
        )  # fmt: skip


def _bindirs() -> Iterator[Path]:
    yield from sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    if on_path := shutil.which("pg_ctl"):
        yield Path(on_path).resolve().parent


def _server_user() -> pwd.struct_passwd | None:
    """None unless root; as root, the ``postgres`` user (the server refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable(
            "private cluster: running as root and there is no 'postgres' user to run it as"
        ) from None


def _url(port: int) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
    except OSError:
        return "(no log)"
