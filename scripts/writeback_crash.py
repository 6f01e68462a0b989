"""Write-back crash test: kill -9 the writer, the flusher and Redis at random moments, then
check that every acknowledged write-back increment is in the database exactly once.

    .venv/bin/python scripts/writeback_crash.py run --url postgresql://postgres@127.0.0.1:5432/wbcrash
    DATATIER_WRITEBACK_KILLS=200 .venv/bin/python scripts/writeback_crash.py run --url file:/tmp/wb.db

``run`` starts a private redis-server (free port, temporary directory, ``--appendonly yes
--appendfsync always``), a writer process that increments counters through write-back and
logs each attempt before it and each ACKNOWLEDGED write after it (fsync'd), and a flusher
process; then it kills one of the three (fixed seed) ``--kills`` times (default
``DATATIER_WRITEBACK_KILLS`` or 10), restarting each after its death. At the end it drains
and checks, for every row: acknowledged <= database value <= attempted. It prints one JSON
line with the counts and exits 1 if any row breaks that.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import redis.asyncio

from datatier import Client
from datatier.cache._writeback import WriteBack, WriteBackSpec
from datatier.migrate._push import push

ROWS = 5
NAMESPACE = "wbcrash"
SCHEMA = """
datasource db {
  provider = "%s"
  url      = env("DATABASE_URL")
}

