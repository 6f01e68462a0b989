"""Workloads ``http.*``: the same endpoints on every HTTP peer, loaded from a separate process.

Every peer runs as its own server process on loopback against the run's blog database
(``bench.http.fleet``, started once per run). For each workload each peer first answers
a few requests whose results are compared with the reference peer's (reads) or checked
in the database (writes); a peer that answers wrongly is skipped with the difference.
Then the peers take turns, rounds interleaved with the first peer rotating: a warm-up
run, then ``rounds`` timed runs of ``seconds`` each from the load generator (``wrk``
when installed, else the aiohttp generator process) on N keep-alive connections.
Reported per peer: throughput (median over rounds, with the spread), latency percentiles,
server CPU time per request (``/proc/<pid>/stat`` before and after), the server's peak
RSS, PostgreSQL backend CPU per request, and statements per request where
``pg_stat_statements`` is loaded.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import asyncpg

from bench._probe import ServerProbe, ServerUsage
from bench._results import Check, Measurement, Ratio, Spread, WorkloadResult, ratio, time_per_op
from bench._server import PostgresServer
from bench._timing import Stats
from bench.datagen.blog_db import (
    WRITER_ID,
    BlogDatabase,
    ServerUnavailable,
    database_name,
    reset_writes,
)
from bench.http import contract
from bench.http.answers import ask, on_the_wire
from bench.http.contract import Inputs, PageCursor, Request
from bench.http.fleet import Fleet, fleet, send
from bench.http.graphql import PAGE_CURSORS, cursor_for, graphql_request, ordering_digest
from bench.http.loadgen import LoadResult
from bench.http.peers import DRIZZLE, NOT_REACHABLE, PEERS, POSTGRAPHILE, REFERENCE, Peer
from bench.http.serve import pool_size
from bench.workloads import RunConfig, Workload
from bench.workloads.client import blog_for, first_difference

CONNECTIONS = 16
CONTENDED_CONNECTIONS = 8


@dataclass(frozen=True)
class Timing:
    """How long to load each peer: one warm-up run, then ``rounds`` timed runs."""

    warmup_s: float
    seconds: float
    rounds: int
    distinct: int  # distinct requests per workload (ids, bodies, cursors)

    @classmethod
    def for_mode(cls, quick: bool) -> Timing:
        """Full: 1 s warm-up, 3 rounds of 3 s; ``--quick``: 0.3 s and one round of 0.5 s.

        Eight peers times nine workloads: longer runs would take a full suite past half an hour.
        """
        return cls(0.3, 0.5, 1, 50) if quick else cls(1.0, 3.0, 3, 2000)


@dataclass(frozen=True)
class HttpWorkload:
    """One endpoint under load: the requests it cycles through and how its answers are checked."""

    name: str
    kind: str  # "read", "create", "update", "upsert" or "increment"
    description: str
    requests: Callable[[Inputs, random.Random, int], list[Request]]
    connections: int = CONNECTIONS

    @property
    def short(self) -> str:
        return self.name.removeprefix("http.")


def _by_id(inputs: Inputs, rng: random.Random, n: int) -> list[Request]:
    return [contract.by_id(rng.randint(1, inputs.posts)) for _ in range(n)]


def _pages(inputs: Inputs, rng: random.Random, n: int) -> list[Request]:
    return [contract.page(rng.choice(inputs.pages)) for _ in range(n)]


def _creates(inputs: Inputs, rng: random.Random, n: int) -> list[Request]:
    return [contract.create(rng, inputs, i) for i in range(n)]


def _updates(inputs: Inputs, rng: random.Random, n: int) -> list[Request]:
    return [contract.update(rng.choice(inputs.write_posts), i) for i in range(n)]


def _upserts(inputs: Inputs, rng: random.Random, n: int) -> list[Request]:
    return [contract.upsert(slug) for slug in contract.upsert_slugs(max(4, n // 5))]


WORKLOADS_LIST = (
    HttpWorkload("http.by_id", "read", "GET /posts/{id}: one post by id (rotating).", _by_id),
    HttpWorkload(
        "http.list_50",
        "read",
        "GET /posts?take=50: the 50 latest posts.",
        lambda i, r, n: [contract.latest(50)],
    ),
    HttpWorkload(
        "http.list_1000",
        "read",
        "GET /posts?take=1000: the 1,000 latest posts.",
        lambda i, r, n: [contract.latest(1000)],
    ),
    HttpWorkload(
        "http.page",
        "read",
        f"GET /posts/page: status {contract.PAGE_STATUS} and a category, latest first, the "
        f"{contract.PAGE_TAKE} posts after a cursor post.",
        _pages,
    ),
    HttpWorkload(
        "http.nested",
        "read",
        "GET /users/nested: 20 users by email, each with their 10 latest posts and each "
        "post's comment count (GraphQL on PostGraphile).",
        lambda i, r, n: [contract.nested()],
    ),
    HttpWorkload(
        "http.create",
        "create",
        "POST /posts: a post with 3 tags and 2 comments in one transaction.",
        _creates,
    ),
    HttpWorkload(
        "http.update", "update", "PATCH /posts/{id}: a new title (rotating ids).", _updates
    ),
    HttpWorkload(
        "http.upsert",
        "upsert",
        "PUT /categories/{slug}: upsert a category by its unique slug (new on the first pass "
        "over the slugs, existing after).",
        _upserts,
    ),
    HttpWorkload(
        "http.increment",
        "increment",
        f"POST /posts/{{id}}/views: views + 1 on ONE row (a post of the writer), "
        f"{CONTENDED_CONNECTIONS} concurrent clients.",
        lambda inputs, r, n: [contract.increment(inputs.write_posts[0])],
        connections=CONTENDED_CONNECTIONS,
    ),
)


# --- inputs ------------------------------------------------------------------------------------


async def make_inputs(
    db: asyncpg.Connection, database: BlogDatabase, rng: random.Random, pages: int
) -> Inputs:
    """What the generators need, read from the database; every cursor post has a full page after it."""
    rows = await db.fetch(
        'SELECT "id", "categoryId" FROM "Post" WHERE "status" = $1::"PostStatus" '
        'AND "categoryId" IS NOT NULL AND "id" <= $2 ORDER BY "categoryId", "createdAt" DESC',
        contract.PAGE_STATUS,
        database.size.posts,
    )
    by_category: dict[int, list[int]] = {}
    for row in rows:
        by_category.setdefault(row["categoryId"], []).append(row["id"])
    categories = sorted(c for c, ids in by_category.items() if len(ids) > contract.PAGE_TAKE)
    cursors: list[PageCursor] = []
    for _ in range(pages):
        ids = by_category[category := rng.choice(categories)]
        cursors.append(PageCursor(category, ids[rng.randrange(len(ids) - contract.PAGE_TAKE)]))
    size = database.size
    return Inputs(size.posts, size.tags, tuple(cursors), WRITER_ID, database.write_post_ids)


async def graphql_cursors(ctx: Context, peer: Peer) -> dict[int, str]:
    """PostGraphile's cursor for every cursor post of the inputs (its ordering digest asked once)."""
    server, inputs = ctx.fleet.servers[peer.key], ctx.inputs
    query = {"status": contract.PAGE_STATUS, "category": inputs.pages[0].category_id}
    status, answer = send(server.base_url, graphql_request(PAGE_CURSORS, query))
    if status != 200 or not answer.get("data"):
        raise RuntimeError(f"{peer.name} gave no cursor: {status} {answer}")
    digest = ordering_digest(answer["data"]["allPosts"]["edges"][0]["cursor"])
    rows = await ctx.db.fetch(
        'SELECT "id", "createdAt" FROM "Post" WHERE "id" = any($1::int[])',
        [p.cursor for p in inputs.pages],
    )
    return {row["id"]: cursor_for(digest, row["createdAt"], row["id"]) for row in rows}


