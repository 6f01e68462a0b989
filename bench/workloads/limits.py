"""Workload ``limits.redis_get``: what Redis can do, measured by ``redis-benchmark`` GET in the same run.

The PostgreSQL limit of each client workload is a row of that workload (pgbench
running the floor's SQL, ``bench.peers.pgbench``); this workload is the cache's:
``redis-benchmark -t get`` with 1 client and with 8, three runs each. The server is
a ``redis-server`` started here on a free loopback port without persistence (stopped
afterwards), else ``$DATATIER_BENCH_REDIS_URL``, else ``redis://127.0.0.1:6379``.
A missing binary or server makes the rows *skipped*, with the reason.
"""

from __future__ import annotations

import csv
import io
import os
import resource
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from bench._probe import process_cpu_ns
from bench._results import Measurement, Spread, WorkloadResult
from bench._timing import Stats
from bench.workloads import RunConfig

NAME = "limits.redis_get"
REDIS_URL_ENV = "DATATIER_BENCH_REDIS_URL"
LOCAL_REDIS = "redis://127.0.0.1:6379"
CLIENTS = (1, 8)
REQUESTS = 100_000
QUICK_REQUESTS = 2_000
ROUNDS = 3
SUBJECT = "redis-benchmark"


@contextmanager
def redis_server() -> Iterator[tuple[str, int | None, str]]:
    """(host:port URL, server pid if known, origin): a private redis-server, else a configured one."""
    binary = shutil.which("redis-server")
    if binary is not None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
             "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            if _wait_for(port):
                yield f"redis://127.0.0.1:{port}", process.pid, "private redis-server"
                return
        finally:
            process.terminate()
            process.wait(timeout=10)
    url = os.environ.get(REDIS_URL_ENV) or LOCAL_REDIS
    yield url, None, f"${REDIS_URL_ENV}" if os.environ.get(REDIS_URL_ENV) else "local server"


def _wait_for(port: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def run(config: RunConfig) -> WorkloadResult:
    """redis-benchmark GET with 1 and 8 clients, three runs each."""
    requests = QUICK_REQUESTS if config.quick else REQUESTS
    params: dict[str, object] = {"requests": requests, "rounds": ROUNDS, "clients": list(CLIENTS)}
    description = "GET of one key by redis-benchmark: the cache tier's physical limit."
    binary = shutil.which("redis-benchmark")
    if binary is None:
        skipped = [
            Measurement(SUBJECT, f"GET, {c} clients", skipped="redis-benchmark is not on PATH")
            for c in CLIENTS
        ]
        return WorkloadResult(NAME, description, params, skipped)
    with redis_server() as (url, pid, origin):
        params["server"] = origin
        params["redis_version"] = _version(shutil.which("redis-server") or binary)
        measurements = [_measure(binary, url, pid, clients, requests) for clients in CLIENTS]
    return WorkloadResult(NAME, description, params, measurements)


def _version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _measure(binary: str, url: str, pid: int | None, clients: int, requests: int) -> Measurement:
    operation = f"GET, {clients} client{'s' if clients > 1 else ''}"
    parts = urlsplit(url)
    command = [binary, "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379),
               "-t", "get", "-n", str(requests), "-c", str(clients), "--csv"]  # fmt: skip
    rows: list[dict[str, str]] = []
    cpu: list[float] = []
    server_cpu: list[float] = []
    for _round in range(ROUNDS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_before = _cpu_ns(pid)
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_after = _cpu_ns(pid)
        parsed = list(csv.DictReader(io.StringIO(done.stdout)))
        if done.returncode != 0 or not parsed:
            reason = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
            return Measurement(SUBJECT, operation, skipped=f"redis-benchmark: {reason[-1]}")
        rows.append(parsed[0])
        spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        cpu.append(spent / requests * 1e6)
        if server_before is not None and server_after is not None:
            spent_server = (server_after - server_before) / 1e9
            server_cpu.append(spent_server / requests * 1e6)
    throughput = Spread.of([float(r["rps"]) for r in rows])

    def median_of(key: str) -> float:
        return Spread.of([float(r[key]) for r in rows]).median

    stats = Stats(
        reps=requests * ROUNDS,
        min_ms=min(float(r["min_latency_ms"]) for r in rows),
        median_ms=median_of("p50_latency_ms"),
        p95_ms=median_of("p95_latency_ms"),
        max_ms=max(float(r["max_latency_ms"]) for r in rows),
        p99_ms=median_of("p99_latency_ms"),
    )
    return Measurement(
        SUBJECT, operation, stats, calls_per_s=throughput.median, throughput=throughput,
        client_cpu_us=Spread.of(cpu).median,
        server_cpu_us=Spread.of(server_cpu).median if server_cpu else None,
        rounds=ROUNDS, concurrency=clients,
        note="latencies are redis-benchmark's own percentiles (median over the runs)",
    )  # fmt: skip


def _cpu_ns(pid: int | None) -> int | None:
    return None if pid is None else process_cpu_ns(pid)
