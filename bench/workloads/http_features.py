"""Workload ``http.features``: what each optional feature of datatier's API server costs per request.

Two REST reads, ``GET /rest/post/{id}`` (ids rotating) and ``GET /rest/post?take=50&orderBy=-createdAt``,
on datatier's server with everything optional off (the baseline, as in ``http.*``) and
with one feature switched on (``bench.http.datatier_app``: auth with a JWT, a rate limit
in memory and in Redis, metrics, ETags, the access log, gzip compression, and the
client's cache with its memory tier: with it on, the requests are hits, so its row is the HTTP cache hit against
the uncached read). The ids rotate over ``DISTINCT`` posts, which the warm-up reads.
Each feature's server runs beside a baseline server started for the whole workload, and the two take turns in interleaved
rounds, so each feature is compared with a baseline measured at the same time on the
same (shared) machine; only two datatier servers are up at once, which keeps the
PostgreSQL connections of a full run under the cluster's limit.

The cost of a feature is the time per request it adds: 1/throughput of the feature's
server minus that of the baseline measured beside it (µs), and the server process's CPU
per request minus the baseline's (µs): the second is steadier on a busy machine.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

from bench._probe import ServerProbe
from bench._results import Check, Measurement, WorkloadResult
from bench._server import PostgresServer
from bench.datagen.blog_db import BlogDatabase, ServerUnavailable, database_name
from bench.http import contract
from bench.http.datatier_app import ACCESS_LOG_ENV, FEATURE_ENV, FEATURES, REDIS_ENV, bench_token
from bench.http.fleet import LOG_DIR, Fleet
from bench.http.loadgen import open_load_generator
from bench.http.peers import DATATIER, Peer, PeerUnavailable
from bench.http.serve import pool_size
from bench.http.servers import ServerFailed
from bench.workloads import RunConfig
from bench.workloads.client import blog_for
from bench.workloads.http import (
    CONNECTIONS,
    Context,
    HttpWorkload,
    Timing,
    check_reads,
    make_inputs,
    measure,
    summarize,
)
from bench.workloads.limits import redis_server

NAME = "http.features"
DISTINCT = 200
BASELINE = "baseline (all off)"
DESCRIPTION = (
    "datatier's REST reads with one optional feature switched on at a time, each beside a "
    "baseline server with every feature off: req/s and the time per request each adds."
)
LABELS = {
    "auth": "auth (HS256 JWT)",
    "ratelimit-memory": "rate limit (memory)",
    "ratelimit-redis": "rate limit (Redis)",
    "metrics": "metrics",
    "access-log": "access log (JSON lines to a file)",
    "etag": "ETag",
    "compression": "compression (gzip, level 5)",
    "cache": "cache, memory tier (hits)",
}


@dataclass(frozen=True)
class Read:
    """One of the two reads: its label and its requests (in the contract, translated to REST)."""

    label: str
    short: str

    def requests(
        self, inputs: contract.Inputs, rng: random.Random, n: int
    ) -> list[contract.Request]:
        if self.short == "by_id":  # DISTINCT ids: the warm-up reads each, the cache then hits
            ids = [rng.randint(1, inputs.posts) for _ in range(DISTINCT)]
            return [contract.by_id(ids[i % DISTINCT]) for i in range(n)]
        return [contract.latest(50)]


READS = (Read("GET /rest/post/{id}", "by_id"), Read("GET /rest/post?take=50", "list_50"))


def timing_for(quick: bool) -> Timing:
    """Full: 0.5 s warm-up, 3 rounds of 2 s per server; ``--quick``: 0.2 s and one round of 0.3 s."""
    return Timing(0.2, 0.3, 1, 50) if quick else Timing(0.5, 2.0, 3, 2000)


def feature_peer(feature: str | None, env: dict[str, str]) -> Peer:
    """datatier's REST server with ``feature`` on (None: the baseline), as an HTTP peer."""
    if feature is None:
        return Peer(
            "datatier-baseline", "datatier", BASELINE, python_module=DATATIER.python_module,
            python_needs=DATATIER.python_needs, wire="rest",
        )  # fmt: skip
    headers: tuple[tuple[str, str], ...] = ()
    if feature == "auth":
        headers = (("Authorization", f"Bearer {bench_token()}"),)
    elif feature == "compression":
        headers = (("Accept-Encoding", "gzip"),)
    return Peer(
        f"datatier-{feature}",
        "datatier",
        LABELS[feature],
        python_module=DATATIER.python_module,
        python_needs=DATATIER.python_needs,
        wire="rest",
        env={FEATURE_ENV: feature, **env},
        headers=headers,
    )