# --- checks ------------------------------------------------------------------------------------


@dataclass
class Context:
    """Everything one workload run uses."""

    workload: HttpWorkload
    fleet: Fleet
    inputs: Inputs
    timing: Timing
    db: asyncpg.Connection  # for checks in the database, outside the timed runs
    probe: ServerProbe
    cursors: dict[int, str] = field(default_factory=dict)

    async def views(self) -> int:
        """The contended post's views now."""
        views: int = await self.db.fetchval(
            'SELECT "views" FROM "Post" WHERE "id" = $1', self.inputs.write_posts[0]
        )
        return views


def check_reads(ctx: Context, peers: list[Peer], requests: list[Request]) -> dict[str, str]:
    """Each peer's answers to ``requests`` against the reference's; the peers that differ, and why."""
    reference = next((p for p in peers if p.key == REFERENCE.key), peers[0])
    expected = [ask(ctx.fleet, reference, r, ctx.cursors) for r in requests]
    wrong: dict[str, str] = {}
    for status, answer in expected:
        if status not in (200, 404) or (status == 200 and not answer):
            wrong[reference.key] = f"reference answer {status}: {str(answer)[:200]}"
    for peer in peers:
        if peer is reference:
            continue
        got = [ask(ctx.fleet, peer, r, ctx.cursors) for r in requests]
        if difference := first_difference(expected, got):
            wrong[peer.key] = f"differs from {reference.name}: {difference[:300]}"
    return wrong


