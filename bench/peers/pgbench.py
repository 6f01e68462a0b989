"""The physical limit of each client workload: ``pgbench -M prepared`` running the floor's SQL directly.

One custom script per operation (``script``), the same statements as
``bench.peers.asyncpg_raw`` with pgbench's variables in place of the arguments. It
makes the same number of transactions as each subject makes calls per round, in as
many rounds, with 1 client (``CONCURRENT`` under contention); latencies come from
pgbench's per-transaction log, statements per transaction from the probe, the client
CPU from the child's rusage. Without the ``pgbench`` binary the row says skipped, and why.
"""

from __future__ import annotations

import asyncio
import resource
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bench._probe import ServerProbe
from bench._results import Measurement
from bench._rounds import Block, SubjectRun, summarize
from bench._server import PostgresServer
from bench.datagen.blog_db import WRITER_ID, BlogDatabase
from bench.peers.asyncpg_raw import (
    CONCURRENT,
    FILTER_PAGE_SQL,
    FIND_MANY_50_SQL,
    FIND_MANY_SQL,
    FIND_UNIQUE_SQL,
    NESTED_SQL,
    UPDATE_POST_SQL,
)
from bench.peers.blog import (
    CREATE_POST,
    FILTER_PAGE,
    FIND_MANY,
    FIND_MANY_50,
    FIND_UNIQUE,
    INCREMENT,
    NESTED,
    POST_FIELDS,
    UPDATE_POST,
    UPSERT,
)

SUBJECT = "pgbench"
_RETURNING = ", ".join(f'"{name}"' if name != "id" else '"id" AS pid' for name in POST_FIELDS)


def script(op: str, database: BlogDatabase) -> str:
    """The pgbench script for ``op`` on ``database`` (the floor's statements)."""
    posts, writes = database.size.posts, database.write_post_ids
    if op == FIND_UNIQUE:
        return f"\\set id random(1, {posts})\n{FIND_UNIQUE_SQL.replace('$1', ':id')};\n"
    if op == FIND_MANY_50:
        return FIND_MANY_50_SQL + ";\n"
    if op == FIND_MANY:
        return FIND_MANY_SQL + ";\n"
    if op == FILTER_PAGE:
        return f"\\set id random(1, {posts})\n{FILTER_PAGE_SQL.replace('$1', ':id')};\n"
    if op == NESTED:
        return NESTED_SQL.strip() + ";\n"
    if op == CREATE_POST:
        return (
            "\\set t random(1, 48)\n"
            "BEGIN;\n"
            'INSERT INTO "Post" ("authorId", "title", "content", "status", "views", "createdAt", '
            f"\"updatedAt\") VALUES ('{WRITER_ID}', 'bench post', 'written by pgbench', "
            f"'PUBLISHED', 0, now(), now()) RETURNING {_RETURNING}"
            " \\gset\n"
            'INSERT INTO "_PostToTag" ("A", "B") SELECT :pid, unnest(ARRAY[:t, :t + 1, :t + 2]);\n'
            'INSERT INTO "Comment" ("postId", "authorId", "content", "createdAt") '
            f"SELECT :pid, '{WRITER_ID}', unnest(ARRAY['first', 'second']), now();\n"
            "END;\n"
        )
    if op == UPDATE_POST:
        sql = UPDATE_POST_SQL.replace("$1", "'updated'").replace("$2", ":v")
        sql = sql.replace("$3", "now()").replace("$4", ":id")
        return f"\\set id random({writes[1]}, {writes[-1]})\n\\set v :id % 1000\n{sql};\n"
    if op == UPSERT:
        return (
            "\\set k random(0, 199)\n"
            'INSERT INTO "Category" ("name", "slug") VALUES (concat(\'Bench category \', '
            ':k::int), concat(\'bench-\', :k::int)) ON CONFLICT ("slug") DO UPDATE SET "name" = EXCLUDED."name" '
            'RETURNING "id", "name", "slug", "parentId";\n'
        )
    if op == INCREMENT:
        return (
            'UPDATE "Post" SET "views" = "views" + 1, "updatedAt" = now() '
            f'WHERE "id" = {writes[0]} RETURNING "views";\n'
        )
    raise ValueError(f"no pgbench script for {op!r}")


async def measure(
    op: str,
    server: PostgresServer,
    database: BlogDatabase,
    calls: int,
    probe: ServerProbe | None,
) -> Measurement:
    """pgbench's row for ``op``: 3 runs of ``calls`` transactions, or skipped with the reason."""
    clients = CONCURRENT if op == INCREMENT else 1
    operation = f"prepared, {clients} client{'s' if clients > 1 else ''}"
    binary = shutil.which("pgbench")
    if binary is None:
        return Measurement(SUBJECT, operation, skipped="pgbench is not on PATH")
    parts = urlsplit(database.url)
    run = SubjectRun()
    with tempfile.TemporaryDirectory(prefix="datatier-pgbench-") as folder:
        path = Path(folder) / "script.sql"
        path.write_text(script(op, database), encoding="utf-8")
        for number in range(3):
            logs = Path(folder) / f"round{number}"
            logs.mkdir()
            command = [
                binary, "-n", "-M", "prepared", "-f", str(path), "-c", str(clients),
                "-j", str(min(clients, 2)), "-t", str(max(1, calls // clients)), "-l",
                "--log-prefix", str(logs / "log"), "-h", parts.hostname or "127.0.0.1",
                "-p", str(parts.port or 5432), "-U", unquote(parts.username or "postgres"),
                unquote(parts.path.lstrip("/")),
            ]  # fmt: skip
            before = await probe.sample() if probe is not None else None
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await process.communicate()
            wall = time.perf_counter() - started
            if process.returncode != 0:
                lines = (err + out).decode(errors="replace").strip().splitlines() or ["no output"]
                reason = next((line for line in lines if "ERROR" in line), lines[-1])
                return Measurement(SUBJECT, operation, skipped=f"pgbench failed: {reason}")
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
            samples = _latencies(logs)
            usage = None
            if probe is not None and before is not None:
                usage = ServerProbe.usage(before, await probe.sample())
                usage = type(usage)(usage.statements, usage.utility, None, usage.texts)
            run.samples_ns += samples
            # pgbench's own elapsed time excludes its start-up and connection: the tps it reports.
            run.blocks.append(Block(len(samples), _elapsed(out.decode(), len(samples), wall), cpu,
                                    usage))  # fmt: skip
    measured = summarize(SUBJECT, operation, run, concurrency=clients)
    return replace(measured, note="the floor's SQL, run by pgbench")


def _latencies(logs: Path) -> list[int]:
    """Per-transaction latencies (ns) from pgbench's ``-l`` logs (third field, µs)."""
    samples: list[int] = []
    for log in sorted(logs.iterdir()):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3:
                samples.append(int(fields[2]) * 1000)
    return samples


def _elapsed(output: str, transactions: int, wall: float) -> float:
    """Seconds of work from pgbench's ``tps = N (without initial connection time)``; else ``wall``."""
    for line in output.splitlines():
        if line.startswith("tps = ") and "without initial connection" in line:
            tps = float(line.split()[2])
            return transactions / tps if tps > 0 else wall
    return wall