def beside(label: str) -> str:
    """The operation name of the baseline measured beside the feature ``label``."""
    return f"{BASELINE}, beside {label}"


async def _measure(
    reads: tuple[Read, ...],
    running: Fleet,
    peers: list[Peer],
    server: PostgresServer,
    database: BlogDatabase,
    timing: Timing,
) -> tuple[list[Measurement], list[Check]]:
    """Both reads on the baseline and one feature's server (``peers``), interleaved."""
    db = await asyncpg.connect(database.url)
    probe = await ServerProbe.open(
        server.url,
        database_name(database.size),
        statements=server.counts_statements,
        cpu=server.local_backends,
    )
    feature = peers[1].operation
    measurements: list[Measurement] = []
    checks: list[Check] = []
    try:
        inputs = await make_inputs(db, database, random.Random("http pages"), 10)
        for read in reads:
            workload = HttpWorkload(f"http.{read.short}", "read", read.label, read.requests)
            ctx = Context(workload, running, inputs, timing, db, probe)
            requests = read.requests(inputs, random.Random(f"{NAME} {read.short}"), timing.distinct)
            wrong = check_reads(ctx, peers, requests[:3])
            checks += [
                Check(f"{read.label}, {p.operation}: right answers", p.key not in wrong, wrong.get(p.key, ""))
                for p in peers
            ]  # fmt: skip
            if wrong:
                continue
            for runs in await measure(ctx, peers, requests):
                measurement, failures = summarize(runs, CONNECTIONS)
                operation = runs.peer.operation
                if operation == BASELINE:
                    operation = beside(feature)
                measurements.append(replace(measurement, subject=read.label, operation=operation))
                checks += failures
    finally:
        await probe.close()
        await db.close()
    return measurements, checks


def run(config: RunConfig) -> WorkloadResult:
    """Each feature's server beside the baseline's, both reads, interleaved; see the module docstring."""
    timing = timing_for(config.quick)
    reads = READS[:1] if config.quick else READS  # --quick proves each switch on one read
    params: dict[str, Any] = {
        "run s": timing.seconds,
        "warm-up s": timing.warmup_s,
        "rounds": timing.rounds,
        "connections": CONNECTIONS,
        "database pool per server": pool_size(),
    }
    try:
        server, database = blog_for(config)
    except ServerUnavailable as exc:
        return WorkloadResult(
            NAME, DESCRIPTION, params, [Measurement("datatier", BASELINE, skipped=str(exc))]
        )
    redis_url, _, origin = config.resources.get("redis", redis_server)
    params["redis"] = origin
    env = {REDIS_ENV: redis_url, ACCESS_LOG_ENV: str(LOG_DIR / "datatier-access.jsonl")}
    measurements: list[Measurement] = []
    checks: list[Check] = []
    with ExitStack() as stack:
        loadgen = open_load_generator()
        stack.callback(loadgen.close)
        params["load generator"] = loadgen.name
        baseline = feature_peer(None, env)
        try:
            base_server = baseline.start(database.url, LOG_DIR)
        except (PeerUnavailable, ServerFailed, OSError) as exc:
            skipped = Measurement("datatier", BASELINE, skipped=str(exc))
            return WorkloadResult(NAME, DESCRIPTION, params, [skipped])
        stack.callback(base_server.stop)
        for feature in FEATURES:
            peer = feature_peer(feature, env)
            try:
                feature_server = peer.start(database.url, LOG_DIR)
            except (PeerUnavailable, ServerFailed, OSError) as exc:
                measurements += [
                    Measurement(r.label, peer.operation, skipped=str(exc)) for r in READS
                ]
                continue
            try:
                servers = {baseline.key: base_server, peer.key: feature_server}
                running = Fleet(database.url, [baseline, peer], servers, {}, loadgen, {})
                found, failed = asyncio.run(
                    _measure(reads, running, [baseline, peer], server, database, timing)
                )
            finally:
                feature_server.stop()
            measurements += found
            checks += failed
    return WorkloadResult(NAME, DESCRIPTION, params, measurements, [], checks)