async def check_write(ctx: Context, peer: Peer, number: int) -> str | None:
    """One write by ``peer`` checked in the database; None when right, else what is wrong."""
    kind = ctx.workload.kind
    if kind == "create":
        request = contract.create(random.Random(number), ctx.inputs, 900_000 + number)
        status, answer = ask(ctx.fleet, peer, request, ctx.cursors)
        if status != 201 or not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
            return f"create answered {status}: {answer}"
        row = await ctx.db.fetchrow(
            'SELECT p."title", (SELECT count(*) FROM "_PostToTag" WHERE "A" = p."id") AS tags, '
            '(SELECT count(*) FROM "Comment" WHERE "postId" = p."id") AS comments '
            'FROM "Post" AS p WHERE p."id" = $1',
            answer["id"],
        )
        found = None if row is None else (row["title"], row["tags"], row["comments"])
        if found != (request.body["title"], 3, 2):
            return f"post {answer['id']}: (title, tags, comments) = {found}, expected 3 tags, 2 comments"
        return None
    if kind == "update":
        post_id = ctx.inputs.write_posts[number % len(ctx.inputs.write_posts)]
        request = contract.update(post_id, 800_000 + number)
        status, answer = ask(ctx.fleet, peer, request, ctx.cursors)
        expected = {"id": post_id, "title": request.body["title"]}
        if (status, answer) != (200, expected):
            return f"update answered {status}: {answer}, expected {expected}"
        missing = ask(ctx.fleet, peer, contract.update(2**31 - 1, 0), ctx.cursors)
        if missing[0] != 404:
            return f"update of a missing post answered {missing[0]}, expected 404"
        title = await ctx.db.fetchval('SELECT "title" FROM "Post" WHERE "id" = $1', post_id)
        return None if title == expected["title"] else f"title in the database is {title!r}"
    if kind == "upsert":
        slug = f"bench-check-{peer.key}"
        first = ask(ctx.fleet, peer, contract.upsert(slug), ctx.cursors)
        again = ask(ctx.fleet, peer, contract.upsert(slug, f"Again {slug}"), ctx.cursors)
        if first[0] != 200 or again[0] != 200:
            return f"upsert answered {first[0]} then {again[0]}: {first[1]} {again[1]}"
        if first[1].get("slug") != slug or again[1] != {**first[1], "name": f"Again {slug}"}:
            return f"upsert answers {first[1]} then {again[1]}"
        return None
    assert kind == "increment"
    before = await ctx.views()
    status, answer = ask(
        ctx.fleet, peer, contract.increment(ctx.inputs.write_posts[0]), ctx.cursors
    )
    expected = {"id": ctx.inputs.write_posts[0], "views": before + 1}
    if (status, answer) != (200, expected) or await ctx.views() != before + 1:
        return f"increment answered {status}: {answer}, expected {expected}"
    return None


