"""Workloads ``client.*``: datatier's client reads on PostgreSQL, side by side with raw asyncpg and ORMs.

All three share one database per run (``bench.datagen.blog_db``). Each subject opens
its own connections, answers once for a result-equality check against datatier, warms
up, and then every subject makes N sequential awaited calls on one event loop,
interleaved in blocks (``bench._calls``), each call timed on its own. The ratio that
has a target is datatier over raw asyncpg with prepared statements on one connection:
the floor, what no client can beat.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from typing import Any

from bench._calls import Call, calls_per_second, time_interleaved
from bench._results import Check, Measurement, Ratio, WorkloadResult, ratio
from bench._timing import Stats
from bench.datagen.blog_db import SCHEMA_PATH, BlogDatabase, ServerUnavailable, blog_database
from bench.datagen.blog_gen import BlogSize
from bench.peers.asyncpg_raw import PoolPeer, PreparedPeer
from bench.peers.blog import FIND_MANY, FIND_UNIQUE, NESTED, BlogPeer
from bench.peers.datatier_client import DatatierPeer
from bench.workloads import RunConfig, Workload

CALLS = 2_000
QUICK_CALLS = 50

DATATIER = "datatier Client"
FLOOR = "asyncpg prepared, one connection"
PEER_PACKAGES = ("asyncpg", "sqlalchemy", "greenlet", "tortoise-orm", "orjson")


@dataclass(frozen=True)
class ClientWorkload:
    """One read, the same for every subject: its name, which call, and datatier's target over the floor."""

    name: str
    read: str  # FIND_UNIQUE, FIND_MANY or NESTED
    description: str
    target: float

    def call(self, peer: BlogPeer) -> Call:
        """``peer``'s call for this read, taking the rotating argument (a post id)."""
        if self.read == FIND_UNIQUE:
            return peer.find_unique
        method: Callable[[], Awaitable[object]] = getattr(peer, self.read)
        return lambda _arg: method()


FIND_UNIQUE_WORKLOAD = ClientWorkload(
    "client.find_unique",
    FIND_UNIQUE,
    "One post by its int id (rotating over existing ids), every scalar field.",
    1.3,
)
FIND_MANY_WORKLOAD = ClientWorkload(
    "client.find_many_1000",
    FIND_MANY,
    "The 1,000 latest posts (ORDER BY createdAt DESC LIMIT 1000), every scalar field.",
    1.5,
)
NESTED_WORKLOAD = ClientWorkload(
    "client.nested",
    NESTED,
    "20 users by email, each with their 10 latest posts (id, title) and each post's comment count.",
    1.3,
)


async def _open_subjects(url: str) -> list[tuple[str, BlogPeer | str]]:
    """Every subject's key and its opened peer, or the reason it could not be opened."""
    from bench.peers.sqlalchemy_orm import SqlalchemyPeer
    from bench.peers.tortoise_orm import TortoisePeer

    openers: list[tuple[str, Callable[[], Awaitable[BlogPeer]]]] = [
        (DATATIER, partial(DatatierPeer.open, SCHEMA_PATH, url)),
        (FLOOR, partial(PreparedPeer.open, url)),
        ("asyncpg pool", partial(PoolPeer.open, url)),
        ("sqlalchemy ORM, AsyncSession", partial(SqlalchemyPeer.open, url)),
        ("tortoise ORM", partial(TortoisePeer.open, url)),
    ]
    opened: list[tuple[str, BlogPeer | str]] = []
    for key, opener in openers:
        try:
            opened.append((key, await opener()))
        except Exception as exc:
            opened.append((key, f"{type(exc).__name__}: {exc}"))
    return opened


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


async def _measure(
    workload: ClientWorkload, url: str, args: list[int], check_args: list[int], config: RunConfig
) -> tuple[list[Measurement], list[Check], str | None]:
    subjects = await _open_subjects(url)
    try:
        peers = {key: peer for key, peer in subjects if not isinstance(peer, str)}
        skipped = {key: peer for key, peer in subjects if isinstance(peer, str)}
        if DATATIER not in peers or FLOOR not in peers:
            reason = skipped.get(DATATIER) or skipped.get(FLOOR)
            return [], [], f"cannot compare without datatier and the floor: {reason}"
        checks: list[Check] = []
        ours = peers[DATATIER]
        expected = [ours.plain(workload.read, await workload.call(ours)(a)) for a in check_args]
        for key, peer in list(peers.items()):
            if peer is ours:
                continue
            got = [peer.plain(workload.read, await workload.call(peer)(a)) for a in check_args]
            difference = first_difference(expected, got)
            checks.append(Check(f"same results as {key}", difference is None, difference or ""))
            if difference is not None:
                if key == FLOOR:
                    return [], checks, f"datatier's results differ from {key}'s: {difference}"
                skipped[key] = f"results differ from datatier's: {difference}"
                del peers[key]
        timed = list(peers.items())
        samples = await time_interleaved(
            [workload.call(peer) for _, peer in timed],
            args,
            warmup=10 if config.quick else 100,
            block=10 if config.quick else 100,
        )
        measurements = [
            Measurement(
                peer.subject, peer.operation, Stats.from_ns(s), calls_per_s=calls_per_second(s)
            )
            for (_, peer), s in zip(timed, samples, strict=True)
        ]
        for key, reason in skipped.items():
            subject, _, operation = key.partition(" ")
            measurements.append(Measurement(subject, operation, skipped=reason))
        return measurements, checks, None
    finally:
        for _, opened in subjects:
            if not isinstance(opened, str):
                await opened.close()


def _run(workload: ClientWorkload, config: RunConfig) -> WorkloadResult:
    size = BlogSize.for_mode(config.quick)
    calls = QUICK_CALLS if config.quick else CALLS
    params: dict[str, Any] = {
        "calls": calls,
        "rows": {"users": size.users, "posts": size.posts, "comments": size.comments},
    }
    try:
        database: BlogDatabase = config.resources.get("blog", partial(blog_database, size))
    except ServerUnavailable as exc:
        skipped = [Measurement("datatier", "Client", skipped=str(exc))]
        return WorkloadResult(workload.name, workload.description, params, skipped)
    rng = random.Random(f"{workload.name} {size}")
    post_ids = list(range(1, size.posts + 1))
    args = [rng.choice(post_ids) for _ in range(calls)]
    # A missing id too: every subject must answer "none" alike.
    check_args = [*args[:5], size.posts + 1] if workload.read == FIND_UNIQUE else [0]
    measurements, checks, error = asyncio.run(
        _measure(workload, database.url, args, check_args, config)
    )
    params["peer_versions"] = _versions()
    ratios: list[Ratio] = [
        r
        for r in (
            ratio(measurements, DATATIER, FLOOR, workload.target),
            *(
                ratio(measurements, DATATIER, f"{m.subject} {m.operation}")
                for m in measurements
                if m.subject not in ("datatier",) and f"{m.subject} {m.operation}" != FLOOR
            ),
        )
        if r is not None
    ]
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


WORKLOADS: dict[str, Workload] = {
    w.name: partial(_run, w) for w in (FIND_UNIQUE_WORKLOAD, FIND_MANY_WORKLOAD, NESTED_WORKLOAD)
}
