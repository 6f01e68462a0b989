"""Cache consistency across server processes, judged by change seqs, not by time.

Three ``datatier serve`` processes on one PostgreSQL database and one Redis, cache on. One
client writes rows through process A (``version`` incremented by each write) while readers
read the same rows, one by one and as a list, through B and C. Every read answer carries
``X-Datatier-Change-Seq``: the seq its process had applied when the read began. Afterwards
the outbox maps each seq to (row, version); a read is stale when it returned a version
older than the newest one whose event seq is at or below its header. There must be none.

The suite runs ~500 writes (fixed seed); the full-size run is
``DATATIER_CONSISTENCY_WRITES=10000 pytest -n 0 -s tests/test_cache_consistency.py``
(it prints the read count and the delivery lag p50/p99/max that B and C measured).
"""

from __future__ import annotations

import asyncio
import bisect
import os
import random
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from datatier import Client
from datatier.migrate._push import push
from datatier.schema import validate_schema_text

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

REPO = Path(__file__).resolve().parents[1]
WRITES = int(os.environ.get("DATATIER_CONSISTENCY_WRITES", "500"))
ROWS = 20
SEED = 7

SCHEMA_TEXT = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model Item {
  id      Int    @id
  version Int    @default(0)
  name    String @default("")
}
"""


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(folder: Path, pg_url: str, redis_url: str, **cache: Any) -> None:
    """schema.prisma and datatier.toml (cache on, a namespace of this test's own) in
    ``folder``; the schema pushed and ``ROWS`` items at version 0."""
    schema = validate_schema_text(SCHEMA_TEXT)
    (folder / "schema.prisma").write_text(SCHEMA_TEXT)
    settings = {"redis": redis_url, "namespace": f"c{secrets.token_hex(4)}", "ttl": 300.0}
    settings.update(cache)
    lines = ["[cache]"] + [
        f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {v}"
        for k, v in settings.items()
    ]
    (folder / "datatier.toml").write_text("\n".join(lines) + "\n")
    push(schema, pg_url)
    with psycopg.connect(pg_url) as conn:
        conn.execute('INSERT INTO "Item" (id) SELECT generate_series(1, %s)', [ROWS])


@contextmanager
def servers(folder: Path, pg_url: str, count: int) -> Iterator[list[str]]:
    """``count`` ``datatier serve`` processes in ``folder``; their base URLs."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(REPO)
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "datatier.cli", "serve", "--url", pg_url, "--port", str(p)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / f"server-{p}.log").open("wb"),
        )
        for p in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        # Slow on a loaded machine: three processes import and connect at once.
        deadline = time.monotonic() + 180
        for process, base in zip(processes, bases, strict=True):
            while True:
                try:
                    # A cached read starts the client (pool, cache, bus) before the test.
                    if httpx.get(f"{base}/rest/item/1", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                log = folder / f"server-{base.rsplit(':', 1)[1]}.log"
                assert process.poll() is None, f"a server exited: {log.read_text()[-2000:]}"
                assert time.monotonic() < deadline, "the servers did not start in 180 s"
                time.sleep(0.1)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Reads:
    """Every read answer: (header seq, row id, version), and failures."""

    seen: list[tuple[int, int, int]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    without_header: int = 0
    requests: int = 0

    def record(self, response: httpx.Response) -> None:
        self.requests += 1
        if response.status_code != 200:
            self.failures.append(f"{response.status_code} {response.text[:200]}")
            return
        header = response.headers.get("x-datatier-change-seq")
        if header is None:
            self.without_header += 1
            return
        body = response.json()
        rows = body["data"] if isinstance(body, dict) and "data" in body else [body]
        for row in rows:
            self.seen.append((int(header), int(row["id"]), int(row["version"])))


async def read_loop(base: str, reads: Reads, stop: asyncio.Event, rng: random.Random) -> None:
    """Read single rows and the whole list through ``base`` until ``stop``."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while not stop.is_set():
            try:
                if rng.random() < 0.8:
                    response = await http.get(f"/rest/item/{rng.randint(1, ROWS)}")
                else:
                    response = await http.get("/rest/item", params={"orderBy": "id", "take": ROWS})
            except httpx.TransportError as e:
                reads.requests += 1
                reads.failures.append(f"transport: {e!r}")
                await asyncio.sleep(0.01)
                continue
            reads.record(response)


async def write_loop(base: str, writes: int, rng: random.Random) -> None:
    """``writes`` increments of random rows' ``version`` through ``base``."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for _ in range(writes):
            response = await http.patch(
                f"/rest/item/{rng.randint(1, ROWS)}", json={"version": {"increment": 1}}
            )
            assert response.status_code == 200, response.text


def versions_by_seq(pg_url: str) -> dict[int, tuple[list[int], list[int]]]:
    """Per row id: the seqs of its update events in order, and the version each made.

    Each write increments ``version`` by one and records one event; writes to one row
    commit one after another and are stamped in that order, so the n-th event of a row
    made version n."""
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            """SELECT "seq", "key" FROM "_datatier_changes"
            WHERE "model" = 'Item' AND "op" = 'update' AND "seq" IS NOT NULL ORDER BY "seq" """
        ).fetchall()
    out: dict[int, tuple[list[int], list[int]]] = {}
    for seq, key in rows:
        seqs, versions = out.setdefault(int(key.strip("[]")), ([], []))
        seqs.append(int(seq))
        versions.append(len(versions) + 1)
    return out


def stale_reads(
    seen: Sequence[tuple[int, int, int]], truth: dict[int, tuple[list[int], list[int]]]
) -> list[str]:
    """Reads that returned a version older than the newest one at or below their seq."""
    stale = []
    for header, row, version in seen:
        seqs, versions = truth.get(row, ([], []))
        index = bisect.bisect_right(seqs, header)
        expected = versions[index - 1] if index else 0
        if version < expected:
            stale.append(f"row {row}: version {version} at seq {header}, {expected} applied")
    return stale


def lag_of(base: str) -> dict[str, float]:
    """The delivery lag quantiles a server reports on /metrics (empty without them)."""
    text = httpx.get(f"{base}/metrics", timeout=10).text
    out = {}
    for line in text.splitlines():
        if line.startswith("datatier_cache_change_lag_seconds{"):
            quantile = line.split('quantile="')[1].split('"')[0]
            out[quantile] = float(line.rsplit(" ", 1)[1])
    return out


@asynccontextmanager
async def reading(bases: Sequence[str], reads: Reads, per_server: int = 2) -> AsyncIterator[None]:
    """Reader loops on every base in ``bases`` while the block runs."""
    stop = asyncio.Event()
    rng = random.Random(SEED + 1)
    tasks = [
        asyncio.create_task(read_loop(base, reads, stop, random.Random(rng.random())))
        for base in bases
        for _ in range(per_server)
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def test_no_stale_reads_across_processes(pg_url: str, redis_url: str, tmp_path: Path) -> None:
    prepare(tmp_path, pg_url, redis_url)
    with servers(tmp_path, pg_url, 3) as (writer, *readers):
        reads = Reads()
        started = time.monotonic()
        async with reading(readers, reads):
            rng = random.Random(SEED)
            await asyncio.gather(
                *(write_loop(writer, WRITES // 4, random.Random(rng.random())) for _ in range(4))
            )
            await asyncio.sleep(0.5)  # reads after the last write, once every process has it
        elapsed = time.monotonic() - started
        lags = {base: lag_of(base) for base in readers}
        truth = versions_by_seq(pg_url)
        # Fresh reads at the end see every row's last version.
        async with httpx.AsyncClient(timeout=10) as http:
            for base in readers:
                body = (await http.get(f"{base}/rest/item", params={"orderBy": "id"})).json()
                for row in body["data"]:
                    versions = truth.get(row["id"], ([], []))[1]
                    assert row["version"] == (versions[-1] if versions else 0)
    assert sum(len(v) for _, v in truth.values()) == WRITES // 4 * 4
    assert not reads.failures, reads.failures[:5]
    assert reads.without_header == 0
    assert len(reads.seen) > WRITES, "readers ran alongside the writes"
    stale = stale_reads(reads.seen, truth)
    print(
        f"\n{WRITES} writes, {reads.requests} reads ({len(reads.seen)} rows) in {elapsed:.1f} s;"
        f" stale: {len(stale)}; delivery lag (s) by reader: {lags}"
    )
    assert stale == []


async def test_a_fill_racing_a_write_in_another_process_leaves_no_stale_entry(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Reader process R reads a row from the database; before R stores it, process W
    writes the row and R applies the event; R then stores the old value. Neither R nor a
    third process sharing Redis may read it afterwards (its key is unreachable)."""
    prepare(tmp_path, pg_url, redis_url)
    schema = validate_schema_text(SCHEMA_TEXT)
    namespace = f"r{secrets.token_hex(4)}"
    settings = {"redis": redis_url, "namespace": namespace, "ttl": 300.0, "poll_interval": 0.05}
    reader, writer, third = (Client(schema, pg_url, cache=settings) for _ in range(3))
    try:
        for client in (reader, writer, third):
            await client.connect()
        assert reader.cache is not None and reader.cache.bus is not None
        bus = reader.cache.bus

        async def write_meanwhile(key: str) -> None:
            await writer.item.update(where={"id": 1}, data={"version": {"increment": 1}})
            assert writer.cache is not None and writer.cache.bus is not None
            target = writer.cache.bus.applied
            deadline = time.monotonic() + 15
            while bus.applied < target:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)

        reader.cache._before_fill = write_meanwhile
        old: Any = await reader.item.find_unique(where={"id": 1})
        reader.cache._before_fill = None
        assert old["version"] == 0  # what the database said before the write
        for client in (reader, third):
            fresh: Any = await client.item.find_unique(where={"id": 1})
            assert fresh["version"] == 1
            listed: Any = await client.item.find_many(where={"id": 1})
            assert listed[0]["version"] == 1
    finally:
        for client in (reader, writer, third):
            await client.close()