async def _check(ctx: Context, peers: list[Peer], requests: list[Request]) -> dict[str, str]:
    """The peers that answer wrongly, and why: reads against the reference, writes in the database."""
    if ctx.workload.kind == "read":
        probes = requests[:3]
        if ctx.workload.short == "by_id":
            probes.append(contract.by_id(2**31 - 1))  # a missing id: 404 from every peer
        return check_reads(ctx, peers, probes)
    wrong = {}
    for number, peer in enumerate(peers):
        if (why := await check_write(ctx, peer, number)) is not None:
            wrong[peer.key] = why
    return wrong


# --- load --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One timed run: the load generator's numbers, the server's CPU, what PostgreSQL did."""

    load: LoadResult
    server_cpu_s: float
    database: ServerUsage


@dataclass
class PeerRuns:
    """Everything measured of one peer in one workload."""

    peer: Peer
    runs: list[Run] = field(default_factory=list)
    warmup_ok: int = 0
    peak_rss: int | None = None
    views_added: int = 0  # how much the contended row grew during this peer's runs
    sent: int = 0  # requests sent in all its runs, warm-up included


async def _load(ctx: Context, runs: PeerRuns, wire: list[Request], seconds: float) -> LoadResult:
    """One run of the load generator on ``runs.peer``, noting how much the contended row grew.

    When the generator stopped with requests in flight (wrk does), the server still
    works on them: waiting for the slowest request's time lets that work land inside
    the measured window, where it belongs to the requests sent.
    """
    server = ctx.fleet.servers[runs.peer.key]
    counting = ctx.workload.kind == "increment"
    views = await ctx.views() if counting else 0
    load = await asyncio.to_thread(
        ctx.fleet.loadgen.run, server.base_url, wire, ctx.workload.connections, seconds
    )
    if load.sent > load.ok + load.failed:
        await asyncio.sleep(min(10.0, load.max_ms / 1e3))
    runs.sent += load.sent
    if counting:
        runs.views_added += await ctx.views() - views
    return load


async def _timed(ctx: Context, runs: PeerRuns, wire: list[Request], seconds: float) -> Run:
    server = ctx.fleet.servers[runs.peer.key]
    before, cpu = await ctx.probe.sample(), server.cpu_seconds()
    load = await _load(ctx, runs, wire, seconds)
    cpu = server.cpu_seconds() - cpu
    usage = ServerProbe.usage(before, await ctx.probe.sample())
    rss = server.peak_rss_bytes()
    runs.peak_rss = rss if runs.peak_rss is None or rss is None else max(runs.peak_rss, rss)
    return Run(load, cpu, usage)


async def measure(ctx: Context, peers: list[Peer], requests: list[Request]) -> list[PeerRuns]:
    """Interleaved rounds: per round every peer in turn (first rotating), a warm-up before its first."""
    all_runs = [PeerRuns(peer) for peer in peers]
    wires = [[on_the_wire(p, r, ctx.cursors) for r in requests] for p in peers]
    for number in range(ctx.timing.rounds):
        for turn in range(len(peers)):
            index = (number + turn) % len(peers)
            runs, wire = all_runs[index], wires[index]
            if number == 0:
                ctx.fleet.servers[runs.peer.key].reset_peak_rss()
                runs.warmup_ok = (await _load(ctx, runs, wire, ctx.timing.warmup_s)).ok
            runs.runs.append(await _timed(ctx, runs, wire, ctx.timing.seconds))
    return all_runs