model Counter {
  id Int @id
  n  Int @default(0)
}
"""


def _schema(workdir: Path, url: str) -> Path:
    provider = "sqlite" if url.startswith("file:") else "postgresql"
    path = workdir / "schema.prisma"
    path.write_text(SCHEMA % provider)
    return path


async def _writeback(client: Client, port: int, *, flusher: bool) -> WriteBack:
    """A started WriteBack on the private Redis, retried while Redis is down."""
    while True:
        try:
            wb = WriteBack(
                engine=client.engine,
                driver=await client._get_driver(),
                redis=redis.asyncio.Redis(port=port, socket_timeout=2, socket_connect_timeout=1),
                namespace=NAMESPACE,
                models={"Counter": WriteBackSpec(("n",))},
                flush_interval=0.02,
                batch_size=200,
                flusher=flusher,
            )
            await wb.start()
            return wb
        except (redis.RedisError, OSError):
            await asyncio.sleep(0.05)


# -- the child processes ----------------------------------------------------------------


def _ready(workdir: Path, name: str) -> None:
    """Tell the orchestrator this process is running (its pid in ``<name>.ready``)."""
    (workdir / f"{name}.ready").write_text(str(os.getpid()))


async def writer(url: str, workdir: Path, port: int, seed: int) -> None:
    """Increment random rows forever; log ``A row`` before and ``K row`` after each ack."""
    rng = random.Random(seed)
    fd = os.open(workdir / "writes.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    async with Client(_schema(workdir, url), url) as client:
        wb = await _writeback(client, port, flusher=False)
        _ready(workdir, "writer")
        while True:
            row = rng.randrange(ROWS)
            os.write(fd, f"A {row}\n".encode())
            os.fsync(fd)
            try:
                await wb.write("Counter", {"where": {"id": row}, "data": {"n": {"increment": 1}}})
            except (redis.RedisError, OSError):
                await asyncio.sleep(0.02)  # not acknowledged: Redis is down
                continue
            os.write(fd, f"K {row}\n".encode())
            os.fsync(fd)


async def flusher(url: str, workdir: Path, port: int) -> None:
    """Flush forever (the WriteBack's background task)."""
    async with Client(_schema(workdir, url), url) as client:
        await _writeback(client, port, flusher=True)
        _ready(workdir, "flusher")
        await asyncio.Event().wait()


# -- the orchestrator -------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Run:
    """The three processes of one crash run and how to (re)start each."""

    def __init__(self, url: str, workdir: Path, seed: int) -> None:
        self.url, self.workdir, self.seed = url, workdir, seed
        self.port = _free_port()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0

    def start(self, name: str) -> None:
        self.starts += 1
        if name == "redis":
            command = [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.workdir), "--appendonly", "yes", "--appendfsync", "always",
                "--save", "", "--protected-mode", "no",
            ]  # fmt: skip
        else:
            command = [
                sys.executable, __file__, name, "--url", self.url,
                "--workdir", str(self.workdir), "--port", str(self.port),
                "--seed", str(self.seed * 1000 + self.starts),
            ]  # fmt: skip
        with open(self.workdir / f"{name}.err", "ab") as errors:  # the child keeps its copy
            self.procs[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)

    def wait_ready(self, name: str) -> None:
        """Wait until the process just started is up (so each kill hits a running one)."""
        if name == "redis":
            _wait_redis(self.port)
            return
        marker = self.workdir / f"{name}.ready"
        pid = str(self.procs[name].pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text() == pid:
                return
            time.sleep(0.02)
        raise RuntimeError(f"the {name} process did not start (see {name}.err)")

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for name in list(self.procs):
            if self.procs[name].poll() is None:
                self.kill(name)


def _wait_redis(port: int) -> None:
    client = redis.Redis(port=port, socket_connect_timeout=1)
    for _ in range(200):
        try:
            client.ping()
            return
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError("the private redis-server did not start")


async def _prepare(url: str, workdir: Path) -> None:
    schema = _schema(workdir, url)
    async with Client(schema, url) as client:
        push(client.schema, url)
        for row in range(ROWS):
            await client.counter.create(data={"id": row})


async def _finish(url: str, workdir: Path, port: int) -> dict[int, int]:
    async with Client(_schema(workdir, url), url) as client:
        wb = await _writeback(client, port, flusher=False)
        await wb.drain()
        await wb.redis.aclose()
        rows = await client.counter.find_many()
        return {row["id"]: row["n"] for row in rows}


def run(url: str, kills: int, seed: int, workdir: Path) -> dict[str, Any]:
    """One crash run (see the module docstring); the result summary."""
    asyncio.run(_prepare(url, workdir))
    rng = random.Random(seed)
    crash = Run(url, workdir, seed)
    started = time.monotonic()
    killed = {"writer": 0, "flusher": 0, "redis": 0}
    try:
        for name in ("redis", "writer", "flusher"):
            crash.start(name)
            crash.wait_ready(name)
        for _ in range(kills):
            time.sleep(rng.uniform(0.05, 0.5))
            victim = rng.choice(("writer", "flusher", "redis"))
            crash.kill(victim)
            killed[victim] += 1
            time.sleep(rng.uniform(0.0, 0.1))
            crash.start(victim)
            crash.wait_ready(victim)
        time.sleep(0.5)
        crash.kill("writer")
        crash.kill("flusher")
        _wait_redis(crash.port)
        values = asyncio.run(_finish(url, workdir, crash.port))
    finally:
        crash.stop_all()
    attempted = [0] * ROWS
    acked = [0] * ROWS
    for line in (workdir / "writes.log").read_text().splitlines():
        kind, _, row = line.partition(" ")
        if not row:
            continue  # a line cut short by kill -9
        (attempted if kind == "A" else acked)[int(row)] += 1
    broken = [row for row in range(ROWS) if not acked[row] <= values.get(row, 0) <= attempted[row]]
    return {
        "kills": killed,
        "seconds": round(time.monotonic() - started, 1),
        "acknowledged": sum(acked),
        "attempted": sum(attempted),
        "in_database": sum(values.values()),
        "rows": {row: [acked[row], values.get(row, 0), attempted[row]] for row in range(ROWS)},
        "broken_rows": broken,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=("run", "writer", "flusher"))
    parser.add_argument("--url", required=True, help="database URL (postgresql://... or file:...)")
    parser.add_argument(
        "--kills", type=int, default=int(os.environ.get("DATATIER_WRITEBACK_KILLS", 10))
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.role == "writer":
        asyncio.run(writer(args.url, args.workdir, args.port, args.seed))
        return 0
    if args.role == "flusher":
        asyncio.run(flusher(args.url, args.workdir, args.port))
        return 0
    with tempfile.TemporaryDirectory(prefix="wbcrash-") as tmp:
        result = run(args.url, args.kills, args.seed, args.workdir or Path(tmp))
    print(json.dumps(result))
    return 1 if result["broken_rows"] else 0


if __name__ == "__main__":
    sys.exit(main())
