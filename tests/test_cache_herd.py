"""Stampede protection: many concurrent reads of one expired hot key cost one database
query per process (single flight), and with two processes sharing Redis at most a
handful overall (the fill lease). The second process is a real subprocess."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from typing import Any

from datatier import Client
from datatier.drivers import StatementEvent
from datatier.migrate._push import push
from tests.harness.golden import REPO

SCHEMA = REPO / "datatier" / "demo" / "schema.prisma"
CONCURRENT = 200
QUERY: dict[str, Any] = {"where": {"name": "herd"}, "orderBy": {"email": "asc"}}

# The second process: connect, report ready, fire CONCURRENT reads at the agreed moment,
# report how many statements read the User table.
CHILD = """
import asyncio, json, sys, time
from datatier import Client

async def main(schema, url, cache, start_at, query):
    reads = []
    db = Client(schema, url, cache=cache)
    db.on_statement(lambda e: reads.append(e.sql) if 't0.email' in e.sql else None)
    await db.connect()
    print(json.dumps({"ready": db.cache.versions.applied}), flush=True)
    start_at = float(sys.stdin.readline())
    await asyncio.sleep(max(0.0, start_at - time.time()))
    results = await asyncio.gather(*(db.user.find_many(**query) for _ in range(int(sys.argv[5]))))
    assert all(r == results[0] for r in results)
    print(json.dumps({"reads": len(reads), "rows": len(results[0])}), flush=True)
    await db.close()

asyncio.run(main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), 0, json.loads(sys.argv[4])))
"""


class UserReads:
    def __init__(self, db: Client) -> None:
        self.count = 0
        db.on_statement(self.heard)

    def heard(self, event: StatementEvent) -> None:
        if "t0.email" in event.sql:
            self.count += 1


async def _seed(url: str) -> None:
    push(Client(SCHEMA, url).schema, url)
    async with Client(SCHEMA, url) as db:
        for i in range(3):
            await db.user.create(data={"email": f"h{i}@example.com", "name": "herd"})


async def _expired(db: Client) -> None:
    """Fill the hot key, then let it expire in both tiers."""
    await db.user.find_many(**QUERY)
    await asyncio.sleep(0.35)


async def test_one_query_per_process_for_an_expired_hot_key(pg_url: str, redis_url: str) -> None:
    await _seed(pg_url)
    db = Client(SCHEMA, pg_url, cache={"ttl": 0.2, "redis": redis_url, "namespace": "herd1"})
    await db.connect()
    try:
        await _expired(db)
        reads = UserReads(db)
        results = await asyncio.gather(*(db.user.find_many(**QUERY) for _ in range(CONCURRENT)))
        assert reads.count == 1
        assert all(len(r) == 3 for r in results)
        assert len({id(r) for r in results}) == CONCURRENT  # each caller has its own objects
    finally:
        await db.close()


async def test_one_query_per_process_without_redis(sqlite_url: str) -> None:
    await _seed(sqlite_url)
    db = Client(SCHEMA, sqlite_url, cache={"ttl": 0.2})
    await db.connect()
    try:
        await _expired(db)
        reads = UserReads(db)
        await asyncio.gather(*(db.user.find_many(**QUERY) for _ in range(CONCURRENT)))
        assert reads.count == 1
    finally:
        await db.close()


async def test_two_processes_share_the_fill(pg_url: str, redis_url: str) -> None:
    await _seed(pg_url)
    cache = {"ttl": 0.2, "redis": redis_url, "namespace": "herd2", "wait_ms": 2000}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(SCHEMA),
            pg_url,
            json.dumps(cache),
            json.dumps(QUERY),
            str(CONCURRENT),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    db = Client(SCHEMA, pg_url, cache=cache)
    await db.connect()
    try:
        assert child.stdout is not None and child.stdin is not None
        ready = await asyncio.to_thread(child.stdout.readline)
        assert json.loads(ready)["ready"] == db.cache.versions.applied if db.cache else False
        await _expired(db)
        reads = UserReads(db)
        start_at = time.time() + 0.3
        child.stdin.write(f"{start_at}\n")
        child.stdin.flush()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        results = await asyncio.gather(*(db.user.find_many(**QUERY) for _ in range(CONCURRENT)))
        report = json.loads(await asyncio.to_thread(child.stdout.readline))
        assert all(len(r) == 3 for r in results) and report["rows"] == 3
        assert reads.count <= 1 and report["reads"] <= 1
        assert reads.count + report["reads"] <= 2  # one filler; the other waited on the lease
    finally:
        await db.close()
        child.wait(timeout=30)