def _mib(size: int | None) -> str:
    return "unknown" if size is None else f"{size / 2**20:.0f} MiB"


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def summarize(runs: PeerRuns, connections: int) -> tuple[Measurement, list[Check]]:
    """The peer's measurement and the checks its runs failed (requests that failed).

    Latency percentiles are medians over the runs; throughput is the median with its
    spread; CPU and statements are per request sent, medians over the runs.
    "Client" CPU is the HTTP server process's own (it is PostgreSQL's client), "server"
    CPU is PostgreSQL's backends'.
    """
    loads = [r.load for r in runs.runs]
    ok = sum(load.ok for load in loads)
    stats = Stats(
        reps=ok,
        min_ms=min(load.min_ms for load in loads),
        median_ms=statistics.median(load.p50_ms for load in loads),
        p95_ms=statistics.median(load.p95_ms for load in loads),
        max_ms=max(load.max_ms for load in loads),
        p99_ms=statistics.median(load.p99_ms for load in loads),
    )
    throughput = Spread.of([load.per_second for load in loads])
    # Per request the server got (answered or not, in flight when wrk stopped included).
    per_request = [(r.load.sent, r) for r in runs.runs if r.load.sent]
    db = [(n, r.database) for n, r in per_request]
    measurement = Measurement(
        runs.peer.subject,
        runs.peer.operation,
        stats,
        calls_per_s=throughput.median,
        throughput=throughput,
        client_cpu_us=_median([r.server_cpu_s / n * 1e6 for n, r in per_request]),
        server_cpu_us=_median([u.cpu_s / n * 1e6 for n, u in db if u.cpu_s is not None]),
        statements_per_op=_median([u.statements / n for n, u in db if u.statements is not None]),
        utility_per_op=_median([u.utility / n for n, u in db if u.utility is not None]),
        rounds=len(loads),
        concurrency=connections,
        note=f"server process peak RSS {_mib(runs.peak_rss)}",
    )
    failed = sum(load.failed for load in loads)
    checks = []
    if failed:
        first = next(load.first_failure for load in loads if load.failed)
        checks.append(Check(f"{runs.peer.name}: no failed requests", False, f"{failed}: {first}"))
    return measurement, checks


def _lost_updates(runs: PeerRuns) -> Check:
    """Every answered increment is in the row (none lost under contention), and no more than were sent."""
    answered = runs.warmup_ok + sum(r.load.ok for r in runs.runs)
    passed = answered <= runs.views_added <= runs.sent
    detail = f"{answered} answered, {runs.sent} sent, views grew by {runs.views_added}"
    return Check(f"{runs.peer.name}: no lost updates", passed, detail)


# --- the workload ------------------------------------------------------------------------------


