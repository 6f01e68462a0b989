"""Workloads ``client.*``: datatier's client on PostgreSQL, side by side with raw drivers and ORMs.

Every workload shares one database per run (``bench.datagen.blog_db``). Each subject
opens its own connections and answers once for a result check against datatier (a
subject whose results differ is skipped with the difference; datatier differing from
the floor fails the workload). Then ``bench._rounds`` runs every subject over the same
arguments in interleaved rounds, measuring latency, throughput, CPU time of this
process and of the server's backends, and statements per operation; pgbench runs the
floor's SQL as the physical limit. The ratio with a target is datatier over raw
asyncpg with prepared statements on one connection: the floor, what no client beats.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import resource
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any

import asyncpg

from bench._probe import ServerProbe
from bench._results import Check, Measurement, Ratio, WorkloadResult, ratio, time_per_op
from bench._rounds import Call, peak_memory_async, run_rounds, summarize
from bench._server import PostgresServer, postgres_server
from bench.datagen.blog_db import (
    SCHEMA_PATH,
    WRITER_ID,
    BlogDatabase,
    ServerUnavailable,
    blog_database,
    database_name,
    reset_writes,
)
from bench.datagen.blog_gen import BlogSize
from bench.peers import pgbench
from bench.peers.asyncpg_raw import CONCURRENT, PoolPeer, PreparedPeer
from bench.peers.blog import (
    CREATE_POST,
    FILTER_PAGE,
    FIND_MANY,
    FIND_MANY_50,
    FIND_UNIQUE,
    INCREMENT,
    MIN_VIEWS,
    NESTED,
    UPDATE_POST,
    UPSERT,
    BlogPeer,
    category,
    new_post,
)
from bench.peers.datatier_client import POOL_SIZE, DatatierPeer
from bench.workloads import RunConfig, Workload

DATATIER = "datatier Client"
FLOOR = "asyncpg prepared, one connection"
PEER_PACKAGES = (
    "asyncpg", "psycopg", "psycopg-pool", "sqlalchemy", "greenlet", "tortoise-orm", "piccolo",
    "orjson",
)  # fmt: skip
QUICK_SHARE = 50  # --quick makes 1/50 of the calls (at least MIN_QUICK_CALLS)
MIN_QUICK_CALLS = 8
QUICK_ROUNDS = 3
ROUNDS = 3
# Fields a write sets from the clock or a sequence: they differ between subjects by design.
VOLATILE = frozenset({"id", "createdAt", "updatedAt"})


@dataclass(frozen=True)
class ClientWorkload:
    """One operation, the same for every subject: which, how many calls, datatier's target over the floor."""

    name: str
    op: str  # a BlogPeer operation
    description: str
    calls: int  # per subject and round in a full run
    target: float | None = None
    concurrency: int = 1

    def calls_for(self, quick: bool) -> int:
        """Calls per subject and round: all in a full run, a fiftieth under ``--quick``."""
        return max(MIN_QUICK_CALLS, self.calls // QUICK_SHARE) if quick else self.calls


WORKLOADS_LIST = (
    ClientWorkload(
        "client.find_unique", FIND_UNIQUE,
        "One post by its int id (rotating over existing ids), every scalar field.", 2_000, 1.3,
    ),
    ClientWorkload(
        "client.find_many_50", FIND_MANY_50,
        "The 50 latest posts (ORDER BY createdAt DESC LIMIT 50), every scalar field.", 150, 1.5,
    ),
    ClientWorkload(
        "client.find_many_1000", FIND_MANY,
        "The 1,000 latest posts (ORDER BY createdAt DESC LIMIT 1000), every scalar field.", 40,
        1.5,
    ),
    ClientWorkload(
        "client.filter_page", FILTER_PAGE,
        f"Published posts with at least {MIN_VIEWS} views, newest published first: the page of "
        "20 after a cursor (rotating over posts that pass the filter).", 300, 1.3,
    ),
    ClientWorkload(
        "client.nested", NESTED,
        "20 users by email, each with their 10 latest posts (id, title) and each post's "
        "comment count.", 300, 1.3,
    ),
    ClientWorkload(
        "client.create_post", CREATE_POST,
        "Create a post with 3 tags (connect) and 2 comments (create) in one transaction.", 500,
        1.5,
    ),
    ClientWorkload(
        "client.update", UPDATE_POST,
        "Update a post's title and views by id (rotating over 100 posts), returning the post.",
        1_000, 1.3,
    ),
    ClientWorkload(
        "client.upsert", UPSERT,
        "Upsert a category by its unique slug: half the calls update one of 100 existing slugs, "
        "half create a new one.", 1_000, 1.3,
    ),
    ClientWorkload(
        "client.increment_contended", INCREMENT,
        f"Increment one post's views by 1, from {CONCURRENT} concurrent clients on the same row "
        "(returning the new count).", 1_000, 1.5, concurrency=CONCURRENT,
    ),
)  # fmt: skip


def blog_for(config: RunConfig) -> tuple[PostgresServer, BlogDatabase]:
    """The run's server and its blog database (made once per run, shared by every workload)."""
    server = config.resources.get("postgres", postgres_server)
    size = BlogSize.for_mode(config.quick)
    database = config.resources.get("blog", partial(blog_database, size, server))
    return server, database


def _openers(url: str) -> list[tuple[str, Callable[[], Awaitable[BlogPeer]]]]:
    from bench.peers.piccolo_orm import PiccoloPeer
    from bench.peers.psycopg_async import PsycopgPeer
    from bench.peers.sqlalchemy_core import SqlalchemyCorePeer
    from bench.peers.sqlalchemy_orm import SqlalchemyPeer
    from bench.peers.tortoise_orm import TortoisePeer

    return [
        (DATATIER, partial(DatatierPeer.open, SCHEMA_PATH, url)),
        (FLOOR, partial(PreparedPeer.open, url)),
        ("asyncpg pool", partial(PoolPeer.open, url)),
        ("psycopg async pool", partial(PsycopgPeer.open, url)),
        ("sqlalchemy Core, async", partial(SqlalchemyCorePeer.open, url)),
        ("sqlalchemy ORM, AsyncSession", partial(SqlalchemyPeer.open, url)),
        ("tortoise ORM", partial(TortoisePeer.open, url)),
        ("piccolo ORM", partial(PiccoloPeer.open, url)),
    ]


async def _open_subjects(url: str) -> list[tuple[str, BlogPeer | str]]:
    """Every subject's key and its opened peer, or the reason it could not be opened."""
    opened: list[tuple[str, BlogPeer | str]] = []
    for key, opener in _openers(url):
        try:
            opened.append((key, await opener()))
        except Exception as exc:
            opened.append((key, f"{type(exc).__name__}: {exc}"))
    return opened


@contextmanager
def _subjects(runner: asyncio.Runner, url: str) -> Iterator[list[tuple[str, BlogPeer | str]]]:
    """Every subject opened once for the run on ``runner``'s event loop, closed at its end."""
    subjects = runner.run(_open_subjects(url))
    try:
        yield subjects
    finally:
        runner.run(_close(subjects))


async def _close(subjects: list[tuple[str, BlogPeer | str]]) -> None:
    for _, opened in subjects:
        if not isinstance(opened, str):
            await opened.close()


def first_difference(ours: Any, theirs: Any, path: str = "") -> str | None:
    """Where ``theirs`` first differs from ``ours`` (a path and both values), None when equal."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.keys() != theirs.keys():
            return f"{path or 'result'}: keys {sorted(ours)} != {sorted(theirs)}"
        for key in ours:
            if found := first_difference(ours[key], theirs[key], f"{path}.{key}"):
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path or 'result'}: {len(ours)} items != {len(theirs)}"
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            if found := first_difference(a, b, f"{path}[{index}]"):
                return found
        return None
    if type(ours) is not type(theirs) or ours != theirs:
        return f"{path or 'result'}: {ours!r} != {theirs!r}"
    return None


def _stable(value: Any) -> Any:
    """A write's result without the fields that differ between subjects by design."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in VOLATILE}
    return value


def _call(peer: BlogPeer, op: str) -> Call:
    method: Call = getattr(peer, op)
    return method


class _Session:
    """One workload's subjects on one database, with a plain connection for checking state."""

    def __init__(self, workload: ClientWorkload, database: BlogDatabase, quick: bool) -> None:
        self.workload = workload
        self.database = database
        self.quick = quick
        self.checks: list[Check] = []
        self.skipped: dict[str, str] = {}
        self.checker: asyncpg.Connection | None = None

    async def expect(self, peers: dict[str, BlogPeer], args: list[int]) -> str | None:
        """Compare every subject's results with datatier's; drop those that differ (error if the floor)."""
        op = self.workload.op
        if op == INCREMENT:
            return await self._expect_increments(peers)
        if op == UPSERT:
            return await self._expect_upserts(peers, args[0])
        ours = peers[DATATIER]
        expected = [_stable(ours.plain(op, await _call(ours, op)(a))) for a in args]
        for key, peer in list(peers.items()):
            if peer is ours:
                continue
            try:
                got = [_stable(peer.plain(op, await _call(peer, op)(a))) for a in args]
                difference = first_difference(expected, got)
                if difference is None and op == CREATE_POST:
                    difference = await self._created_state(peer, args[0])
            except Exception as exc:  # a peer that fails is skipped, with what it raised
                difference = f"raised {type(exc).__name__}: {exc}"
            if (error := self._record(key, peers, difference)) is not None:
                return error
        if op == CREATE_POST:
            difference = await self._created_state(ours, args[0])
            return None if difference is None else f"datatier's created post: {difference}"
        return None

    async def _expect_upserts(self, peers: dict[str, BlogPeer], first: int) -> str | None:
        """Each subject upserts a new slug twice: created, then updated, one row, both results right."""
        assert self.checker is not None
        for index, (key, peer) in enumerate(list(peers.items())):
            k = first + index
            name, slug = category(k)
            want = [{"name": name, "slug": slug, "parentId": None}] * 2
            try:
                got = [_stable(peer.plain(UPSERT, await _call(peer, UPSERT)(k))) for _ in range(2)]
            except Exception as exc:
                if key == DATATIER:
                    raise
                got = [f"raised {type(exc).__name__}: {exc}"]
            difference = first_difference(want, got)
            rows = await self.checker.fetchval(
                'SELECT count(*) FROM "Category" WHERE "slug" = $1', slug
            )
            if difference is None and rows != 1:
                difference = f"{rows} rows with slug {slug} after two upserts"
            if key == DATATIER:
                if difference is not None:
                    return f"datatier: {difference}"
            elif (error := self._record(key, peers, difference)) is not None:
                return error
        return None

    def _record(self, key: str, peers: dict[str, BlogPeer], difference: str | None) -> str | None:
        self.checks.append(Check(f"same results as {key}", difference is None, difference or ""))
        if difference is None:
            return None
        if key == FLOOR:
            return f"datatier's results differ from {key}'s: {difference}"
        self.skipped[key] = f"results differ from datatier's: {difference}"
        del peers[key]
        return None

    async def _created_state(self, peer: BlogPeer, n: int) -> str | None:
        """The post ``peer`` just created for ``n`` has exactly the wanted tags and comments."""
        assert self.checker is not None
        result = peer.plain(CREATE_POST, await _call(peer, CREATE_POST)(n))
        post_id = result["id"] if isinstance(result, dict) else None
        if post_id is None:
            return f"create_post returned {result!r}, not a post"
        tags = await self.checker.fetch(
            'SELECT "B" FROM "_PostToTag" WHERE "A" = $1 ORDER BY 1', post_id
        )
        comments = await self.checker.fetch(
            'SELECT "content", "authorId" FROM "Comment" WHERE "postId" = $1 ORDER BY 1', post_id
        )
        post = new_post(n)
        want = {
            "tags": list(post.tags),
            "comments": [[c, WRITER_ID] for c in sorted(post.comments)],
        }
        got = {"tags": [r[0] for r in tags], "comments": [list(r) for r in comments]}
        return first_difference(want, got)

    async def _expect_increments(self, peers: dict[str, BlogPeer]) -> str | None:
        """Each subject's concurrent increments all count: none lost, none doubled."""
        assert self.checker is not None
        hot = self.database.write_post_ids[0]
        for key, peer in list(peers.items()):
            before = await self.checker.fetchval('SELECT "views" FROM "Post" WHERE "id" = $1', hot)
            increments = 4 * CONCURRENT
            difference = None
            try:
                await run_rounds([_call(peer, INCREMENT)], [hot] * increments, rounds=1, warmup=0,
                                 concurrency=CONCURRENT)  # fmt: skip
            except Exception as exc:
                if key == DATATIER:
                    raise
                difference = f"raised {type(exc).__name__}: {exc}"
            after = await self.checker.fetchval('SELECT "views" FROM "Post" WHERE "id" = $1', hot)
            if difference is None and after - before != increments:
                difference = f"{increments} concurrent increments raised views by {after - before}"
            if key != DATATIER and (error := self._record(key, peers, difference)) is not None:
                return error
            if key == DATATIER and difference is not None:
                return f"datatier: {difference}"
        return None


def _args(
    workload: ClientWorkload, database: BlogDatabase, cursors: list[int], calls: int
) -> tuple[list[int], list[int]]:
    """The timed calls' arguments and the result check's, the same for every subject."""
    rng = random.Random(f"{workload.name} {database.size}")
    op, size = workload.op, database.size
    if op == FIND_UNIQUE:
        args = [rng.randint(1, size.posts) for _ in range(calls)]
        return args, [*args[:5], size.posts + 1]  # a missing id too: every subject says none
    if op == FILTER_PAGE:
        return [rng.choice(cursors) for _ in range(calls)], cursors[:3]
    if op == CREATE_POST:
        return list(range(calls)), [calls + 1]
    if op == UPDATE_POST:
        ids = database.write_post_ids[1:]
        return [rng.choice(ids) for _ in range(calls)], list(ids[:3])
    if op == UPSERT:
        # Even calls update one of 100 slugs (created in the first round), odd ones create a
        # new slug: -1 stands for "the next fresh k" of the calling subject.
        return [i // 2 % 100 if i % 2 == 0 else -1 for i in range(calls)], [10**6]
    if op == INCREMENT:
        return [database.write_post_ids[0]] * calls, []
    return [0] * calls, [0]


def _timed_call(peer: BlogPeer, op: str, index: int) -> Call:
    call = _call(peer, op)
    if op != UPSERT:
        return call
    fresh = itertools.count(10**7 * (index + 1))

    async def upsert(k: int) -> object:
        return await call(k if k >= 0 else next(fresh))

    return upsert


async def _measure(
    workload: ClientWorkload,
    server: PostgresServer,
    database: BlogDatabase,
    subjects: list[tuple[str, BlogPeer | str]],
    config: RunConfig,
) -> tuple[list[Measurement], list[Check], str | None]:
    url = database.url
    if workload.op in (CREATE_POST, UPDATE_POST, UPSERT, INCREMENT):
        database = BlogDatabase(url, database.size, database.load_seconds, database.reused,
                                await reset_writes(url))  # fmt: skip
    session = _Session(workload, database, config.quick)
    session.checker = await asyncpg.connect(url)
    cursors = [
        r[0]
        for r in await session.checker.fetch(
            'SELECT "id" FROM "Post" WHERE "status" = \'PUBLISHED\' AND "views" >= $1 ORDER BY 1',
            MIN_VIEWS,
        )
    ]
    calls = workload.calls_for(config.quick)
    args, check_args = _args(workload, database, cursors, calls)
    probe = await ServerProbe.open(
        server.url, database_name(database.size),
        statements=server.counts_statements, cpu=server.local_backends,
    )  # fmt: skip
    try:
        peers = {key: peer for key, peer in subjects if not isinstance(peer, str)}
        session.skipped = {key: peer for key, peer in subjects if isinstance(peer, str)}
        for key, peer in list(peers.items()):
            if not hasattr(peer, workload.op):
                session.skipped[key] = f"{key} cannot express {workload.op}"
                del peers[key]
        if DATATIER not in peers or FLOOR not in peers:
            reason = session.skipped.get(DATATIER) or session.skipped.get(FLOOR)
            return [], [], f"cannot compare without datatier and the floor: {reason}"
        error = await session.expect(peers, check_args)
        if error is not None:
            return [], session.checks, error
        timed = list(peers.items())
        calls_ = [_timed_call(peer, workload.op, i) for i, (_, peer) in enumerate(timed)]
        runs = await run_rounds(
            calls_, args,
            rounds=QUICK_ROUNDS if config.quick else ROUNDS,
            warmup=2 if config.quick else max(20, calls // 10),
            concurrency=workload.concurrency, probe=probe,
        )  # fmt: skip
        measurements = []
        for (_key, peer), call, run in zip(timed, calls_, runs, strict=True):
            memory = await peak_memory_async(call, args[0])
            measurements.append(
                summarize(
                    peer.subject,
                    peer.operation,
                    run,
                    concurrency=workload.concurrency,
                    peak_memory_bytes=memory,
                )
            )
        for key, reason in session.skipped.items():
            subject, _, operation = key.partition(" ")
            measurements.append(Measurement(subject, operation, skipped=reason))
        limit = await pgbench.measure(workload.op, server, database, calls, probe)
        measurements.append(limit)
        return measurements, session.checks, None
    finally:
        await probe.close()
        await session.checker.close()
        if workload.op in (CREATE_POST, UPDATE_POST, UPSERT, INCREMENT):
            await reset_writes(url)


def headline_ratios(
    measurements: list[Measurement], target: float | None, floor: str = FLOOR
) -> list[Ratio]:
    """datatier over the floor (with the target), over the best peer, over each peer, and the limit's."""
    measured = [m for m in measurements if m.stats is not None]
    keys = {f"{m.subject} {m.operation}": m for m in measured}
    peers = [k for k, m in keys.items() if k not in (DATATIER, floor) and m.subject != "pgbench"]
    best = min(peers, key=lambda k: time_per_op(keys[k]), default=None)
    limit = next((k for k, m in keys.items() if m.subject == "pgbench"), None)
    found = [
        ratio(measurements, DATATIER, floor, target, "floor"),
        ratio(measurements, DATATIER, best, kind="best peer") if best else None,
        *(ratio(measurements, DATATIER, k) for k in peers if k != best),
        ratio(measurements, floor, limit, kind="limit") if limit else None,
    ]
    return [r for r in found if r is not None]


def _run(workload: ClientWorkload, config: RunConfig) -> WorkloadResult:
    size = BlogSize.for_mode(config.quick)
    params: dict[str, Any] = {
        "calls": workload.calls_for(config.quick),
        "rounds": QUICK_ROUNDS if config.quick else ROUNDS,
        "concurrency": workload.concurrency,
        "rows": {"users": size.users, "posts": size.posts, "comments": size.comments},
    }
    try:
        server, database = blog_for(config)
    except ServerUnavailable as exc:
        skipped = [Measurement("datatier", "Client", skipped=str(exc))]
        return WorkloadResult(workload.name, workload.description, params, skipped)
    runner = config.resources.get("event loop", asyncio.Runner)
    subjects = config.resources.get("client subjects", partial(_subjects, runner, database.url))
    measurements, checks, error = runner.run(_measure(workload, server, database, subjects, config))
    params["peer_versions"] = _versions()
    params["pool_size"] = POOL_SIZE
    params["server"] = server.describe()
    params["process_peak_rss_mib"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    ratios = headline_ratios(measurements, workload.target)
    return WorkloadResult(
        workload.name, workload.description, params, measurements, ratios, checks, error
    )


def _versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in PEER_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


WORKLOADS: dict[str, Workload] = {w.name: partial(_run, w) for w in WORKLOADS_LIST}
