"""Workloads ``cache.*``: datatier's client answering ``find_unique`` from its cache, against the same call without it.

- ``cache.memory``: ``db.post.find_unique(where={"id": i})`` on a client with the memory
  tier only (``Client(cache={"memory": True})``), every id read once before the rounds so
  every timed call is a hit; against the same call on a client without a cache (one
  statement on PostgreSQL each) and the floor's prepared statement on one connection.
- ``cache.redis``: the same on a client with the Redis tier only
  (``cache={"memory": False, "redis": URL}``): each hit is a Redis GET and a msgpack
  decode; against a raw redis-py (asyncio, hiredis) GET of a value of the same size, the
  round trip any Redis cache pays, and the uncached client. ``limits.redis_get``
  (redis-benchmark) is Redis's own limit in the same run.

Subjects run sequentially in interleaved rounds (``bench._rounds``) on the run's event
loop; the ids rotate over ``DISTINCT`` posts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bench._probe import ServerProbe
from bench._results import Check, Measurement, WorkloadResult, ratio
from bench._rounds import run_rounds, summarize
from bench.datagen.blog_db import SCHEMA_PATH, ServerUnavailable, database_name
from bench.peers.asyncpg_raw import PreparedPeer
from bench.workloads import RunConfig, Workload
from bench.workloads.client import blog_for
from bench.workloads.limits import redis_server

DISTINCT = 200  # ids read: all fit every tier, so every timed call is a hit
CALLS = 5_000
QUICK_CALLS = 300
ROUNDS = 3
CACHED = "datatier Client"
UNCACHED = "datatier Client, no cache"
FLOOR = "asyncpg prepared, one connection"
RAW_GET = "redis-py GET (asyncio, hiredis)"


async def _open_client(url: str, cache: Any) -> Any:
    from datatier import Client

    client = (
        Client(SCHEMA_PATH, url, pool_size=10, cache=cache) if cache else Client(SCHEMA_PATH, url)
    )
    await client.connect()
    return client


async def _measure(
    tier: str, config: RunConfig, redis_url: str
) -> tuple[list[Measurement], list[Check]]:
    server, database = blog_for(config)
    calls = QUICK_CALLS if config.quick else CALLS
    ids = [1 + (i * 7919) % database.size.posts for i in range(DISTINCT)]
    args = [ids[i % DISTINCT] for i in range(calls)]
    cache = {"memory": True} if tier == "memory" else {"memory": False, "redis": redis_url}
    cached = await _open_client(database.url, cache)
    plain = await _open_client(database.url, None)
    opened: list[Callable[[], Awaitable[None]]] = [cached.close, plain.close]
    subjects: list[tuple[str, str, Callable[[int], Awaitable[object]]]] = [
        (
            CACHED,
            f"find_unique, {tier} tier hit",
            lambda i: cached.post.find_unique(where={"id": i}),
        ),
        (UNCACHED, "find_unique, PostgreSQL", lambda i: plain.post.find_unique(where={"id": i})),
    ]
    checks = []
    try:
        if tier == "memory":
            floor = await PreparedPeer.open(database.url)
            opened.append(floor.close)
            subjects.append((FLOOR, "find_unique", floor.find_unique))
        else:
            import redis.asyncio as aioredis

            from datatier.cache._codec import pack

            # What a user writes: from_url's defaults, parsing with hiredis when installed
            # (as it is for datatier's own client, both sides reading replies the same way).
            raw = aioredis.Redis.from_url(redis_url)
            opened.append(raw.aclose)
            checks.append(_hiredis_check(raw))
            value = pack(await plain.post.find_unique(where={"id": ids[0]}))
            await raw.set("datatier-bench:raw-get", value)
            subjects.append(
                (RAW_GET, f"GET of {len(value)} bytes", lambda i: raw.get("datatier-bench:raw-get"))
            )
        for post_id in ids[:5]:
            got, want = (
                await cached.post.find_unique(where={"id": post_id}),
                await plain.post.find_unique(where={"id": post_id}),
            )
            if got != want:
                checks.append(
                    Check(
                        "cached answer equals the database's",
                        False,
                        f"id {post_id}: {got} != {want}",
                    )
                )
                break
        else:
            checks.append(Check("cached answer equals the database's", True))
        probe = await ServerProbe.open(
            server.url,
            database_name(database.size),
            statements=server.counts_statements,
            cpu=server.local_backends,
        )
        try:
            runs = await run_rounds(
                [call for _, _, call in subjects],
                args,
                rounds=1 if config.quick else ROUNDS,
                warmup=DISTINCT,
                probe=probe,
            )
        finally:
            await probe.close()
        measurements = [
            summarize(subject, operation, run)
            for (subject, operation, _), run in zip(subjects, runs, strict=True)
        ]
        hits = measurements[0].statements_per_op
        if hits is not None:
            checks.append(
                Check(
                    f"{tier} tier hits run no SQL", hits < 0.05, f"{hits:.3f} statements per call"
                )
            )
        return measurements, checks
    finally:
        for close in reversed(opened):
            await close()


def _hiredis_check(raw: Any) -> Check:
    """Whether the raw GET's connections parse replies with hiredis."""
    parser = raw.connection_pool.connection_kwargs.get("parser_class")
    if parser is None:
        from redis.asyncio.connection import DefaultParser

        parser = DefaultParser
    name = parser.__name__
    return Check("the raw GET parses with hiredis", "Hiredis" in name, name)


def _run(tier: str, config: RunConfig) -> WorkloadResult:
    name = f"cache.{tier}"
    description = (
        f"db.post.find_unique(where={{'id': i}}) answered from the {tier} tier of datatier's cache "
        f"(every id read once first), against the same call without a cache"
        + (
            " and the floor's prepared statement."
            if tier == "memory"
            else " and a raw redis-py GET."
        )
    )
    params: dict[str, Any] = {
        "distinct ids": DISTINCT,
        "calls": QUICK_CALLS if config.quick else CALLS,
    }
    try:
        blog_for(config)
    except ServerUnavailable as exc:
        return WorkloadResult(
            name, description, params, [Measurement(CACHED, tier, skipped=str(exc))]
        )
    redis_url, _, origin = config.resources.get("redis", redis_server)
    params["redis"] = origin
    runner = config.resources.get("event loop", asyncio.Runner)
    measurements, checks = runner.run(_measure(tier, config, redis_url))
    cached = f"{measurements[0].subject} {measurements[0].operation}"
    others = [f"{m.subject} {m.operation}" for m in measurements[1:]]
    ratios = [r for r in (ratio(measurements, cached, other) for other in others) if r is not None]
    return WorkloadResult(name, description, params, measurements, ratios, checks)


def _memory(config: RunConfig) -> WorkloadResult:
    return _run("memory", config)


def _redis(config: RunConfig) -> WorkloadResult:
    return _run("redis", config)


WORKLOADS: dict[str, Workload] = {"cache.memory": _memory, "cache.redis": _redis}