async def _run(
    workload: HttpWorkload,
    running: Fleet,
    server: PostgresServer,
    database: BlogDatabase,
    timing: Timing,
) -> tuple[list[Measurement], list[Check], str | None]:
    writes = workload.kind != "read"
    if writes:
        database = replace(database, write_post_ids=await _reset(database.url))
    rng = random.Random(f"{workload.name} {database.size}")
    skipped: dict[str, str] = {}
    for peer in running.peers:
        if peer.key in running.skipped:
            skipped[peer.key] = running.skipped[peer.key]
        elif workload.short in peer.unsupported:
            skipped[peer.key] = peer.unsupported[workload.short]
    peers = [p for p in running.peers if p.key not in skipped]
    db = await asyncpg.connect(database.url)
    probe = await ServerProbe.open(
        server.url,
        database_name(database.size),
        statements=server.counts_statements,
        cpu=server.local_backends,
    )
    try:
        pages = max(10, timing.distinct // 10)
        inputs = await make_inputs(db, database, random.Random("http pages"), pages)
        ctx = Context(workload, running, inputs, timing, db, probe)
        for peer in peers:
            if peer.graphql and workload.short == "page":
                ctx.cursors = await graphql_cursors(ctx, peer)
        requests = workload.requests(inputs, rng, timing.distinct)
        wrong = await _check(ctx, peers, requests) if peers else {}
        checks = [
            Check(f"{p.name}: right answers", p.key not in wrong, wrong.get(p.key, ""))
            for p in peers
        ]
        skipped |= {key: f"wrong answers: {why}" for key, why in wrong.items()}
        peers = [p for p in peers if p.key not in wrong]
        measured = await measure(ctx, peers, requests) if peers else []
        measurements: list[Measurement] = []
        for runs in measured:
            measurement, failures = summarize(runs, workload.connections)
            measurements.append(measurement)
            checks += failures
            if workload.kind == "increment":
                checks.append(_lost_updates(runs))
        for peer in running.peers:
            if peer.key in skipped:
                measurements.append(
                    Measurement(peer.subject, peer.operation, skipped=skipped[peer.key])
                )
        # Peers that ran but all answered wrongly leave nothing to compare: that is a failure.
        error = (
            f"no peer answered right: {json.dumps(wrong)[:500]}" if wrong and not measured else None
        )
        return measurements, checks, error
    finally:
        await probe.close()
        await db.close()
        if writes:
            await _reset(database.url)


async def _reset(url: str) -> tuple[int, ...]:
    """``reset_writes`` (which deletes the writer's comments without foreign-key triggers)."""
    return await reset_writes(url)


def run_workload(workload: HttpWorkload, config: RunConfig) -> WorkloadResult:
    """Check, then load every peer that can express ``workload``; see the module docstring."""
    timing = Timing.for_mode(config.quick)
    params: dict[str, Any] = {
        "run s": timing.seconds,
        "warm-up s": timing.warmup_s,
        "rounds": timing.rounds,
        "connections": workload.connections,
        "server processes": "one per peer (datatier's REST, RPC and GraphQL entries share one)",
        "database pool per server": pool_size(),
        "client CPU": "the HTTP server process",
        "server CPU": "PostgreSQL's backends",
    }
    try:
        server, database = blog_for(config)
    except ServerUnavailable as exc:
        skipped = [Measurement(p.subject, p.operation, skipped=str(exc)) for p in PEERS]
        return WorkloadResult(workload.name, workload.description, params, skipped)
    running = config.resources.get("http.fleet", partial(fleet, database.url))
    params["load generator"] = running.loadgen.name
    if not running.described:  # the first http workload of the run carries the conditions
        running.described = True
        params["versions"] = {
            peer.subject: ", ".join(f"{k} {v}" for k, v in running.versions[peer.key].items())
            for peer in running.peers
            if running.versions.get(peer.key)
        }
        params["not run"] = NOT_REACHABLE
    measurements, checks, error = asyncio.run(_run(workload, running, server, database, timing))
    return WorkloadResult(
        workload.name,
        workload.description,
        params,
        measurements,
        http_ratios(measurements),
        checks,
        error,
    )


def http_ratios(measurements: list[Measurement]) -> list[Ratio]:
    """datatier's time per request over the others' (1/throughput: the load is concurrent).

    The headline pair is datatier's REST entry (RPC where REST cannot express the
    workload) over the hand-written reference (kind "floor") and over the fastest
    non-datatier peer other than it (kind "best peer"); then every datatier transport
    over the reference, Drizzle and PostGraphile.
    """
    measured = {f"{m.subject} {m.operation}": m for m in measurements if m.stats is not None}
    ours = [p.name for p in PEERS if p.wire is not None and p.name in measured]
    if not ours:
        return []
    main, floor = ours[0], REFERENCE.name
    others = [k for k in measured if k not in ours and k != floor]
    best = min(others, key=lambda k: time_per_op(measured[k]), default=None)
    found = [
        ratio(measurements, main, floor, kind="floor"),
        ratio(measurements, main, best, kind="best peer") if best else None,
    ]
    for name in ours:
        for peer in (floor, DRIZZLE.name, POSTGRAPHILE.name):
            if (name, peer) != (main, floor):
                found.append(ratio(measurements, name, peer))
    return [r for r in found if r is not None]


def _features(config: RunConfig) -> WorkloadResult:
    from bench.workloads.http_features import run

    return run(config)


WORKLOADS: dict[str, Workload] = {w.name: partial(run_workload, w) for w in WORKLOADS_LIST}
WORKLOADS["http.features"] = _features
