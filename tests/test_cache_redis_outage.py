"""Redis killed and restarted under load: reads never fail, and none is stale (judged by
change seqs, as in test_cache_consistency) during the outage or after recovery.

The test starts a Redis of its own on a free port (the shared one is left alone), runs two
``datatier serve`` processes with the cache on it, writes through one and reads through
the other, kills Redis with SIGKILL, keeps the load going, then restarts Redis on the same
port and checks that the reader reconnected, caught up and serves cache hits again.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio

from datatier.cache._bus import ChangeBus
from datatier.drivers import open_driver
from tests.test_cache_bus import _until, _Versions
from tests.test_cache_consistency import (
    SEED,
    Reads,
    free_port,
    prepare,
    reading,
    servers,
    stale_reads,
    versions_by_seq,
    write_loop,
)

pytestmark = pytest.mark.postgres

REDIS_SERVER = shutil.which("redis-server") or shutil.which("valkey-server")


@contextmanager
def own_redis(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A throwaway Redis (no persistence) on ``port``, killed afterwards."""
    assert REDIS_SERVER, "redis-server is needed for the outage test"
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    client.close()
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _metric(base: str, name: str) -> float:
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server")
async def test_redis_killed_and_restarted_under_load(pg_url: str, tmp_path: Path) -> None:
    port = free_port()
    prepare(tmp_path, pg_url, f"redis://127.0.0.1:{port}/0", redis_timeout=0.2)
    with own_redis(port) as first, servers(tmp_path, pg_url, 2) as (writer, reader):
        reads = Reads()
        rng = random.Random(SEED)
        async with reading([reader], reads):
            await write_loop(writer, 60, rng)
            first.kill()  # SIGKILL: connections drop without a goodbye
            first.wait()
            await write_loop(writer, 60, rng)
            await asyncio.sleep(0.5)
            with own_redis(port):
                deadline = time.monotonic() + 60
                while _metric(reader, "datatier_cache_bus_reconnects_total") < 1:
                    assert time.monotonic() < deadline, "the reader did not reconnect"
                    await asyncio.sleep(0.1)
                recovered = len(reads.seen)
                await write_loop(writer, 60, rng)
                await asyncio.sleep(0.5)
                async with httpx.AsyncClient(base_url=reader, timeout=10) as http:
                    first_read = await http.get("/rest/item/1")
                    again = await http.get("/rest/item/1")
                truth = versions_by_seq(pg_url)
    assert not reads.failures, reads.failures[:5]
    assert reads.without_header == 0
    assert stale_reads(reads.seen, truth) == []
    assert len(reads.seen) > recovered, "reads went on after recovery"
    assert first_read.status_code == again.status_code == 200
    assert again.headers.get("x-cache") == "HIT", "the cache serves again after recovery"
    assert again.json()["version"] == (truth[1][1][-1] if 1 in truth else 0)


@pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server")
async def test_a_hung_redis_suspends_the_cache_until_it_answers(tmp_path: Path) -> None:
    """A Redis that stops answering without closing its connections (SIGSTOP: what a lost
    host looks like) is noticed by the idle PING, not only by a socket error."""
    port = free_port()
    with own_redis(port) as server:
        driver = await open_driver(f"file:{tmp_path}/hang.db")
        client = redis.asyncio.Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
        versions = _Versions()
        bus = ChangeBus(
            provider="sqlite", driver=driver, versions=versions, redis=client, namespace="hang"
        )
        await bus.start()
        try:
            assert versions.vouched
            server.send_signal(signal.SIGSTOP)
            try:
                await _until(lambda: not versions.vouched, timeout=15)
            finally:
                server.send_signal(signal.SIGCONT)
            await _until(lambda: versions.vouched, timeout=15)
            assert bus.reconnects == 1
        finally:
            await bus.close()
            await client.aclose()
            await driver.close()
